/**
 * Runs an UploadManager in its own process (storageUploadChild.js) and SIGKILLs it once `killWhen`
 * resolves: how storage tests stage a server that dies mid-upload at a known point.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { UploadJobStatus } from '../../plugin/storage/UploadJob';
import type { EnqueueRequest, UploadManagerOptions } from '../../plugin/storage/UploadManager';

export async function uploadThenKill(
  options: UploadManagerOptions,
  request: EnqueueRequest,
  killWhen: Promise<unknown>,
): Promise<{ job: UploadJobStatus; signal: NodeJS.Signals | null }> {
  const child = fork(path.join(__dirname, 'storageUploadChild.js'), [], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const enqueued = new Promise<UploadJobStatus>((resolve, reject) =>
    child.on('message', (message: { type: string; job?: UploadJobStatus; message?: string }) => {
      if (message.type === 'enqueued') resolve(message.job!);
      if (message.type === 'error') reject(new Error(message.message));
    }),
  );
  child.send({ type: 'start', options, request });
  const job = await enqueued;
  await killWhen;
  child.kill('SIGKILL');
  return { job, signal: await exited };
}
