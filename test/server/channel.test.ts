import dgram from 'node:dgram';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { startTestServer } from '../support/server';

t.test('two peers, a GStreamer publisher, and a PlainTransport consumer that receives its RTP', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());

  const alice = await env.join('room-1', 'alice');
  t.equal(alice.joined.channel.properties.recordState, 'None', 'recordState is None without a recording plugin');
  t.same(alice.joined.peers, [], 'first peer sees nobody');

  const bobJoinedSeen = alice.client.waitFor('peerJoined', (data) => data.peer.uid === 'bob');
  const bob = await env.join('room-1', 'bob');
  t.equal((await bobJoinedSeen).peer.uid, 'bob', 'alice is told bob joined');
  t.equal(bob.joined.peers.length, 1, 'bob sees alice');

  const newProducers: string[] = [];
  bob.client.on('newProducer', (data) => newProducers.push(data.producer.kind));
  const publication = await publishTestMedia({ client: alice.client, color: 0x00ff00 });
  t.teardown(() => publication.stop());
  t.ok(publication.videoProducerId && publication.audioProducerId, 'alice produced video and audio');

  // Bob receives through a PlainTransport pointed at a local UDP socket.
  const socket = dgram.createSocket('udp4');
  t.teardown(() => socket.close());
  const packets = { video: 0, audio: 0 };
  const ssrcKinds = new Map<number, 'video' | 'audio'>();
  socket.on('message', (message) => {
    const payloadType = message[1]! & 0x7f;
    if (payloadType >= 72 && payloadType <= 76) return; // RTCP
    const kind = ssrcKinds.get(message.readUInt32BE(8));
    if (kind) packets[kind]++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transport = await bob.client.request('createPlainTransport', { direction: 'recv', comedia: false, rtcpMux: true });
  await bob.client.request('connectPlainTransport', { transportId: transport.transportId, ip: '127.0.0.1', port: socket.address().port });
  for (const producerId of [publication.videoProducerId!, publication.audioProducerId!]) {
    const consumer = await bob.client.request('consume', { transportId: transport.transportId, producerId });
    t.equal(consumer.paused, true, `${consumer.kind} consumer is created paused`);
    ssrcKinds.set(consumer.rtpParameters.encodings[0].ssrc, consumer.kind);
    await bob.client.request('resumeConsumer', { consumerId: consumer.consumerId });
  }
  await until(() => packets.video >= 20 && packets.audio >= 20, 15_000);
  t.ok(packets.video >= 20, `bob received video RTP (${packets.video} packets)`);
  t.ok(packets.audio >= 20, `bob received audio RTP (${packets.audio} packets)`);
  t.same(newProducers.sort(), ['audio', 'video'], 'bob was told about both producers');

  // Alice leaves: bob hears producerClosed for each producer, consumerClosed, then peerLeft.
  const closedProducers: string[] = [];
  bob.client.on('producerClosed', (data) => closedProducers.push(data.producerId));
  const consumerClosed = bob.client.waitFor('consumerClosed');
  const left = bob.client.waitFor('peerLeft');
  await alice.client.request('leave');
  t.equal((await left).uid, 'alice', 'bob is told alice left');
  await consumerClosed;
  t.same(closedProducers.sort(), [publication.videoProducerId, publication.audioProducerId].sort(), 'both producers closed');
  t.equal(env.server.registry.size, 1, 'channel stays open while bob is in it');

  await bob.client.request('leave');
  t.equal(env.server.registry.size, 0, 'the last peer leaving closes the channel');
});

t.test('pause and resume a producer are announced; a closed socket leaves the channel', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const alice = await env.join('room-2', 'alice');
  const bob = await env.join('room-2', 'bob');
  const publication = await publishTestMedia({ client: alice.client, audio: false, sendMedia: false });
  const paused = bob.client.waitFor('producerPaused');
  await alice.client.request('pauseProducer', { producerId: publication.videoProducerId! });
  t.equal((await paused).producerId, publication.videoProducerId, 'pause announced');
  const resumed = bob.client.waitFor('producerResumed');
  await alice.client.request('resumeProducer', { producerId: publication.videoProducerId! });
  t.equal((await resumed).producerId, publication.videoProducerId, 'resume announced');

  const left = bob.client.waitFor('peerLeft');
  alice.client.close();
  t.equal((await left).uid, 'alice', 'a dropped socket counts as leaving');
});

t.test('the same uid joining again replaces its stale peer', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const first = await env.join('room-3', 'carol');
  const kicked = first.client.waitFor('channelClosed');
  const second = await env.join('room-3', 'carol');
  t.equal((await kicked).code, 'ALREADY_JOINED', 'the stale connection is told why');
  t.equal(second.joined.peers.length, 0, 'no ghost of the old peer remains');
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}
