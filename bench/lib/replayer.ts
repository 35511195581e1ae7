/**
 * Replays pre-encoded clips as RTP at real-time pace with near-zero CPU: frames are packetized once
 * per send (VP8 by Vp8Packetizer: picture id, and TL0PICIDX/TID for a clip with temporal layers; Opus
 * one packet per frame), timestamps and sequence numbers continue across loops, and one 5 ms timer
 * drives every stream of the process. Streams of one `socketGroup` share a UDP socket, as a browser's
 * simulcast encodings share one transport (a comedia PlainTransport accepts one source address).
 *
 * Like a browser, a video stream answers PLI/FIR from the SFU at once: it goes back to the latest key
 * frame of the clip (content jumps a little, timestamps do not) — unless `onPli` is 'wait' (A/V sync
 * clip: jumping would break the flash/beep alignment; its key frames come every second anyway). As
 * libwebrtc does, it answers one request per MIN_KEY_FRAME_REQUEST_INTERVAL_MS, however recently the
 * clip's own key frame went out.
 * Sender reports go out every second so receivers can map RTP time to wall time.
 */
import dgram from 'node:dgram';
import { Clip, ClipFrame } from './content';
import { Vp8Packetizer } from './vp8Packetizer';

export interface StreamSpec {
  id: string;
  clip: Clip;
  host: string;
  port: number;
  ssrc: number;
  payloadType: number;
  /** Wall time (Date.now()) of clip time 0; streams of one publisher share it. */
  startAtMs: number;
  /** Start this many seconds into the clip (so publishers sharing a clip differ). */
  offsetS?: number;
  onPli?: 'jump' | 'wait';
  /** Streams with the same group send from one socket (one transport); default: a socket of its own. */
  socketGroup?: string;
}

export interface StreamStats {
  id: string;
  packets: number;
  bytes: number;
  plis: number;
  keyFramesSent: number;
}

const TICK_MS = 5;
const SR_INTERVAL_MS = 1000;
/**
 * libwebrtc sends at most one key frame on request per 300 ms (kMinKeyframeSendInterval in
 * encoder_rtcp_feedback.cc), counted from the last request it answered.
 */
const MIN_KEY_FRAME_REQUEST_INTERVAL_MS = 300;
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

class ReplayStream {
  readonly spec: StreamSpec;
  readonly socket: dgram.Socket;
  readonly stats: StreamStats;
  #index: number;
  #ticks = 0;
  #seq = Math.floor(Math.random() * 0xffff);
  readonly #tsBase = Math.floor(Math.random() * 0xffffffff);
  readonly #vp8 = new Vp8Packetizer();
  readonly #onMessage = (message: Buffer): void => this.#onRtcp(message);
  /** Date.now() when a key frame request was last answered; 0: never. */
  #lastRequestAnsweredAt = 0;
  #lastSrAt = 0;
  #closed = false;

  constructor(spec: StreamSpec, socket: dgram.Socket) {
    this.spec = spec;
    this.socket = socket;
    const { clip } = spec;
    this.#index = Math.floor(((spec.offsetS ?? 0) * clip.frames.length) / clip.durationS) % clip.frames.length;
    if (clip.kind === 'video') this.#index = this.#keyAtOrBefore(this.#index);
    this.stats = { id: spec.id, packets: 0, bytes: 0, plis: 0, keyFramesSent: 0 };
    socket.on('message', this.#onMessage);
  }

  /** Sends every frame due by `now`. */
  pump(now: number): void {
    const { clip, startAtMs } = this.spec;
    for (;;) {
      const dueAt = startAtMs + (this.#ticks * 1000) / clip.clockRate;
      if (dueAt > now || this.#closed) break;
      const frame = clip.frames[this.#index]!;
      const timestamp = (this.#tsBase + this.#ticks) >>> 0;
      if (clip.kind === 'video') this.#sendVp8(frame, timestamp);
      else this.#send(frame.data, timestamp, true);
      this.#ticks += frame.ticks;
      this.#index = (this.#index + 1) % clip.frames.length;
    }
    if (now - this.#lastSrAt >= SR_INTERVAL_MS && this.stats.packets > 0) this.#sendSr(now);
  }

  /** Stops sending; the socket is the Replayer's (it may carry other streams of the group). */
  close(): void {
    this.#closed = true;
    this.socket.off('message', this.#onMessage);
  }

  #sendVp8(frame: ClipFrame, timestamp: number): void {
    if (frame.key) this.stats.keyFramesSent++;
    const payloads = this.#vp8.payloads(frame.data, frame.temporal);
    payloads.forEach((payload, index) => this.#send(payload, timestamp, index === payloads.length - 1));
  }

  #send(payload: Buffer, timestamp: number, marker: boolean): void {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | this.spec.payloadType;
    header.writeUInt16BE(this.#seq, 2);
    header.writeUInt32BE(timestamp, 4);
    header.writeUInt32BE(this.spec.ssrc >>> 0, 8);
    this.#seq = (this.#seq + 1) & 0xffff;
    const packet = Buffer.concat([header, payload]);
    this.stats.packets++;
    this.stats.bytes += packet.length;
    this.socket.send(packet, this.spec.port, this.spec.host);
  }

  #sendSr(now: number): void {
    this.#lastSrAt = now;
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(this.spec.ssrc >>> 0, 4);
    const seconds = now / 1000 + NTP_EPOCH_OFFSET_S;
    sr.writeUInt32BE(Math.floor(seconds) >>> 0, 8);
    sr.writeUInt32BE(Math.floor((seconds % 1) * 2 ** 32) >>> 0, 12);
    const rtpNow = this.#tsBase + Math.round(((now - this.spec.startAtMs) * this.spec.clip.clockRate) / 1000);
    sr.writeUInt32BE(rtpNow >>> 0, 16);
    sr.writeUInt32BE(this.stats.packets >>> 0, 20);
    sr.writeUInt32BE(this.stats.bytes >>> 0, 24);
    this.socket.send(sr, this.spec.port, this.spec.host);
  }

  #onRtcp(message: Buffer): void {
    // Compound RTCP: walk the packets, look for PSFB (206) PLI (fmt 1) or FIR (fmt 4) about us.
    for (let offset = 0; offset + 12 <= message.length; ) {
      const fmt = message[offset]! & 0x1f;
      const type = message[offset + 1]!;
      const length = (message.readUInt16BE(offset + 2) + 1) * 4;
      if (type === 206 && (fmt === 1 || fmt === 4)) {
        const mediaSsrc = fmt === 1 ? message.readUInt32BE(offset + 8) : message.readUInt32BE(offset + 12);
        if (mediaSsrc === this.spec.ssrc >>> 0) this.#onKeyFrameRequest();
      }
      offset += length;
    }
  }

  #onKeyFrameRequest(): void {
    this.stats.plis++;
    if (this.spec.clip.kind !== 'video' || this.spec.onPli === 'wait') return;
    // A key frame that went out before the request does not answer it: whoever asks did not get that
    // one (a consumer resumed just after it). An ignored request makes mediasoup hold every request
    // for this stream 1 s (KeyFrameRetransmissionWaitTime) before it asks again.
    const now = Date.now();
    if (now - this.#lastRequestAnsweredAt < MIN_KEY_FRAME_REQUEST_INTERVAL_MS) return;
    this.#lastRequestAnsweredAt = now;
    this.#index = this.#keyAtOrBefore(this.#index);
  }

  #keyAtOrBefore(index: number): number {
    const { frames } = this.spec.clip;
    for (let i = index; i >= 0; i--) if (frames[i]!.key) return i;
    return 0;
  }
}

/** Every stream of one process, paced by one timer. */
export class Replayer {
  readonly #streams = new Map<string, ReplayStream>();
  readonly #groups = new Map<string, { socket: dgram.Socket; streams: Set<string> }>();
  #timer: NodeJS.Timeout | undefined;

  async add(spec: StreamSpec): Promise<{ localPort: number }> {
    if (this.#streams.has(spec.id)) throw new Error(`stream ${spec.id} exists`);
    const groupKey = spec.socketGroup ?? `stream:${spec.id}`;
    let group = this.#groups.get(groupKey);
    if (!group) {
      group = { socket: await bindLoopbackSocket(), streams: new Set() };
      this.#groups.set(groupKey, group);
    }
    group.streams.add(spec.id);
    this.#streams.set(spec.id, new ReplayStream(spec, group.socket));
    this.#timer ??= setInterval(() => this.#pump(), TICK_MS);
    return { localPort: group.socket.address().port };
  }

  remove(id: string): void {
    const stream = this.#streams.get(id);
    if (!stream) return;
    stream.close();
    this.#streams.delete(id);
    const groupKey = stream.spec.socketGroup ?? `stream:${id}`;
    const group = this.#groups.get(groupKey);
    group?.streams.delete(id);
    if (group && group.streams.size === 0) {
      group.socket.close();
      this.#groups.delete(groupKey);
    }
    if (this.#streams.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  stats(): StreamStats[] {
    return [...this.#streams.values()].map((stream) => ({ ...stream.stats }));
  }

  close(): void {
    for (const id of [...this.#streams.keys()]) this.remove(id);
  }

  #pump(): void {
    const now = Date.now();
    for (const stream of this.#streams.values()) stream.pump(now);
  }
}

async function bindLoopbackSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  return socket;
}
