// A client written from docs/protocol.md alone: a bare `ws` socket speaking the documented JSON
// frames (no SignalingClient, no mediasoup-client) publishes RTP from GStreamer through a
// PlainTransport, consumes it into a UDP socket, and records the channel. Every method, request
// field, response field and notification field it uses must appear in the reference.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { sleep, startRecordingServer, until } from '../support/recordingServer';
import type { TSchema } from '@sinclair/typebox';
import { signalingMethods, signalingNotifications } from '../../signaling/schemas/signaling';
import { checker } from '../../signaling/schemas/validate';
import { RtpPublisher, videoLaunch } from '../support/rtpSender';
import { docSection, readProtocolDoc } from '../support/protocolDoc';

type Json = any;

/** Answers and notifications that do not match their documented schema (there should be none). */
const mismatches: string[] = [];
function conform(kind: string, schema: TSchema | undefined, value: unknown): void {
  if (!schema) return void mismatches.push(`${kind}: not in the schema source`);
  try {
    checker(schema).parse(value, kind);
  } catch (error) {
    mismatches.push((error as Error).message);
  }
}

/** What the client used, by method or notification name: the fields it sent or read. */
const used = new Map<string, Set<string>>();
function use(name: string, ...fields: string[]): void {
  const set = used.get(name) ?? new Set<string>();
  for (const field of fields) set.add(field);
  used.set(name, set);
}

class DocClient {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { method: string; resolve: (data: Json) => void; reject: (error: Error) => void }>();
  readonly notifications: Array<{ notification: string; data: Json }> = [];
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (typeof message.notification === 'string') {
        conform(message.notification, (signalingNotifications as Record<string, { data: TSchema }>)[message.notification]?.data, message.data);
        this.notifications.push(message);
        return;
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.ok === true) {
        conform(pending.method, (signalingMethods as Record<string, { response: TSchema }>)[pending.method]?.response, message.data);
        pending.resolve(message.data);
      }
      else pending.reject(Object.assign(new Error(`${message.error.code}: ${message.error.message}`), { code: message.error.code }));
    });
  }

  static async open(url: string): Promise<DocClient> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new DocClient(socket);
  }

  request(method: string, data: Record<string, unknown>): Promise<Json> {
    use(method, ...Object.keys(data));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, data }));
    });
  }

  async notified(notification: string, predicate: (data: Json) => boolean, timeoutMs: number): Promise<Json> {
    let found: Json;
    const seen = await until(() => (found = this.notifications.find((entry) => entry.notification === notification && predicate(entry.data))) !== undefined, timeoutMs, 50);
    if (!seen) throw new Error(`no ${notification} within ${timeoutMs} ms`);
    return found.data;
  }

  close(): void {
    this.#socket.close();
  }
}

t.test('a raw WebSocket client using only docs/protocol.md publishes, consumes and records', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const token = (uid: string): string => env.token({ channelId: 'doc-room', uid });

  // Publisher: join, a send PlainTransport, a VP8 producer fed by GStreamer.
  const publisher = await DocClient.open(env.url);
  t.teardown(() => publisher.close());
  const joined = await publisher.request('join', { channelId: 'doc-room', displayName: 'publisher', token: token('publisher') });
  use('join', 'channel', 'properties', 'recordState');
  t.equal(joined.channel.properties.recordState, 'Ready', 'the channel can be recorded (default local store)');
  const send = await publisher.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
  use('createPlainTransport', 'transportId', 'ip', 'port');
  const ssrc = 31_337;
  const { producerId } = await publisher.request('produce', {
    transportId: send.transportId,
    kind: 'video',
    rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc }] },
  });
  use('produce', 'producerId');
  // As the reference's flow says: VP8 RTP with a picture id, that payload type and SSRC, to ip:port.
  const gst = new RtpPublisher(videoLaunch({ host: send.ip, port: send.port, color: 0x00ff00, ssrc, payloadType: 96 }).replace('rtpvp8pay ', 'rtpvp8pay picture-id-mode=2 '));
  t.teardown(() => gst.stop());

  // Subscriber: join, finds the producer in peers[].producers, consumes into a UDP socket.
  const subscriber = await DocClient.open(env.url);
  t.teardown(() => subscriber.close());
  const seen = await subscriber.request('join', { channelId: 'doc-room', displayName: 'subscriber', token: token('subscriber') });
  use('join', 'peers', 'producers', 'producerId');
  t.ok(seen.peers.some((peer: Json) => peer.producers.some((producer: Json) => producer.producerId === producerId)), "the producer is in join's peers");
  const udp = dgram.createSocket('udp4');
  t.teardown(() => udp.close());
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const recv = await subscriber.request('createPlainTransport', { direction: 'recv', comedia: false, rtcpMux: true });
  await subscriber.request('connectPlainTransport', { transportId: recv.transportId, ip: '127.0.0.1', port: udp.address().port });
  const consumer = await subscriber.request('consume', { transportId: recv.transportId, producerId });
  use('consume', 'consumerId', 'rtpParameters', 'paused');
  t.equal(consumer.paused, true, 'the consumer starts paused, as documented');
  const payloadType = consumer.rtpParameters.codecs[0].payloadType;
  const consumerSsrc = consumer.rtpParameters.encodings[0].ssrc;
  let packets = 0;
  udp.on('message', (packet) => {
    if (packet.length >= 12 && (packet[1]! & 0x7f) === payloadType && packet.readUInt32BE(8) === consumerSsrc) packets++;
  });
  await subscriber.request('resumeConsumer', { consumerId: consumer.consumerId });
  t.ok(await until(() => packets >= 30, 15_000), `RTP arrives on the UDP socket (${packets} packets)`);

  // Record: enableRecord → recordState Running (propertyChange) → stop → the file is stored.
  const started = await publisher.request('enableRecord', { enable: true });
  use('enableRecord', 'accepted', 'recordingId');
  t.equal(started.accepted, true, 'enableRecord accepted');
  const running = await subscriber.notified('propertyChange', (data) => data.properties.recordState === 'Running', 20_000);
  use('propertyChange', 'changed', 'properties', 'recordState', 'recordingId');
  t.equal(running.properties.recordingId, started.recordingId, 'propertyChange names the running recording');
  await sleep(3000);
  await publisher.request('enableRecord', { enable: false });
  const uploaded = await publisher.notified('recordingEvent', (data) => data.event === 'uploaded', 40_000);
  use('recordingEvent', 'recordingId', 'event', 'fileName');
  t.equal(uploaded.recordingId, started.recordingId, 'the uploaded event names the recording');
  const file = path.join(env.server.config.recording.recordingsDir, uploaded.fileName);
  t.ok(fs.existsSync(file) && fs.statSync(file).size > 1000, `the file is stored (${uploaded.fileName})`);

  t.same(mismatches, [], 'every answer and notification matched its documented schema');

  // Everything used is in the reference.
  const doc = readProtocolDoc();
  const signaling = doc.slice(doc.indexOf('## Channel signaling'), doc.indexOf('## Recorder SDK socket'));
  for (const [name, fields] of used) {
    const section = docSection(signaling, name);
    t.ok(section.length > 0, `${name} is documented`);
    for (const field of fields) t.match(section, new RegExp(`\\b${field}\\??: `), `${name}: ${field} is documented`);
  }
  t.match(signaling, /"video\/VP8"/, 'the PlainTransport publishing flow (codecs, encodings) is documented');
  t.match(signaling, /picture-id-mode=2/, 'with the VP8 picture id it needs');
  t.match(signaling, /codecs\[0\]\.payloadType/, 'and where the consumed payload type and SSRC are');
});
