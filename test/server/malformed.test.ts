import t from 'tap';
import WebSocket from 'ws';
import { startTestServer } from '../support/server';

/** A deterministic corpus of ≥ 200 malformed frames: bad JSON, bad envelopes, bad fields, wrong state. */
function corpus(validToken: string): string[] {
  const frames: string[] = [];
  const raw = ['', ' ', '{', '}', '[]', 'null', 'true', '42', '"str"', '{"id":', 'undefined', '\u0000', '{"id":1,"method":"join"', '💥', '<xml/>', 'NaN'];
  frames.push(...raw);
  const ids: unknown[] = [-1, 1.5, '1', null, [], {}, true, 1e300, Number.MAX_SAFE_INTEGER + 2];
  for (const id of ids) frames.push(JSON.stringify({ id, method: 'getRouterRtpCapabilities' }));
  const methods: unknown[] = ['', 'nope', 'JOIN', '__proto__', 'constructor', 'toString', 'x'.repeat(65), 123, null, ['join'], { m: 1 }];
  for (const method of methods) frames.push(JSON.stringify({ id: 7, method }));
  frames.push(JSON.stringify({ id: 7, method: 'join', extra: 1 }));
  frames.push(JSON.stringify({ id: 7, method: 'join', data: 'string' }));
  frames.push(JSON.stringify({ id: 7, method: 'join', data: [] }));
  // join with every field missing, mistyped or out of range.
  const goodJoin = { channelId: 'fuzz', displayName: 'f', token: validToken };
  const joinMutations: Array<Record<string, unknown>> = [
    {},
    { channelId: 'fuzz' },
    { ...goodJoin, channelId: 1 },
    { ...goodJoin, channelId: '' },
    { ...goodJoin, channelId: '../etc' },
    { ...goodJoin, channelId: 'a'.repeat(65) },
    { ...goodJoin, channelId: 'sp ace' },
    { ...goodJoin, displayName: '' },
    { ...goodJoin, displayName: 'x'.repeat(129) },
    { ...goodJoin, displayName: null },
    { ...goodJoin, token: '' },
    { ...goodJoin, token: 5 },
    { ...goodJoin, token: 'v1.a.b' },
    { ...goodJoin, joinParam: 'x' },
    { ...goodJoin, joinParam: { record: 'x' } },
    { ...goodJoin, joinParam: { record: { recordString: 1 } } },
    { ...goodJoin, joinParam: { channelType: 'Broadcast' } },
    { ...goodJoin, joinParam: { unknown: true } },
    { ...goodJoin, rtpCapabilities: 'x' },
    { ...goodJoin, rtpCapabilities: [] },
    { ...goodJoin, surprise: 1 },
  ];
  for (const data of joinMutations) frames.push(JSON.stringify({ id: 8, method: 'join', data }));
  // Every method before join, with empty, garbage and plausible data: NOT_JOINED or BAD_REQUEST.
  const stateful = ['setRtpCapabilities', 'getChannelProperties', 'createWebRtcTransport', 'connectWebRtcTransport', 'createPlainTransport', 'connectPlainTransport', 'closeTransport', 'produce', 'pauseProducer', 'resumeProducer', 'closeProducer', 'consume', 'resumeConsumer', 'pauseConsumer', 'closeConsumer', 'setConsumerRenderSize', 'setConsumerPreferredLayers', 'requestKeyFrame', 'leave', 'enableRecord'];
  const payloads: unknown[] = [undefined, {}, { transportId: 'x' }, { producerId: 'p', transportId: 't' }, { consumerId: 'c' }, { consumerId: 'c', width: 320, height: 180 }, { consumerId: 'c', spatialLayer: -1 }, { direction: 'send' }, { direction: 'sideways' }, { enable: 'yes' }, { enable: true, recordParam: { recordString: 'garbage' } }, { kind: 'audio', transportId: 't', rtpParameters: {} }];
  for (const method of stateful) for (const data of payloads) frames.push(JSON.stringify(data === undefined ? { id: 9, method } : { id: 9, method, data }));
  // Deeply nested and oversized-in-field payloads.
  let nested: unknown = {};
  for (let depth = 0; depth < 200; depth++) nested = { a: nested };
  frames.push(JSON.stringify({ id: 10, method: 'setRtpCapabilities', data: { rtpCapabilities: nested } }));
  frames.push(JSON.stringify({ id: 11, method: 'join', data: { ...goodJoin, displayName: 'x'.repeat(20_000) } }));
  return frames;
}

t.test('a corpus of malformed messages gets coded errors; the server and other channels carry on', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());

  // A bystander in another channel, publishing nothing, must keep getting answers.
  const bystander = await env.join('quiet', 'bystander');

  const fuzzer = await env.connect();
  const errors: Array<{ code: string }> = [];
  fuzzer.on('error', (error) => errors.push(error));
  const frames = corpus(env.token({ channelId: 'fuzz', uid: 'fuzzer' }));
  t.ok(frames.length >= 200, `corpus has ${frames.length} messages`);

  // Send raw frames on a plain socket so ids and shapes are exactly as given, and collect every reply.
  const socket = new WebSocket(env.url);
  await new Promise((resolve) => socket.once('open', resolve));
  const replies: any[] = [];
  socket.on('message', (data) => replies.push(JSON.parse(String(data))));
  // Paced in batches so the per-connection rate limit (200/s) is not what answers.
  const waitForReplies = async (count: number, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (replies.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  for (let start = 0; start < frames.length; start += 50) {
    for (const frame of frames.slice(start, start + 50)) socket.send(frame);
    await waitForReplies(Math.min(start + 50, frames.length));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  socket.send(JSON.stringify({ id: 999_999, method: 'getRouterRtpCapabilities' }));
  await waitForReplies(frames.length + 1);

  const answers = replies.filter((reply) => reply.id !== 999_999);
  t.equal(answers.length, frames.length, 'every malformed message got exactly one answer');
  const codes = new Set(answers.map((reply) => reply.error?.code));
  t.notOk(answers.some((reply) => reply.ok), 'none of them succeeded');
  t.notOk(answers.some((reply) => typeof reply.error?.code !== 'string' || typeof reply.error?.message !== 'string'), 'each error has a code and a message');
  t.notOk(codes.has('INTERNAL'), 'no malformed message reached an internal error');
  for (const expected of ['BAD_JSON', 'BAD_REQUEST', 'UNKNOWN_METHOD', 'NOT_JOINED']) t.ok(codes.has(expected), `saw ${expected}`);
  const last = replies.find((reply) => reply.id === 999_999);
  t.ok(last?.ok, 'the same socket still serves a valid request afterwards');

  // Binary frames and a frame over the size limit answer with codes and keep the socket.
  socket.send(Buffer.from([1, 2, 3]), { binary: true });
  socket.send(JSON.stringify({ id: 1, method: 'join', data: { pad: 'x'.repeat(70 * 1024) } }));
  socket.send(JSON.stringify({ id: 1_000_000, method: 'getRouterRtpCapabilities' }));
  await waitForReplies(frames.length + 4);
  const tail = replies.slice(-3).map((reply) => reply.error?.code ?? 'ok');
  t.same(tail, ['BAD_JSON', 'MESSAGE_TOO_LARGE', 'ok'], 'binary and oversized frames answered; socket still usable');

  // A frame far beyond the hard limit closes only that socket (ws code 1009).
  const closeCode = await new Promise<number>((resolve) => {
    socket.once('close', (code) => resolve(code));
    socket.send('x'.repeat(2 * 1024 * 1024));
  });
  t.equal(closeCode, 1009, 'a huge frame closes that socket with 1009');

  const stillThere = await bystander.client.request('getChannelProperties');
  t.equal(stillThere.properties.recordState, 'None', 'the bystander channel still answers');
  const fresh = await env.join('fuzz', 'after-fuzz');
  t.equal(fresh.joined.channel.id, 'fuzz', 'a normal join on the same server works');
  void errors;
});

t.test('mediasoup-level garbage (bad rtpParameters, unknown ids) is a BAD_REQUEST or NOT_FOUND, not a crash', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const { client } = await env.join('garbage', 'g');
  const transport = await client.request('createPlainTransport', { direction: 'send' });
  await t.rejects(client.request('produce', { transportId: transport.transportId, kind: 'video', rtpParameters: { codecs: 'nope' } }), { code: 'BAD_REQUEST' });
  await t.rejects(client.request('produce', { transportId: transport.transportId, kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/NOPE', payloadType: 1, clockRate: 1 }], encodings: [{ ssrc: 1 }] } }), { code: 'BAD_REQUEST' });
  await t.rejects(client.request('produce', { transportId: 'nope', kind: 'audio', rtpParameters: {} }), { code: 'NOT_FOUND' });
  await t.rejects(client.request('consume', { transportId: transport.transportId, producerId: 'nope' }), { code: 'BAD_REQUEST' }, 'consume on a send transport');
  const recv = await client.request('createPlainTransport', { direction: 'recv', comedia: false });
  await t.rejects(client.request('consume', { transportId: recv.transportId, producerId: 'unknown-producer' }), { code: 'NOT_FOUND' }, 'consume of an unknown producer');
  await t.rejects(client.request('connectPlainTransport', { transportId: recv.transportId, ip: '999.1.1.1', port: 5 }), { code: 'BAD_REQUEST' });
  await t.rejects(client.request('connectWebRtcTransport', { transportId: recv.transportId, dtlsParameters: {} }), { code: 'BAD_REQUEST' });
  const properties = await client.request('getChannelProperties');
  t.ok(properties.properties, 'still joined and answering');
});
