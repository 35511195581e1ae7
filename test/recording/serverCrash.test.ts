import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import WebSocket from 'ws';
import { publishTestMedia } from '../../scripts/publishRtp';
import { mintToken } from '../../server/auth/token';
import { findProjectRoot } from '../../server/config';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';
import { decodedDurationS, probe } from '../support/mediaProbe';
import { sleep, until } from '../support/recordingServer';
import { TEST_SECRET } from '../support/server';
import { freePort } from '../support/freePort';

/**
 * The real server entry (dist/server/main.js) in its own process, as `npm start` runs it. Its output
 * goes through pipes of this test, never the runner's own: a recorder it forks inherits them, and one
 * that outlived its server would otherwise hold the runner's pipe open.
 */
function startServerProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(findProjectRoot(__dirname), 'dist', 'server', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.pipe(process.stderr, { end: false });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('confrec is running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready: ${out}`)));
  });
}

function stopServerProcess(child: ChildProcess): void {
  child.kill('SIGKILL');
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** True once every process holding the server's output pipes (itself, the recorders it forked) exited. */
async function outputClosed(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const closed = (stream: Readable | null): Promise<void> => {
    if (!stream || stream.closed) return Promise.resolve();
    stream.resume();
    return new Promise((resolve) => stream.once('close', resolve));
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const result = await Promise.race([Promise.all([closed(child.stdout), closed(child.stderr)]).then(() => true), timeout]);
  clearTimeout(timer);
  child.stdout?.destroy();
  child.stderr?.destroy();
  return result;
}

t.test('a server killed mid-recording: the recorder finalizes its file and the restarted server stores it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-crash-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const env = {
    ...process.env,
    LOG_LEVEL: 'warn',
    CONFREC_HTTP_LISTEN_IP: '127.0.0.1',
    CONFREC_HTTP_PORT: String(port),
    CONFREC_AUTH_SECRET: TEST_SECRET,
    CONFREC_MEDIASOUP_NUM_WORKERS: '1',
    CONFREC_RECORDING_STATE_DIR: path.join(dir, 'state'),
    CONFREC_RECORDING_RECORDINGS_DIR: path.join(dir, 'recordings'),
  };
  const first = await startServerProcess(env);
  t.teardown(() => stopServerProcess(first));

  const client = await SignalingClient.connect(`ws://127.0.0.1:${port}/ws`, (url) => new WebSocket(url) as unknown as WebSocketLike);
  const token = mintToken(TEST_SECRET, { appId: 'confrec', channelId: 'crashy', uid: 'host', role: 'host', privileges: { publish: true, record: true }, exp: Math.floor(Date.now() / 1000) + 600 });
  await client.request('join', { channelId: 'crashy', displayName: 'host', token });
  const media = await publishTestMedia({ client, color: 0xffff00 });
  t.teardown(() => media.stop());
  const { recordingId } = await client.request('enableRecord', { enable: true });
  const startedAt = Date.now();
  await sleep(5000);
  const recordedS = (Date.now() - startedAt) / 1000;
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  client.close();

  const workFile = path.join(dir, 'state', 'work', recordingId, 'recording.mp4');
  t.ok(fs.existsSync(workFile), 'the recorder left its file in the work directory');
  // The orphaned recorder finalizes and exits on its own.
  t.ok(await until(() => !fs.readdirSync(path.join(dir, 'state', 'work', recordingId)).some((name) => name.endsWith('.tmp')), 10_000), 'no half-written file remains');
  t.ok(await outputClosed(first, 15_000), 'the orphaned recorder exited');

  const second = await startServerProcess(env);
  t.teardown(() => stopServerProcess(second));
  const channelDir = path.join(dir, 'recordings', 'crashy');
  t.ok(await until(() => fs.existsSync(channelDir) && fs.readdirSync(channelDir).some((name) => name.endsWith('.mp4')), 20_000), 'the restarted server stored the interrupted recording');
  const stored = path.join(channelDir, fs.readdirSync(channelDir).find((name) => name.endsWith('.mp4'))!);
  const decoded = await decodedDurationS(stored);
  t.ok(decoded >= recordedS - 2, `it decodes ${decoded.toFixed(2)} s of the ${recordedS.toFixed(2)} s recorded before the kill`);
  t.ok((await probe(stored)).durationS > 0, 'and its duration is known (finalized)');

  // The restarted server still answers for the interrupted recording: listed, failed and recovered,
  // with its file and upload, and its event log ends with the failure and the upload.
  const api = async (apiPath: string): Promise<{ status: number; body: any }> => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1${apiPath}`, { headers: { authorization: `Basic ${Buffer.from(`confrec:${TEST_SECRET}`).toString('base64')}` } });
    return { status: response.status, body: await response.json() };
  };
  let view: any;
  t.ok(
    await until(() => {
      void api(`/recordings/${recordingId}`).then((answer) => (view = answer));
      return view?.body?.uploads?.[0]?.state === 'uploaded';
    }, 20_000),
    'GET /recordings/{id} answers for the interrupted recording, its upload finished',
  );
  t.equal(view.status, 200);
  t.match(view.body, { recordingId, channelId: 'crashy', phase: 'failed', recovered: true, startedBy: 'peer:host', participants: ['host'] });
  t.equal(view.body.files.length, 1, 'its recovered file');
  t.equal(path.join(dir, 'recordings', view.body.files[0].objectKey), stored, 'is the stored one');
  t.equal(view.body.uploads[0].objectKey, view.body.files[0].objectKey, 'with its upload');
  t.ok((await api('/recordings')).body.recordings.some((entry: { recordingId: string }) => entry.recordingId === recordingId), 'the list includes it');
  const events = (await api(`/recordings/${recordingId}/events`)).body.events as Array<{ event: string; code?: string; message?: string; seq: number }>;
  const milestones = events.filter((event) => event.event !== 'uploadingProgress');
  t.same(milestones.map((event) => event.event), ['connecting', 'started', 'fatalError', 'uploaded'], 'its event log: started, then the failure and the upload');
  t.match(milestones[2], { code: 'RecorderFailed', message: /server stopped/ }, 'the failure says the server stopped');
  t.same(events.map((event) => event.seq), events.map((_, index) => index + 1), 'numbered on from the previous run');
  second.kill('SIGTERM');
  await new Promise((resolve) => second.once('exit', resolve));
  t.ok(await outputClosed(second, 15_000), 'the restarted server exited cleanly');
});
