/**
 * The benchmark's browser-like input has real temporal layers, and mediasoup forwards them: a short
 * clip encoded as the simulcast clip is (temporalVp8Args) decodes to the same pictures with its TL2,
 * or TL1 and TL2, frames left out; replayed by the bench Replayer into a real mediasoup producer, a
 * consumer asked for TL0 (or TL1) sends only those frames, and they decode (FFmpeg) to pictures of
 * the full decode.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import t from 'tap';
import { parseIvf } from '../../bench/lib/content';
import { Replayer } from '../../bench/lib/replayer';
import { layeredClip, temporalInfoOf, temporalVp8Args } from '../../bench/lib/simulcastClip';
import { parseVp8Descriptor } from '../../bench/lib/vp8Packetizer';

const WIDTH = 320;
const HEIGHT = 180;
const FPS = 30;
const DURATION_S = 3;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simulcast-clip-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const source = path.join(dir, 'clip.ivf');
execFileSync('ffmpeg', [
  '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS},noise=alls=5:allf=t`,
  ...temporalVp8Args(300), '-t', String(DURATION_S), '-f', 'ivf', source,
]);
const frames = parseIvf(fs.readFileSync(source));

function writeIvf(file: string, data: Buffer[]): void {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'ascii');
  header.writeUInt16LE(32, 6);
  header.write('VP80', 8, 'ascii');
  header.writeUInt16LE(WIDTH, 12);
  header.writeUInt16LE(HEIGHT, 14);
  header.writeUInt32LE(FPS, 16);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(data.length, 24);
  const parts: Buffer[] = [header];
  data.forEach((frame, index) => {
    const frameHeader = Buffer.alloc(12);
    frameHeader.writeUInt32LE(frame.length, 0);
    frameHeader.writeBigUInt64LE(BigInt(index), 4);
    parts.push(frameHeader, frame);
  });
  fs.writeFileSync(file, Buffer.concat(parts));
}

/** MD5 of each decoded picture, in order. */
function decodedMd5s(file: string): string[] {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'framemd5', '-'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(',').pop()!.trim());
}

const full = decodedMd5s(source);

t.test('the clip has real temporal layers: leaving out TL2, or TL1 and TL2, decodes to the same pictures', async (t) => {
  t.equal(full.length, frames.length, 'every frame decodes');
  t.equal(frames.filter((frame) => (frame[0]! & 1) === 0).length, Math.ceil((DURATION_S * FPS) / 60), 'a key frame every 2 s');
  for (const maxTid of [0, 1]) {
    const kept = frames.map((_, index) => index).filter((index) => temporalInfoOf(index).tid <= maxTid);
    const file = path.join(dir, `tl${maxTid}.ivf`);
    writeIvf(file, kept.map((index) => frames[index]!));
    const decoded = decodedMd5s(file);
    t.equal(decoded.length, kept.length, `TL0..TL${maxTid}: all ${kept.length} frames decode`);
    t.same(decoded, kept.map((index) => full[index]), `TL0..TL${maxTid}: pictures identical to the full decode's`);
  }
});

/** The router's capabilities less transport-cc/REMB: no bandwidth estimation to lower the layers here. */
function capabilitiesWithoutBwe(router: ms.Router): ms.RtpCapabilities {
  const capabilities = router.rtpCapabilities;
  return {
    ...capabilities,
    codecs: (capabilities.codecs ?? []).map((codec) => ({ ...codec, rtcpFeedback: (codec.rtcpFeedback ?? []).filter((fb) => fb.type !== 'transport-cc' && fb.type !== 'goog-remb') })),
    headerExtensions: (capabilities.headerExtensions ?? []).filter((extension) => !/transport-wide-cc|abs-send-time/.test(extension.uri)),
  };
}

interface Received {
  frames: Buffer[];
  tids: Set<number>;
}

/** A consumer of `producer` on a PlainTransport to a local socket, reassembling the VP8 frames it sends. */
async function receive(router: ms.Router, producer: ms.Producer, temporalLayer: number): Promise<{ received: Received; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
  await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
  const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: capabilitiesWithoutBwe(router), paused: true });
  await consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer });
  const received: Received = { frames: [], tids: new Set() };
  let pending: Buffer[] = [];
  socket.on('message', (packet: Buffer) => {
    if (packet.length < 12 || (packet[1]! & 0x7f) !== consumer.rtpParameters.codecs[0]!.payloadType) return;
    let offset = 12 + (packet[0]! & 0x0f) * 4;
    if (packet[0]! & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
    const payload = packet.subarray(offset);
    const descriptor = parseVp8Descriptor(payload);
    if (descriptor.tid !== undefined) received.tids.add(descriptor.tid);
    if (descriptor.startOfFrame) pending = [];
    pending.push(payload.subarray(descriptor.length));
    if (packet[1]! & 0x80) {
      received.frames.push(Buffer.concat(pending));
      pending = [];
    }
  });
  await consumer.resume();
  await consumer.requestKeyFrame();
  return {
    received,
    close: () => {
      transport.close();
      socket.close();
    },
  };
}

t.test('replayed into mediasoup, a consumer asked for a temporal layer sends only it and what is below, and it decodes', async (t) => {
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  t.teardown(() => worker.close());
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });
  const send = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const ssrc = 41_000_001;
  const producer = await send.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }],
      encodings: [{ ssrc, scalabilityMode: 'L1T3' }],
    },
  });
  const replayer = new Replayer();
  t.teardown(() => replayer.close());
  await replayer.add({ id: 'camera', clip: layeredClip(frames, FPS, DURATION_S), host: '127.0.0.1', port: send.tuple.localPort, ssrc, payloadType: 101, startAtMs: Date.now(), onPli: 'jump' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const receivers = await Promise.all([0, 1, 2].map((temporalLayer) => receive(router, producer, temporalLayer)));
  await new Promise((resolve) => setTimeout(resolve, 4000));
  receivers.forEach((receiver) => receiver.close());

  for (const [temporalLayer, { received }] of receivers.entries()) {
    const expectedFps = FPS / 2 ** (2 - temporalLayer);
    t.same([...received.tids].sort(), Array.from({ length: temporalLayer + 1 }, (_, tid) => tid), `TL${temporalLayer}: forwarded TIDs 0..${temporalLayer}`);
    t.ok(received.frames.length >= expectedFps * 3, `TL${temporalLayer}: about ${expectedFps} fps forwarded (${received.frames.length} frames in 4 s)`);
    const file = path.join(dir, `received-tl${temporalLayer}.ivf`);
    writeIvf(file, received.frames);
    const decoded = decodedMd5s(file);
    const allowed = new Set(full.filter((_, index) => temporalInfoOf(index).tid <= temporalLayer));
    t.equal(decoded.length, received.frames.length, `TL${temporalLayer}: every forwarded frame decodes`);
    t.equal(decoded.filter((md5) => !allowed.has(md5)).length, 0, `TL${temporalLayer}: each picture is one of the full decode's TL0..TL${temporalLayer} pictures`);
  }
});
