/**
 * The media link: a recorder node records a channel that lives on another node M. M is a real
 * server in this process in cluster mode (a private redis-server), with the recording plugin; a
 * publisher sends real RTP (gst-launch VP8 + Opus) into a channel on M. The recorder node is this
 * test: a RemoteChannelMedia over the link, and UDP sockets on 127.0.0.2 standing in for the
 * recorder's. Proves: the link is refused without the API's credentials and for a channel M does
 * not have; the snapshot lists the publisher's producers; an input sends RTP of the right SSRC and
 * payload type to the recorder's socket (only once resumed) and RTCP from M's address, the one the
 * input describes; a PLI sent from the recorder's RTCP port, and requestKeyFrame over the link,
 * reach the producer (mediasoup sends the publisher a PLI); malformed messages are answered with
 * errors and the link lives on (and a burst beyond signaling's rate limit is served); peers and
 * producers coming, pausing and going are followed; the publisher leaving gives producerClosed,
 * inputClosed and peerCount 0 while the link holds the channel open; closing the link releases it
 * (it closes); a channel closed on M, a partition (request deadline, pings) and M shutting down
 * close the link's media with a reason.
 */
import dgram from 'node:dgram';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { publishTestMedia, Publication } from '../../scripts/publishRtp';
import { MEDIA_LINK_PATH } from '../../signaling/schemas/mediaLink';
import { HttpErrorCode, SignalingErrorCode } from '../../signaling/errors';
import type { MediaInput, ProducerInfo } from '../../plugin/recording/media/ChannelMedia';
import { RemoteChannelMedia } from '../../plugin/recording/media/RemoteChannelMedia';
import { rtpListenIp } from '../../plugin/recording/media/rtpListenIp';
import type { SignalingClient } from '../../signaling/SignalingClient';
import { freePort } from '../support/freePort';
import { RecordingTestServer, sleep, startRecordingServer, until } from '../support/recordingServer';
import { privateRedis } from '../support/redisServer';
import { TEST_SECRET } from '../support/server';
import { startTcpHop } from '../support/tcpHop';

const CHANNEL = 'linked';
const CREDENTIALS = { appId: 'confrec', secret: TEST_SECRET };
/** M's cluster.rtpAddress: where its link transports listen. The recorder stands on another address. */
const M_RTP_ADDRESS = '127.0.0.1';
const RECORDER_IP = '127.0.0.2';

let m: RecordingTestServer;
let publisher: { client: SignalingClient; publication: Publication };

const redis = privateRedis(t, async (started) => {
  const port = await freePort();
  m = await startRecordingServer({
    overrides: {
      http: { port, tls: 'off' },
      cluster: { redisUrl: started.url, publicUrl: `http://127.0.0.1:${port}`, nodeId: 'media-1', rtpAddress: M_RTP_ADDRESS, nodeTimeoutMs: 1500, leaseMs: 2000 },
    },
  });
  const { client } = await m.join(CHANNEL, 'alice');
  publisher = { client, publication: await publishTestMedia({ client, color: 0x33cc66, keyFrameRequests: true }) };
  return {
    async close() {
      await publisher.publication.stop();
      await m.close();
    },
  };
});

/** A UDP socket of the stand-in recorder, keeping what it receives. */
type RecorderSocket = { socket: dgram.Socket; port: number; received: { message: Buffer; address: string; port: number }[] };

/** Closed when the file ends: an input's sockets outlive the test that opened them. */
async function recorderSocket(): Promise<RecorderSocket> {
  const socket = dgram.createSocket('udp4');
  const received: RecorderSocket['received'] = [];
  socket.on('message', (message, remote) => received.push({ message, address: remote.address, port: remote.port }));
  await new Promise<void>((resolve) => socket.bind(0, RECORDER_IP, resolve));
  t.teardown(() => socket.close());
  return { socket, port: socket.address().port, received };
}

/** RTP (not RTCP: payload types 72–76 with the marker bit are RTCP packet types 200–204). */
const isRtp = (message: Buffer): boolean => message.length >= 12 && message[0]! >> 6 === 2 && !(message[1]! >= 200 && message[1]! <= 206);
/** mediasoup's bandwidth probation packets (padding only; SSRC 1234, payload type 127), which receivers drop. */
const PROBATION_SSRC = 1234;
/** The media RTP a recorder socket received. */
const rtpOf = (recorder: RecorderSocket) =>
  recorder.received
    .filter(({ message }) => isRtp(message))
    .map(({ message }) => ({ ssrc: message.readUInt32BE(8), payloadType: message[1]! & 0x7f }))
    .filter(({ ssrc }) => ssrc !== PROBATION_SSRC);

/** An RTCP PLI (RFC 4585 PSFB, FMT 1) for `mediaSsrc`. */
function pli(mediaSsrc: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x81;
  packet[1] = 206;
  packet.writeUInt16BE(2, 2);
  packet.writeUInt32BE(0x12345678, 4);
  packet.writeUInt32BE(mediaSsrc, 8);
  return packet;
}

function connectMedia(channelId = CHANNEL): Promise<RemoteChannelMedia> {
  return RemoteChannelMedia.connect({ url: m.httpUrl, channelId, credentials: CREDENTIALS, nodeId: 'recorder-1' });
}

function channelOnM(channelId = CHANNEL) {
  return m.server.registry.find(channelId);
}

/** Key-frame requests mediasoup sent the publisher of `producerId` (PLIs leaving the producer). */
function watchKeyFrameRequests(t: Test, producerId: string): { count: () => number } {
  const producer = channelOnM()!.producers().find(({ producer }) => producer.id === producerId)!.producer;
  let count = 0;
  const onTrace = (trace: { type: string; direction: string }): void => {
    if (trace.type === 'pli' && trace.direction === 'out') count++;
  };
  producer.on('trace', onTrace);
  void producer.enableTraceEvent(['pli']);
  t.teardown(() => {
    producer.off('trace', onTrace);
    if (!producer.closed) void producer.enableTraceEvent([]);
  });
  return { count: () => count };
}

/** Resolves once `count` stayed put for `quietMs` (requests after a resume have settled); false after `timeoutMs`. */
async function quiet(count: () => number, quietMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const before = count();
    await sleep(quietMs);
    if (count() === before) return true;
  }
  return false;
}

/** A TCP hop in front of M that can stop passing bytes either way (a network partition), connections left open. */
async function startPartitionableHop(t: Test, targetPort: number): Promise<{ url: string; partition(): void }> {
  const hop = await startTcpHop(targetPort);
  t.teardown(() => hop.close());
  return { url: `http://127.0.0.1:${hop.port}`, partition: () => hop.partition({ dropping: true }) };
}

t.test("a link's transports listen on rtpAddress where this machine holds it, else where WebRTC listens, announcing it (NAT)", async (t) => {
  t.same(rtpListenIp('127.0.0.2', '0.0.0.0'), { ip: '127.0.0.2' });
  t.same(rtpListenIp('198.51.100.7', '0.0.0.0'), { ip: '0.0.0.0', announcedIp: '198.51.100.7' });
});

if (redis) {
  let media: RemoteChannelMedia;
  let video: MediaInput;
  let audio: MediaInput;
  let videoRecorder: { rtp: RecorderSocket; rtcp: RecorderSocket };
  const inputsClosed: string[] = [];

  t.test('without the HTTP API credentials the link is refused (401 UNAUTHORIZED), and M holds nothing for it', async (t) => {
    const refused = await RemoteChannelMedia.connect({ url: m.httpUrl, channelId: CHANNEL, credentials: { appId: 'confrec', secret: 'not-the-secret' }, nodeId: 'recorder-1' }).then(
      () => undefined,
      (error: { code?: string; message?: string }) => error,
    );
    t.equal(refused?.code, HttpErrorCode.Unauthorized, String(refused?.message));
    t.equal(m.recording.mediaLinks?.linkCount(), 0);
  });

  t.test('a channel that is not open on M is refused with NOT_FOUND', async (t) => {
    const refused = await connectMedia('nobody-here').then(
      () => undefined,
      (error: { code?: string; message?: string }) => error,
    );
    t.equal(refused?.code, SignalingErrorCode.NotFound, String(refused?.message));
    t.match(refused?.message, /nobody-here/);
    t.equal(channelOnM('nobody-here'), undefined, 'a link does not create the channel');
  });

  t.test("the snapshot lists the publisher's video and audio producers with its uid, and the peers", async (t) => {
    const started = Date.now();
    media = await connectMedia();
    t.comment(`link up with its snapshot in ${Date.now() - started} ms`);
    t.equal(media.closed, false);
    const producers = media.producers().sort((a, b) => a.kind.localeCompare(b.kind));
    t.same(producers, [
      { producerId: publisher.publication.audioProducerId, kind: 'audio', paused: false, uid: 'alice' },
      { producerId: publisher.publication.videoProducerId, kind: 'video', paused: false, uid: 'alice' },
    ]);
    t.equal(media.peerCount(), 1);
    t.equal(m.recording.mediaLinks?.linkCount(CHANNEL), 1);
  });

  t.test("an input sends the producer's RTP to the recorder's socket once resumed, and M's RTCP from the address it describes", async (t) => {
    videoRecorder = { rtp: await recorderSocket(), rtcp: await recorderSocket() };
    const started = Date.now();
    video = await media.openInput(publisher.publication.videoProducerId!, {
      recorderIp: RECORDER_IP,
      preferredSpatialLayer: 10,
      onClose: () => inputsClosed.push('video'),
    });
    t.comment(`openInput answered in ${Date.now() - started} ms`);
    t.equal(video.kind, 'video');
    t.equal(video.description.codec.mimeType, 'video/VP8');
    t.equal(video.description.rtcp?.ip, M_RTP_ADDRESS, "the input's RTCP comes from M's rtpAddress");
    t.ok(video.description.rtcp!.port > 0);
    await video.connect({ ip: RECORDER_IP, rtpPort: videoRecorder.rtp.port, rtcpPort: videoRecorder.rtcp.port });
    await sleep(700);
    t.equal(rtpOf(videoRecorder.rtp).length, 0, 'nothing flows while the input is paused');
    await video.resume();
    const flowing = await until(() => rtpOf(videoRecorder.rtp).length >= 30, 5000);
    t.ok(flowing, `video RTP arrives (${rtpOf(videoRecorder.rtp).length} packets)`);
    const kinds = new Set(rtpOf(videoRecorder.rtp).map(({ ssrc, payloadType }) => `${ssrc}/${payloadType}`));
    t.same([...kinds], [`${video.description.ssrc}/${video.description.codec.payloadType}`], 'every packet has the SSRC and payload type the input describes');
    const fromM = await until(() => videoRecorder.rtcp.received.some(({ message, address, port }) => message[1] === 200 && address === video.description.rtcp!.ip && port === video.description.rtcp!.port), 4000);
    t.ok(fromM, "M's sender reports reach the recorder's RTCP socket from the input's RTCP address");

    const audioRecorder = await recorderSocket();
    audio = await media.openInput(publisher.publication.audioProducerId!, { recorderIp: RECORDER_IP, preferredSpatialLayer: 10, onClose: () => inputsClosed.push('audio') });
    t.equal(audio.description.codec.mimeType, 'audio/opus');
    await audio.connect({ ip: RECORDER_IP, rtpPort: audioRecorder.port });
    await audio.resume();
    t.ok(await until(() => rtpOf(audioRecorder).length >= 30, 5000), `audio RTP arrives (${rtpOf(audioRecorder).length} packets)`);
    t.same([...new Set(rtpOf(audioRecorder).map(({ ssrc, payloadType }) => `${ssrc}/${payloadType}`))], [`${audio.description.ssrc}/${audio.description.codec.payloadType}`]);

    const again = await media.openInput(publisher.publication.videoProducerId!, { recorderIp: RECORDER_IP, preferredSpatialLayer: 10, onClose: () => undefined }).then(
      () => undefined,
      (error: { code?: string }) => error,
    );
    t.equal(again?.code, SignalingErrorCode.BadRequest, 'a second input for the same producer on one link is refused');
  });

  t.test("a PLI sent from the recorder's RTCP port to M reaches the producer: M asks the publisher for a key frame", async (t) => {
    const requests = watchKeyFrameRequests(t, publisher.publication.videoProducerId!);
    t.ok(await quiet(requests.count, 1500, 8000), 'no key-frame requests for 1.5 s before the PLI');
    const before = requests.count();
    const started = Date.now();
    videoRecorder.rtcp.socket.send(pli(video.description.ssrc), video.description.rtcp!.port, video.description.rtcp!.ip);
    t.ok(await until(() => requests.count() > before, 3000, 20), `the producer sent the publisher a PLI (${requests.count() - before}) ${Date.now() - started} ms after the recorder's`);
  });

  t.test('requestKeyFrame over the link reaches the producer', async (t) => {
    const requests = watchKeyFrameRequests(t, publisher.publication.videoProducerId!);
    t.ok(await quiet(requests.count, 1500, 8000), 'no key-frame requests for 1.5 s before asking');
    const before = requests.count();
    const started = Date.now();
    await video.requestKeyFrame();
    t.comment(`requestKeyFrame answered in ${Date.now() - started} ms`);
    t.ok(await until(() => requests.count() > before, 3000, 20), 'the producer sent the publisher a PLI');
  });

  t.test('a malformed message gets an error answer and the link lives on', async (t) => {
    const socket = new WebSocket(`${m.url.replace(/\/ws$/, '')}${MEDIA_LINK_PATH}?channel=${CHANNEL}&node=probe`, {
      headers: { authorization: `Basic ${Buffer.from(`confrec:${TEST_SECRET}`).toString('base64')}` },
    });
    t.teardown(() => socket.close());
    const messages: any[] = [];
    socket.on('message', (raw) => messages.push(JSON.parse(raw.toString())));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const answerTo = async (frame: string, id: number | null): Promise<any> => {
      socket.send(frame);
      await until(() => messages.some((message) => 'ok' in message && message.id === id), 3000, 10);
      return messages.splice(messages.findIndex((message) => 'ok' in message && message.id === id), 1)[0];
    };
    await until(() => messages.length > 0, 3000, 10);
    t.equal(messages.shift()?.notification, 'snapshot', 'the first message is the snapshot');

    t.match(await answerTo('not json', null), { ok: false, error: { code: SignalingErrorCode.BadJson } });
    const badField = await answerTo(JSON.stringify({ id: 1, method: 'openInput', data: { producerId: 42, preferredSpatialLayer: 0 } }), 1);
    t.match(badField, { ok: false, error: { code: SignalingErrorCode.BadRequest, message: /data\.producerId/ } });
    t.match(await answerTo(JSON.stringify({ id: 2, method: 'openInput', data: { producerId: 'p', preferredSpatialLayer: 0, extra: true } }), 2), {
      ok: false,
      error: { code: SignalingErrorCode.BadRequest, message: /data\.extra/ },
    });
    t.match(await answerTo(JSON.stringify({ id: 3, method: 'produce', data: {} }), 3), { ok: false, error: { code: SignalingErrorCode.UnknownMethod } }, "signaling's methods are not the link's");
    t.match(await answerTo(JSON.stringify({ id: 4, method: 'resume', data: { inputId: 'i999' } }), 4), { ok: false, error: { code: SignalingErrorCode.NotFound } });
    t.match(await answerTo(JSON.stringify({ id: 5, method: 'connect', data: { inputId: 'i1', ip: 'x; rm -rf', rtpPort: 1 } }), 5), { ok: false, error: { code: SignalingErrorCode.BadRequest } });
    t.match(await answerTo(JSON.stringify({ id: 6, method: 'closeInput', data: { inputId: 'a'.repeat(70 * 1024) } }), null), { ok: false, error: { code: SignalingErrorCode.MessageTooLarge } });
    // A recorder wiring a large channel sends hundreds of requests at once: more than a signaling socket may.
    for (let id = 100; id < 400; id++) socket.send(JSON.stringify({ id, method: 'resume', data: { inputId: 'i999' } }));
    await until(() => messages.filter((message) => message.id >= 100).length === 300, 5000, 20);
    const burst = messages.splice(0).filter((message) => message.id >= 100);
    t.equal(burst.length, 300, 'every request of a burst of 300 is answered');
    t.ok(burst.every((message) => message.error?.code === SignalingErrorCode.NotFound), 'by the method (none RATE_LIMITED at the signaling limit of 200/s)');
    const opened = await answerTo(JSON.stringify({ id: 7, method: 'openInput', data: { producerId: publisher.publication.audioProducerId, preferredSpatialLayer: 0 } }), 7);
    t.match(opened, { ok: true, data: { kind: 'audio', description: { codec: { mimeType: 'audio/opus' } } } }, 'after all that the link still answers');
    t.equal(socket.readyState, WebSocket.OPEN);
    t.equal(media.closed, false, 'the other link is untouched');
  });

  t.test('another publisher joining and leaving: peerCount, producerAdded with its uid, producerClosed', async (t) => {
    const added: ProducerInfo[] = [];
    const closed: string[] = [];
    const counts: number[] = [];
    const onAdded = (producer: ProducerInfo): void => void added.push(producer);
    const onClosed = (producerId: string): void => void closed.push(producerId);
    const onCount = (count: number): void => void counts.push(count);
    media.on('producerAdded', onAdded).on('producerClosed', onClosed).on('peerCount', onCount);
    t.teardown(() => media.off('producerAdded', onAdded).off('producerClosed', onClosed).off('peerCount', onCount));
    const { client } = await m.join(CHANNEL, 'bob');
    const publication = await publishTestMedia({ client, audio: false, sendMedia: false });
    t.ok(await until(() => added.length === 1 && counts.includes(2), 3000), `producerAdded (${added.length}), peer counts ${counts.join(',')}`);
    t.same(added, [{ producerId: publication.videoProducerId, kind: 'video', paused: false, uid: 'bob' }]);
    t.equal(media.peerCount(), 2);
    t.ok(media.producers().some((producer) => producer.producerId === publication.videoProducerId), 'producers() has it');
    client.close();
    t.ok(await until(() => closed.length === 1 && media.peerCount() === 1, 3000), 'producerClosed and peerCount 1 once it left');
    t.same(closed, [publication.videoProducerId]);
    t.same(counts, [2, 1]);
  });

  t.test('the publisher pausing and resuming its video: producerPaused both ways', async (t) => {
    const changes: [string, boolean][] = [];
    const listener = (producerId: string, paused: boolean): void => void changes.push([producerId, paused]);
    media.on('producerPaused', listener);
    t.teardown(() => media.off('producerPaused', listener));
    const producerId = publisher.publication.videoProducerId!;
    await publisher.client.request('pauseProducer', { producerId });
    t.ok(await until(() => changes.length === 1, 3000), 'paused');
    t.equal(media.producers().find((producer) => producer.producerId === producerId)?.paused, true);
    await publisher.client.request('resumeProducer', { producerId });
    t.ok(await until(() => changes.length === 2, 3000), 'resumed');
    t.same(changes, [
      [producerId, true],
      [producerId, false],
    ]);
    t.equal(media.producers().find((producer) => producer.producerId === producerId)?.paused, false);
  });

  t.test('the publisher leaving: producerClosed for both producers, inputClosed for both inputs, peerCount 0; the link holds the channel open', async (t) => {
    const closed: string[] = [];
    const counts: number[] = [];
    media.on('producerClosed', (producerId) => closed.push(producerId));
    media.on('peerCount', (count) => counts.push(count));
    await publisher.publication.stop();
    publisher.client.close();
    t.ok(await until(() => closed.length === 2 && inputsClosed.length === 2 && counts.includes(0), 5000), `closed ${closed.length} producers, ${inputsClosed.length} inputs, peer counts ${counts.join(',')}`);
    t.same(closed.sort(), [publisher.publication.audioProducerId, publisher.publication.videoProducerId].sort());
    t.same(inputsClosed.sort(), ['audio', 'video']);
    t.same(media.producers(), []);
    t.equal(media.peerCount(), 0);
    await sleep(500);
    t.ok(channelOnM() && !channelOnM()!.closed, 'the channel stays open on M with no peers while links hold it');
    const late = await video.resume().then(
      () => undefined,
      (error: { code?: string }) => error,
    );
    t.equal(late?.code, SignalingErrorCode.NotFound, 'a closed input answers NOT_FOUND');
  });

  t.test('closing the links releases the channel: with no peer left it closes on M', async (t) => {
    media.close();
    t.equal(media.closed, true);
    t.ok(await until(() => m.recording.mediaLinks!.linkCount(CHANNEL) === 0, 3000), 'M forgot the links');
    t.ok(await until(() => channelOnM() === undefined, 3000), 'the channel closed on M');
    const afterClose = await media.openInput('whatever', { recorderIp: RECORDER_IP, preferredSpatialLayer: 0, onClose: () => undefined }).then(
      () => undefined,
      (error: { code?: string }) => error,
    );
    t.equal(afterClose?.code, SignalingErrorCode.ChannelClosed);
  });

  t.test('a channel closed on M closes the media of its links with the reason', async (t) => {
    const { client } = await m.join('closing', 'bob');
    t.teardown(() => client.close());
    const linked = await RemoteChannelMedia.connect({ url: m.httpUrl, channelId: 'closing', credentials: CREDENTIALS, nodeId: 'recorder-1' });
    const reasons: string[] = [];
    linked.on('closed', (reason) => reasons.push(reason));
    m.server.registry.find('closing')!.close('closed for the test');
    t.ok(await until(() => reasons.length === 1, 3000), 'closed once');
    t.match(reasons[0], /closed for the test/);
    t.equal(linked.closed, true);
    t.ok(await until(() => m.recording.mediaLinks!.linkCount('closing') === 0, 3000));
  });

  t.test('M unreachable behind a partition: a request rejects with TIMEOUT at its 5 s deadline; pings declare the link lost and M lets go of it', async (t) => {
    const { client } = await m.join('partitioned', 'dave');
    t.teardown(() => client.close());
    const hop = await startPartitionableHop(t, m.server.port);
    const quietLink = await RemoteChannelMedia.connect({ url: hop.url, channelId: 'partitioned', credentials: CREDENTIALS, nodeId: 'recorder-1', pingIntervalMs: 60_000 });
    const pingedLink = await RemoteChannelMedia.connect({ url: hop.url, channelId: 'partitioned', credentials: CREDENTIALS, nodeId: 'recorder-2', pingIntervalMs: 300 });
    t.teardown(() => quietLink.close());
    const producerId = quietLink.producers()[0]?.producerId ?? 'none';
    const lost: number[] = [];
    pingedLink.on('closed', () => lost.push(Date.now()));
    hop.partition();
    const started = Date.now();
    const timedOut = await quietLink.openInput(producerId, { recorderIp: RECORDER_IP, preferredSpatialLayer: 0, onClose: () => undefined }).catch((error: { code?: string; message?: string }) => error);
    const waited = Date.now() - started;
    t.equal((timedOut as { code?: string }).code, SignalingErrorCode.Timeout, String((timedOut as { message?: string }).message));
    t.ok(waited >= 4900 && waited < 6500, `rejected after ${waited} ms`);
    t.equal(lost.length, 1, 'the pinged link was declared lost');
    t.ok(lost[0]! - started < 2500, `within ${lost[0]! - started} ms of the partition (pings every 300 ms)`);
    t.equal(pingedLink.closed, true);
    t.ok(await until(() => m.recording.mediaLinks!.linkCount('partitioned') === 1, 3000), 'M closed the lost link (its socket ended), the quiet one stays');
  });

  t.test('M shutting down: the link is lost and the media says so', async (t) => {
    const { client } = await m.join('last', 'carol');
    const linked = await RemoteChannelMedia.connect({ url: m.httpUrl, channelId: 'last', credentials: CREDENTIALS, nodeId: 'recorder-1' });
    const reasons: string[] = [];
    linked.on('closed', (reason) => reasons.push(reason));
    client.close();
    await m.server.close();
    t.ok(await until(() => reasons.length === 1, 3000), `closed: ${reasons[0]}`);
    t.equal(linked.closed, true);
    const refused = await linked.openInput('p', { recorderIp: RECORDER_IP, preferredSpatialLayer: 0, onClose: () => undefined }).catch((error: { code?: string }) => error);
    t.equal((refused as { code?: string }).code, SignalingErrorCode.ChannelClosed);
  });
}
