/**
 * A UDP relay that marks a VP8 RTP stream with temporal layers, as a browser's L1T3 encoder would.
 *
 * Why: GStreamer 1.22's gst-launch cannot set vp8enc's temporal-scalability-layer-id and
 * -rate-decimator (GValueArray properties: "gst_value_deserialize_g_value_array: unimplemented"), so
 * a test publisher cannot encode real temporal layers. Instead it encodes key frames only (any frame
 * may then be dropped) and this relay adds to every packet's payload descriptor the TL0PICIDX and TID
 * of the L1T3 pattern 0,2,1,2 by picture id — what mediasoup reads to forward a temporal layer.
 * Expects rtpvp8pay picture-id-mode=2 (X=1, I=1, a 15-bit picture id, nothing else).
 */
import dgram from 'node:dgram';

const PATTERN = [0, 2, 1, 2];

export class Vp8LayerTagger {
  readonly #socket: dgram.Socket;
  readonly #target: { ip: string; port: number };
  readonly #tl0 = new Map<number, { pictureId: number; index: number }>();
  /** Packets relayed, by temporal layer. */
  readonly counts = [0, 0, 0];

  private constructor(socket: dgram.Socket, target: { ip: string; port: number }) {
    this.#socket = socket;
    this.#target = target;
    socket.on('message', (packet) => this.#relay(packet));
  }

  /** Listens on 127.0.0.1 (a free port) and relays to `target`. */
  static async start(target: { ip: string; port: number }): Promise<Vp8LayerTagger> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Vp8LayerTagger(socket, target);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  close(): void {
    this.#socket.close();
  }

  #relay(packet: Buffer): void {
    const tagged = this.#tag(packet) ?? packet;
    this.#socket.send(tagged, this.#target.port, this.#target.ip);
  }

  #tag(packet: Buffer): Buffer | undefined {
    // RTCP (payload types 192-223 in the second byte) goes through as it is.
    if (packet.length < 12 || packet[0]! >> 6 !== 2 || (packet[1]! >= 192 && packet[1]! <= 223)) return undefined;
    const csrcs = packet[0]! & 0x0f;
    let offset = 12 + csrcs * 4;
    if (packet[0]! & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
    const ssrc = packet.readUInt32BE(8);
    // X=1 and, in the extension byte, I=1 with L, T, K clear; a 15-bit picture id (M=1).
    if (packet.length < offset + 4 || !(packet[offset]! & 0x80) || (packet[offset + 1]! & 0xf0) !== 0x80 || !(packet[offset + 2]! & 0x80)) return undefined;
    const pictureId = packet.readUInt16BE(offset + 2) & 0x7fff;
    const tid = PATTERN[pictureId % PATTERN.length]!;
    // TL0PICIDX counts TL0 pictures: it moves on at each new TL0 picture id.
    const state = this.#tl0.get(ssrc) ?? { pictureId: -1, index: 0 };
    if (tid === 0 && state.pictureId !== pictureId) {
      state.pictureId = pictureId;
      state.index = (state.index + 1) & 0xff;
    }
    this.#tl0.set(ssrc, state);
    this.counts[tid]!++;
    const head = Buffer.from(packet.subarray(0, offset + 4));
    head[offset + 1] = 0x80 | 0x40 | 0x20; // I, L, T
    // Y=1: every picture is a key frame, so each one may be switched up at.
    const layer = Buffer.from([state.index, (tid << 6) | 0x20]);
    return Buffer.concat([head, layer, packet.subarray(offset + 4)]);
  }
}
