import v8 from 'node:v8';
import vm from 'node:vm';
import t from 'tap';
import WebSocket from 'ws';
import type { BackendControl } from '../../plugin/recording/api/BackendControl';
import type { RecordingPlugin } from '../../plugin/recording/RecordingPlugin';
import { createRecordingPlugin } from '../../plugin/recording/createRecordingPlugin';
import { RECORDER_SOCKET_PATH } from '../../signaling/recorder/protocol';
import { createCloudRecorderInstance } from '../../signaling/recorder';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';
import { OPCODE, RawWebSocket } from '../support/rawWebSocket';
import { sleep, until } from '../support/recordingServer';
import { startTestServer, TestServer } from '../support/server';
import { LogLevel, resetLogSink, setLogLevel, setLogSink } from '../../server/logger';

type Signaling = Parameters<typeof startTestServer>[0] extends infer O ? (O extends { overrides?: { signaling?: infer S } } ? S : never) : never;

/** A server with the recorder SDK's socket too (same limits on both paths). */
async function startServer(signaling: Signaling): Promise<TestServer & { backend: BackendControl }> {
  let recording: RecordingPlugin | undefined;
  const env = await startTestServer({ overrides: { signaling }, plugins: [async (context) => (recording = await createRecordingPlugin(context, { backend: { shutdownDrainMs: 0 } }))] });
  const backend = recording!.backend!;
  const close = env.close;
  return Object.assign(env, {
    backend,
    close: async () => {
      await close();
      await backend.close();
    },
  });
}

function connectFrom(env: TestServer, localAddress: string, path = '/ws'): Promise<SignalingClient> {
  return SignalingClient.connect(`ws://127.0.0.1:${env.server.port}${path}`, (url) => new WebSocket(url, { localAddress }) as unknown as WebSocketLike);
}

/** Another client joins, asks and gets its answer: the server carries on. */
async function assertOthersServed(t: { ok(value: unknown, message: string): unknown }, env: TestServer, channel: string): Promise<void> {
  const other = await env.join(channel, `bystander-${Date.now()}`);
  const answer = await other.client.request('getChannelProperties');
  t.ok(answer.properties, 'another client joins and is answered');
  other.client.close();
}

/** Joins `channel` on a raw socket; resolves once the join is answered. */
async function rawJoin(env: TestServer, channel: string, uid: string): Promise<RawWebSocket> {
  const raw = await RawWebSocket.open(env.server.port, '/ws');
  await raw.sendText(JSON.stringify({ id: 1, method: 'join', data: { channelId: channel, displayName: uid, token: env.token({ channelId: channel, uid }) } }));
  const answer = await raw.waitForFrame((frame) => frame.opcode === OPCODE.text && JSON.parse(frame.payload.toString()).id === 1, 5000);
  if (!answer || !JSON.parse(answer.payload.toString()).ok) throw new Error('raw join failed');
  return raw;
}

/** Sends requests with big answers (router capabilities) in batches until `stop()` or `count`. */
async function askWithoutReading(raw: RawWebSocket, count: number, stop: () => boolean, batchSize = 500): Promise<number> {
  let sent = 0;
  while (sent < count && !raw.socket.destroyed && !stop()) {
    const batch: Promise<void>[] = [];
    for (let index = 0; index < batchSize && sent < count; index++, sent++) batch.push(raw.sendText(JSON.stringify({ id: 1000 + sent, method: 'getRouterRtpCapabilities' })));
    await Promise.race([Promise.all(batch), sleep(1000)]);
    await sleep(1);
  }
  return sent;
}

/** The retained heap after a full collection (the flag is set at run time; tap gives no node flags). */
function retainedHeap(): number {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

t.test('a peer that never reads is closed once its unread bytes pass maxBufferedBytes; server memory stays bounded', async (t) => {
  const env = await startServer({ maxBufferedBytes: 256 * 1024, maxRequestsPerSecond: 1_000_000, joinTimeoutMs: 60_000 });
  t.teardown(() => env.close());
  const reader = await env.join('slow-room', 'reader');
  const answerBytes = JSON.stringify(await reader.client.request('getRouterRtpCapabilities')).length;
  const deaf = await rawJoin(env, 'slow-room', 'deaf');
  const deafLeft = reader.client.waitFor('peerLeft', (data) => data.uid === 'deaf', 60_000);
  deaf.socket.pause();
  const inChannel = (): boolean => env.server.registry.find('slow-room')?.peers().some((peer) => peer.uid === 'deaf') ?? false;
  t.ok(inChannel(), 'the deaf peer is in the channel');

  const heapBefore = retainedHeap();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 25);
  t.teardown(() => clearInterval(sampler));
  // 120 MB of answers asked for; without a bound the server would hold nearly all of it.
  const requests = Math.ceil((120 * 1024 * 1024) / answerBytes);
  const sent = await askWithoutReading(deaf, requests, () => !inChannel());
  const asked = (sent * answerBytes) / 1024 / 1024;
  t.ok(await until(() => !inChannel(), 10_000, 20), `the server dropped the deaf peer (after ${sent} of ${requests} requests)`);
  clearInterval(sampler);
  const retainedMb = (retainedHeap() - heapBefore) / (1024 * 1024);
  const peakMb = (rssPeak - rssBefore) / (1024 * 1024);
  t.ok(retainedMb < 16, `the server holds ${retainedMb.toFixed(1)} MB more after ${asked.toFixed(0)} MB of answers were asked for`);
  t.ok(peakMb < 96, `server RSS peaked ${peakMb.toFixed(1)} MB above where it started (churn, not buffers)`);
  t.ok((await deafLeft).uid === 'deaf', 'the other peer was told it left');

  // Reading now, it finds only what was flushed before the cut.
  deaf.socket.resume();
  t.ok(await deaf.waitForEnd(10_000), 'its TCP connection is gone');
  t.ok(deaf.received < (sent * answerBytes) / 4, `it received ${(deaf.received / 1024 / 1024).toFixed(1)} MB of the ${asked.toFixed(0)} MB`);
  t.ok(await until(() => env.server.connectionCount === 1, 5000, 20), 'only the reader is still counted');
  t.ok((await reader.client.request('getChannelProperties')).properties, 'the other peer of the channel is still answered');
  await assertOthersServed(t, env, 'slow-room');
});

t.test('a slow consumer that reads again within the grace period is told 4008 slow consumer', async (t) => {
  const logs = { lines: [] as string[] };
  setLogLevel('info');
  setLogSink((line) => logs.lines.push(line));
  t.teardown(() => {
    setLogLevel((process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info');
    resetLogSink();
  });
  const env = await startServer({ maxBufferedBytes: 64 * 1024, maxRequestsPerSecond: 1_000_000, joinTimeoutMs: 60_000 });
  t.teardown(() => env.close());
  const slow = await rawJoin(env, 'drain-room', 'slow');
  slow.socket.pause();
  const closing = (): boolean => logs.lines.some((line) => line.includes('4008 slow consumer'));
  // Small batches, so the server has no backlog of requests to chew through while the grace runs.
  await askWithoutReading(slow, 100_000, closing, 25);
  t.ok(await until(closing, 10_000, 5), 'the server closed it as a slow consumer');
  slow.socket.resume();
  t.same(await slow.waitForClose(10_000), { code: 4008, reason: 'slow consumer' }, 'the close frame says 4008 slow consumer');
  t.ok(await slow.waitForEnd(10_000), 'and the connection ends');
  await assertOthersServed(t, env, 'drain-room');
});

t.test('a socket that does not join within joinTimeoutMs is closed with 4001 join timeout, on both paths', async (t) => {
  const env = await startServer({ joinTimeoutMs: 600 });
  t.teardown(() => env.close());
  const idle = await env.connect();
  const closed = new Promise<[number, string]>((resolve) => idle.onClose((code, reason) => resolve([code, reason])));
  const joined = await env.join('join-room', 'member');
  const sdkStates: Array<{ state: string; message?: string }> = [];
  const recorder = createCloudRecorderInstance(env.httpUrl, { onConnectionStateChange: (state, error) => sdkStates.push({ state, ...(error ? { message: error.message } : {}) }) });
  t.teardown(() => recorder.release());
  await t.rejects(recorder.startCloudRecording('confrec', 'join-room', 'not-a-token', 'backend', {}, { vendor: 'Local' }), { code: 'ConnectError' });

  const started = Date.now();
  t.same(await closed, [4001, 'join timeout'], 'the idle signaling socket: 4001 join timeout');
  t.ok(Date.now() - started < 3000, 'closed about joinTimeoutMs after it connected');
  t.ok(await until(() => sdkStates.some((entry) => entry.state === 'disconnected'), 5000), 'the recorder SDK socket with no recording was closed too');
  t.match(sdkStates.find((entry) => entry.state === 'disconnected')?.message ?? '', /4001 join timeout/, 'and the SDK reports why');

  await sleep(800);
  t.notOk(joined.client.closed, 'a joined socket stays open past the deadline');
  t.ok((await joined.client.request('getChannelProperties')).properties, 'and is answered');
  // Leaving makes it an unjoined socket again: the deadline applies anew.
  const leftClosed = new Promise<number>((resolve) => joined.client.onClose((code) => resolve(code)));
  await joined.client.request('leave');
  t.equal(await Promise.race([leftClosed, sleep(5000).then(() => -1)]), 4001, 'after leave, it must join again in time');
  await assertOthersServed(t, env, 'join-room');
});

t.test('a socket that answers no ping within pingTimeoutMs is closed with 4002 ping timeout', async (t) => {
  const env = await startServer({ pingIntervalMs: 200, pingTimeoutMs: 300, joinTimeoutMs: 60_000 });
  t.teardown(() => env.close());
  const silent = await RawWebSocket.open(env.server.port, '/ws');
  const silentRecorder = await RawWebSocket.open(env.server.port, RECORDER_SOCKET_PATH);
  const polite = await env.connect();
  t.ok(await silent.waitForFrame((frame) => frame.opcode === OPCODE.ping, 2000), 'the server pings');
  t.same(await silent.waitForClose(3000), { code: 4002, reason: 'ping timeout' }, 'no pong: 4002 ping timeout');
  t.same(await silentRecorder.waitForClose(3000), { code: 4002, reason: 'ping timeout' }, 'the same on the recorder socket');
  t.ok(await silent.waitForEnd(5000), 'and the connection is cut');

  // A client whose library answers pings (and one that only sends frames) stays.
  const chatty = await RawWebSocket.open(env.server.port, '/ws');
  const chatter = setInterval(() => void chatty.sendText(JSON.stringify({ id: 1, method: 'getRouterRtpCapabilities' })), 100);
  t.teardown(() => clearInterval(chatter));
  await sleep(1500);
  clearInterval(chatter);
  t.notOk(polite.closed, 'a client answering pings stays open');
  t.notOk(chatty.ended || chatty.frames.some((frame) => frame.opcode === OPCODE.close), 'a client that keeps sending counts as alive');
  t.ok((await polite.request('getRouterRtpCapabilities')).routerRtpCapabilities, 'and is served');
  chatty.destroy();
  await assertOthersServed(t, env, 'ping-room');
});

t.test('connections are capped per IP (HTTP 429) and in total (HTTP 503), both socket paths counted together', async (t) => {
  const env = await startServer({ maxConnectionsPerIp: 3, maxConnections: 5, joinTimeoutMs: 60_000 });
  t.teardown(() => env.close());
  const first = await Promise.all([connectFrom(env, '127.0.0.1'), connectFrom(env, '127.0.0.1'), connectFrom(env, '127.0.0.1', RECORDER_SOCKET_PATH)]);
  await t.rejects(connectFrom(env, '127.0.0.1'), { code: 'CONNECTION_CLOSED', message: /429/ }, 'the 4th from one IP: 429');
  await t.rejects(connectFrom(env, '127.0.0.1', RECORDER_SOCKET_PATH), { message: /429/ }, 'also on the recorder path');
  const refused = await fetchUpgrade(env, '127.0.0.1');
  t.equal(refused.status, 429);
  t.equal(JSON.parse(refused.body).error.code, 'TOO_MANY_CONNECTIONS', 'the refusal carries TOO_MANY_CONNECTIONS');

  const second = await Promise.all([connectFrom(env, '127.0.0.2'), connectFrom(env, '127.0.0.2')]);
  t.ok(second.every((client) => !client.closed), 'another IP connects');
  await t.rejects(connectFrom(env, '127.0.0.3'), { message: /503/ }, 'the server total reached: 503');
  t.ok((await second[0]!.request('getRouterRtpCapabilities')).routerRtpCapabilities, 'accepted sockets are served meanwhile');

  first[0]!.close();
  t.ok(await until(() => env.server.connectionCount === 4, 5000, 20), 'a closed socket stops counting');
  const again = await connectFrom(env, '127.0.0.1');
  t.ok(!again.closed, 'a new connection from the first IP is accepted');
  for (const client of [...first, ...second, again]) client.close();
  t.ok(await until(() => env.server.connectionCount === 0, 5000, 20), 'all counts released');
  await assertOthersServed(t, env, 'cap-room');
});

t.test('an endless fragmented message is cut (1009) at twice maxMessageBytes; single oversized messages still get MESSAGE_TOO_LARGE', async (t) => {
  const maxMessageBytes = 16 * 1024;
  const env = await startServer({ maxMessageBytes, joinTimeoutMs: 60_000 });
  t.teardown(() => env.close());
  for (const path of ['/ws', RECORDER_SOCKET_PATH]) {
    const raw = await RawWebSocket.open(env.server.port, path);
    const fragment = Buffer.alloc(4096, 0x20);
    let written = 0;
    await raw.sendFrame(OPCODE.text, Buffer.concat([Buffer.from('{"id":1,"method":"getRouterRtpCapabilities","pad":"'), fragment]), false);
    written += fragment.length;
    while (!raw.ended && !raw.frames.some((frame) => frame.opcode === OPCODE.close) && written < 64 * maxMessageBytes) {
      await raw.sendFrame(OPCODE.continuation, fragment, false);
      written += fragment.length;
      await sleep(2);
    }
    const close = await raw.waitForClose(3000);
    t.equal(close?.code, 1009, `${path}: closed with 1009 (message too big)`);
    t.ok(written <= 2 * maxMessageBytes + 8 * fragment.length, `${path}: cut after ${written} bytes of an unfinished message (cap ${2 * maxMessageBytes})`);
    raw.destroy();
  }

  const client = await env.connect();
  const errors: Array<{ code: string }> = [];
  client.on('error', (error) => errors.push(error));
  client.sendRaw(JSON.stringify({ id: 5, method: 'getRouterRtpCapabilities', pad: 'x'.repeat(maxMessageBytes + 100) }));
  t.ok(await until(() => errors.length > 0, 3000), 'a message a little over maxMessageBytes is answered');
  t.equal(errors[0]?.code, 'MESSAGE_TOO_LARGE');
  t.ok((await client.request('getRouterRtpCapabilities')).routerRtpCapabilities, 'and the socket stays');
  await assertOthersServed(t, env, 'frag-room');
});

/** A WebSocket upgrade by hand, to read the refusal's status and body. */
async function fetchUpgrade(env: TestServer, localAddress: string): Promise<{ status: number; body: string }> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: env.server.port, localAddress }, () => {
      socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
  });
}
