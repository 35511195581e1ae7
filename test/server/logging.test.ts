import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';

/** What the helpers below need of a tap test. */
type Test = { teardown(fn: () => unknown): void; fail(message: string): unknown };
import WebSocket from 'ws';
import { publishTestMedia } from '../../scripts/publishRtp';
import { findProjectRoot } from '../../server/config';
import { holdSecret, Logger, resetLogSink, setLogSink } from '../../server/logger';
import { buildS3RecordParam } from '../../signaling/recordParam';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';
import { sleep, until } from '../support/recordingServer';
import { startS3Server } from '../support/s3Server';
import { freePort } from '../support/freePort';

const MAIN = path.join(findProjectRoot(__dirname), 'dist', 'server', 'main.js');
const S3_AK = 'LOGTESTACCESSKEY';
const S3_SK = 'log-test-s3-secret-never-in-a-line';

type Line = { time: string; level: string; ns: string; msg: string; pid: number; [binding: string]: unknown };

function serverEnv(dir: string, port: number, logLevel: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: logLevel,
    CONFREC_HTTP_LISTEN_IP: '127.0.0.1',
    CONFREC_HTTP_PORT: String(port),
    CONFREC_HTTP_TLS: 'off',
    CONFREC_AUTH_ENABLED: 'false',
    CONFREC_MEDIASOUP_NUM_WORKERS: '1',
    CONFREC_RECORDING_STATE_DIR: path.join(dir, 'state'),
    CONFREC_RECORDING_RECORDINGS_DIR: path.join(dir, 'recordings'),
    CONFREC_RECORDING_ALLOWED_STORAGE_ENDPOINTS: '127.0.0.1',
  };
  delete env.LOG_FORMAT;
  return env;
}

/** The real server entry in its own process, its stderr a pipe (not a terminal), as a service manager runs it. */
async function startServer(t: Test, logLevel: string): Promise<{ port: number; output: () => { stdout: string; stderr: string }; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-logs-'));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [MAIN], { env: serverEnv(dir, port, logLevel), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    child.kill('SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  t.teardown(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  if (!(await until(() => stdout.includes('confrec is running') || child.exitCode !== null, 30_000)) || child.exitCode !== null) {
    throw new Error(`server did not start: ${stdout}\n${stderr}`);
  }
  return { port, output: () => ({ stdout, stderr }), stop };
}

function parseLines(t: Test, text: string): Line[] {
  const lines = text.split('\n').filter((line) => line.length > 0);
  const parsed: Line[] = [];
  for (const line of lines) {
    try {
      parsed.push(JSON.parse(line) as Line);
    } catch {
      t.fail(`a stderr line is not JSON: ${line}`);
    }
  }
  return parsed;
}

async function connect(port: number): Promise<SignalingClient> {
  return SignalingClient.connect(`ws://127.0.0.1:${port}/ws`, (url) => new WebSocket(url) as unknown as WebSocketLike);
}

t.test('not on a terminal: JSON lines; a recording\'s lines carry its recordingId, a peer\'s its channelId and uid; no secret', async (t) => {
  const s3 = await startS3Server({ buckets: ['logs'], accessKey: S3_AK, secretKey: S3_SK });
  t.teardown(() => s3.close());
  const server = await startServer(t, 'info');
  const client = await connect(server.port);
  t.teardown(() => client.close());
  const channelId = 'logged-room';
  const { uid } = await client.request('join', { channelId, displayName: 'logger', token: 'anything' });
  const media = await publishTestMedia({ client, color: 0x00ffff });
  t.teardown(() => media.stop());
  const uploaded = client.waitFor('recordingEvent', (data) => data.event === 'uploaded', 60_000);
  const recordString = buildS3RecordParam({ video: true, region: s3.region, bucket: 'logs', accessKey: S3_AK, secretKey: S3_SK, fileName: 'logs/run.mp4', endpoint: s3.endpoint });
  const { recordingId } = await client.request('enableRecord', { enable: true, recordParam: { recordString } });
  await sleep(2500);
  await client.request('enableRecord', { enable: false });
  const { fileName } = await uploaded;
  t.ok(await s3.getObject('logs', fileName!), 'the recording was stored in S3 (its secret was in use)');
  client.close();
  await until(() => server.output().stderr.includes('"left"'), 5000);
  await server.stop();

  const { stdout, stderr } = server.output();
  t.notOk(stderr.includes(S3_SK) || stdout.includes(S3_SK), 'the storage secret appears in no line (raw text)');
  const lines = parseLines(t, stderr);
  t.ok(lines.length > 5, `${lines.length} lines, each one JSON`);
  for (const line of lines) {
    if (!(typeof line.time === 'string' && ['debug', 'info', 'warn', 'error'].includes(line.level) && typeof line.ns === 'string' && typeof line.msg === 'string' && typeof line.pid === 'number')) {
      t.fail(`a line lacks time/level/ns/msg/pid: ${JSON.stringify(line)}`);
    }
  }
  t.ok(lines.every((line) => !Number.isNaN(Date.parse(line.time))), 'time is an ISO timestamp');
  t.notOk(lines.some((line) => line.level === 'debug'), 'LOG_LEVEL=info: no debug line');

  const ofRecording = lines.filter((line) => line.recordingId === recordingId);
  t.ok(ofRecording.some((line) => line.ns === 'RecordingEngine'), 'the engine\'s start line carries the recordingId');
  t.ok(ofRecording.some((line) => line.ns === 'RecorderChild' && line.pid !== ofRecording.find((l) => l.ns === 'RecordingEngine')?.pid), 'the recorder child process\'s lines carry it too');
  t.ok(ofRecording.some((line) => line.ns === 'UploadManager' && typeof line.jobId === 'string'), 'upload lines carry it with their jobId');
  const mentioning = lines.filter((line) => JSON.stringify(line).includes(recordingId));
  t.same(
    mentioning.filter((line) => line.recordingId !== recordingId),
    [],
    'every line that names the recording carries its recordingId binding',
  );

  const ofPeer = lines.filter((line) => line.channelId === channelId && line.uid === uid);
  t.ok(ofPeer.some((line) => line.ns === 'PeerSession' && /join/.test(line.msg)), 'the join line carries channelId and uid');
  t.ok(ofPeer.some((line) => line.ns === 'PeerSession' && /left/.test(line.msg)), 'the leave line carries channelId and uid');
  // A recording's start line names who started it (startedBy: "peer:<uid>"): a line of the recording.
  t.same(
    lines.filter((line) => JSON.stringify({ ...line, startedBy: undefined }).includes(uid) && line.uid !== uid),
    [],
    'every line that names the peer carries its uid binding',
  );
  t.ok(lines.some((line) => line.recordingId === recordingId && line.startedBy === `peer:${uid}`), 'the recording\'s start line says which peer started it');
});

t.test('LOG_LEVEL=warn drops info lines', async (t) => {
  const server = await startServer(t, 'warn');
  const client = await connect(server.port);
  await client.request('join', { channelId: 'quiet-room', displayName: 'quiet', token: 'anything' });
  client.close();
  await sleep(500);
  await server.stop();
  const lines = parseLines(t, server.output().stderr);
  t.ok(lines.some((line) => line.level === 'warn' && /AUTHENTICATION IS OFF/.test(line.msg)), 'the warning is there');
  t.same(lines.filter((line) => line.level === 'info' || line.level === 'debug'), [], 'no info or debug line');
});

t.test('on a terminal: readable lines, not JSON', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-logs-tty-'));
  const port = await freePort();
  // script(1) gives the server a pseudo-terminal as stdout and stderr.
  const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)}`, '/dev/null'], {
    env: serverEnv(dir, port, 'info'),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.ok(await until(() => output.includes('confrec is running'), 30_000), 'the server started on a terminal');
  await until(() => /MediaServer \| start\(\) \| listening/.test(output), 5000);
  // eslint-disable-next-line no-control-regex
  const text = output.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
  const logLines = text.split('\n').filter((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+/.test(line));
  t.ok(logLines.length > 0, 'lines start with a time and a level');
  t.ok(logLines.some((line) => /^\[[\d:.]+\] INFO.*: MediaServer \| start\(\) \| listening on http:\/\/127\.0\.0\.1/.test(line)), 'a readable start line: time, level, namespace, message');
  t.ok(logLines.some((line) => /WARN.*AUTHENTICATION IS OFF/.test(line)), 'the warning is readable too');
  t.notOk(text.split('\n').some((line) => line.trimStart().startsWith('{"level"')), 'no JSON line');
});

t.test('in process: a secret is masked in messages and bindings, in its raw and its JSON-escaped spelling', async (t) => {
  const lines: string[] = [];
  setLogSink((line) => lines.push(line));
  t.teardown(() => resetLogSink());
  const secret = 'quote"and\\backslash-secret';
  const hold = holdSecret(secret);
  const log = new Logger('probe').child({ recordingId: 'rec_masked', leaked: secret });
  log.warn(`message with ${secret} inside`, { field: secret });
  const line = lines.at(-1) ?? '';
  t.notOk(line.includes(secret) || line.includes(JSON.stringify(secret).slice(1, -1)), `masked in both spellings: ${line}`);
  t.match(JSON.parse(line), { level: 'warn', ns: 'probe', recordingId: 'rec_masked', leaked: '***', field: '***', msg: 'message with *** inside' }, 'still valid JSON, with *** in place of the secret');
  hold.release();
  log.warn(`message with ${secret} inside`);
  t.ok((lines.at(-1) ?? '').includes('quote\\"and'), 'released: the string is an ordinary string again');
});
