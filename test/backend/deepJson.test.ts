import t from 'tap';
import WebSocket from 'ws';
import { RECORDER_SOCKET_PATH } from '../../signaling/recorder/protocol';
import { startBackendServer } from './support';

/** `{"recordingConfig":{"a":{"a":…}}}` nested `depth` levels (the 64 KiB HTTP body limit allows ~10,000). */
function nested(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

t.test('deeply nested JSON is a 400 BAD_JSON on the HTTP API and BAD_JSON on both sockets, never an internal error', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());

  for (const [name, raw] of [
    ['objects', `{"channelName":"deep","recordingConfig":${nested(10_000)}}`],
    ['arrays', `{"channelName":"deep","recordingConfig":{"a":${'['.repeat(30_000)}${']'.repeat(30_000)}}}`],
  ] as const) {
    const answer = await env.api.request('POST', '/recordings', undefined, { raw });
    t.equal(answer.status, 400, `${name}: 400`);
    t.equal(answer.body.error?.code, 'BAD_JSON', `${name}: BAD_JSON (${answer.body.error?.message})`);
  }
  const shallow = await env.api.request('POST', '/recordings', undefined, { raw: `{"channelName":"deep","recordingConfig":${nested(20)}}` });
  t.equal(shallow.status, 400, 'nesting within the limit reaches validation');
  t.equal(shallow.body.error?.code, 'InvalidParameter', 'and is refused by field');

  for (const path of ['/ws', RECORDER_SOCKET_PATH]) {
    const socket = new WebSocket(`ws://127.0.0.1:${env.server.port}${path}`);
    await new Promise((resolve) => socket.once('open', resolve));
    const replies: any[] = [];
    socket.on('message', (data) => replies.push(JSON.parse(String(data))));
    socket.send(`{"id":3,"method":"getRouterRtpCapabilities","data":${nested(5000)}}`);
    socket.send(JSON.stringify({ id: 4, method: path === '/ws' ? 'getRouterRtpCapabilities' : 'release', data: path === '/ws' ? undefined : { keepRecordingInBackground: true } }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.equal(replies[0]?.error?.code, 'BAD_JSON', `${path}: BAD_JSON (${replies[0]?.error?.message})`);
    t.ok(replies[1]?.ok, `${path}: the socket is still served`);
    socket.close();
  }
  const health = await fetch(`${env.httpUrl}/healthz`);
  t.equal(health.status, 200, 'the server carries on');
});
