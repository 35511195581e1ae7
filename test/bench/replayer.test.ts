/**
 * The benchmarks' replay publisher answers a key frame request the way a browser does: with a key
 * frame at once, even when the clip's own key frame went out just before the request (a consumer
 * resumed after that one has not seen it). The packets are read off a real UDP socket.
 */
import dgram from 'node:dgram';
import t from 'tap';
import { loadClip } from '../../bench/lib/content';
import { Replayer } from '../../bench/lib/replayer';

const SSRC = 0x1234abcd;
const VIDEO_PT = 101;
/** RTP header (12) + the replayer's VP8 payload descriptor (4): then the VP8 payload header. */
const VP8_PAYLOAD_OFFSET = 16;

interface FrameStart {
  timestamp: number;
  key: boolean;
}

/** The first packet of a VP8 frame (descriptor S bit), and whether the frame is a key frame (P bit clear). */
function frameStart(packet: Buffer): FrameStart | undefined {
  if (packet.length <= VP8_PAYLOAD_OFFSET || (packet[1]! & 0x7f) !== VIDEO_PT) return undefined;
  if ((packet[12]! & 0x10) === 0) return undefined;
  return { timestamp: packet.readUInt32BE(4), key: (packet[VP8_PAYLOAD_OFFSET]! & 0x01) === 0 };
}

function pli(senderSsrc: number, mediaSsrc: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x80 | 1; // V=2, FMT=1 (PLI)
  packet[1] = 206; // PSFB
  packet.writeUInt16BE(2, 2);
  packet.writeUInt32BE(senderSsrc, 4);
  packet.writeUInt32BE(mediaSsrc, 8);
  return packet;
}

t.test('a PLI right after the clip’s own key frame is answered with a key frame', async (t) => {
  const clip = loadClip('moving', 'video');
  t.ok(clip.frames[0]!.key && !clip.frames[1]!.key, 'the clip starts with a key frame followed by delta frames');
  const receiver = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', () => resolve()));
  const replayer = new Replayer();
  t.teardown(() => {
    replayer.close();
    receiver.close();
  });
  const frames: FrameStart[] = [];
  let replayerPort = 0;
  const done = new Promise<void>((resolve) => {
    receiver.on('message', (packet) => {
      const start = frameStart(packet);
      if (!start) return;
      frames.push(start);
      // Asked the moment the clip's own key frame (frame 0) arrived: before its next frame is due.
      if (frames.length === 1) receiver.send(pli(1, SSRC), replayerPort, '127.0.0.1');
      if (frames.length === 3) resolve();
    });
  });
  ({ localPort: replayerPort } = await replayer.add({
    id: 'v',
    clip,
    host: '127.0.0.1',
    port: receiver.address().port,
    ssrc: SSRC,
    payloadType: VIDEO_PT,
    startAtMs: Date.now(),
    onPli: 'jump',
  }));
  await done;
  t.equal(frames[0]!.key, true, 'the stream starts with the clip’s key frame');
  t.equal(frames[1]!.key, true, 'the frame after the PLI is a key frame, not the clip’s next delta frame');
  t.not(frames[1]!.timestamp, frames[0]!.timestamp, 'sent as a new frame (timestamps go on)');
  t.equal(frames[2]!.key, false, 'then the clip goes on with delta frames');
  const [stats] = replayer.stats();
  t.equal(stats?.plis, 1, 'the replayer saw the PLI');
  t.equal(stats?.keyFramesSent, 2, 'two key frames sent: the clip’s and the answer');
});
