/**
 * A separate process running an UploadManager, so tests can SIGKILL it mid-upload and prove that a
 * new manager on the same stateDir finishes the job. Driven over the fork IPC channel:
 *   parent → { type: 'start', options: UploadManagerOptions, request: EnqueueRequest }
 *   child  → { type: 'enqueued', job } then { type: 'progress', percent } / { type: 'uploaded' }
 */

import { UploadManager, type EnqueueRequest, type UploadManagerOptions } from '../../plugin/storage/UploadManager';

type StartMessage = { type: 'start'; options: UploadManagerOptions; request: EnqueueRequest };

function send(message: unknown): void {
  process.send?.(message);
}

// Gone with the test that forked it: a fixture left running would hold the test runner's output pipe.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: StartMessage) => {
  if (message?.type !== 'start') return;
  void (async () => {
    const manager = await UploadManager.open(message.options);
    manager.on('progress', (_job, percent) => send({ type: 'progress', percent }));
    manager.on('uploaded', (job) => send({ type: 'uploaded', job }));
    manager.on('uploaderFailure', (job, code, text) => send({ type: 'uploaderFailure', job, code, message: text }));
    const job = await manager.enqueue(message.request);
    send({ type: 'enqueued', job });
  })().catch((error) => {
    send({ type: 'error', message: String(error) });
    process.exit(1);
  });
});
