import t from 'tap';
import WebSocket from 'ws';
import { startTestServer } from '../support/server';

t.test('RATE_LIMITED answers carry the request id, so the client fails at once instead of timing out', async (t) => {
  const env = await startTestServer({ overrides: { signaling: { maxRequestsPerSecond: 5 } } });
  t.teardown(() => env.close());
  const client = await env.connect();
  const started = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: 12 }, () => client.request('getRouterRtpCapabilities').then(() => 'ok', (error: { code: string }) => error.code)),
  );
  t.ok(Date.now() - started < 3000, `all 12 settled in ${Date.now() - started} ms (the SDK's timeout is 15 s)`);
  t.equal(outcomes.filter((outcome) => outcome === 'ok').length, 5, 'five within the rate were served');
  t.equal(outcomes.filter((outcome) => outcome === 'RATE_LIMITED').length, 7, 'the rest rejected with RATE_LIMITED');

  // On the wire: the id of each refused request; a frame with no usable id still gets id null.
  const socket = new WebSocket(env.url);
  await new Promise((resolve) => socket.once('open', resolve));
  const replies: any[] = [];
  socket.on('message', (data) => replies.push(JSON.parse(String(data))));
  for (let id = 1; id <= 7; id++) socket.send(JSON.stringify({ id, method: 'getRouterRtpCapabilities' }));
  socket.send('not json');
  socket.send(JSON.stringify({ id: 'x', method: 'getRouterRtpCapabilities' }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const limited = replies.filter((reply) => reply.error?.code === 'RATE_LIMITED');
  t.same(limited.map((reply) => reply.id), [6, 7, null, null], 'ids 6 and 7 answered by id; unparsable or id-less frames with null');
  socket.close();

  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.ok((await client.request('getRouterRtpCapabilities')).routerRtpCapabilities, 'after the window the same client is served again');
});
