/**
 * VP8 RTP payloads (RFC 7741) of one stream: every packet gets a 15-bit picture id; a frame with
 * temporal-layer info also gets TL0PICIDX and TID/Y (as a browser's L1T3 encoder sends them), which
 * is what mediasoup needs to forward a temporal layer: it drops the frames above the layer a consumer
 * wants and rewrites picture id and TL0PICIDX so the receiver sees them continuous.
 */
import type { TemporalInfo } from './content';

export const MTU_PAYLOAD = 1100;

export class Vp8Packetizer {
  #pictureId = Math.floor(Math.random() * 0x7fff);
  #tl0PicIdx = Math.floor(Math.random() * 0x100);

  /** The RTP payloads of one frame, in order (the last one ends the frame: RTP marker). */
  payloads(frame: Buffer, temporal?: TemporalInfo): Buffer[] {
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    // TL0PICIDX names the TL0 picture a frame belongs after: it moves on at each TL0 frame.
    if (temporal?.tid === 0) this.#tl0PicIdx = (this.#tl0PicIdx + 1) & 0xff;
    const payloads: Buffer[] = [];
    for (let offset = 0; offset < frame.length; offset += MTU_PAYLOAD) {
      const chunk = frame.subarray(offset, Math.min(frame.length, offset + MTU_PAYLOAD));
      payloads.push(Buffer.concat([this.#descriptor(offset === 0, temporal), chunk]));
    }
    return payloads;
  }

  #descriptor(startOfFrame: boolean, temporal: TemporalInfo | undefined): Buffer {
    // X=1 (extension present), N (non-reference), S (start of partition 0), PID 0.
    const first = 0x80 | (temporal?.nonReference ? 0x20 : 0) | (startOfFrame ? 0x10 : 0);
    const pictureId = [0x80 | (this.#pictureId >> 8), this.#pictureId & 0xff];
    // I (picture id); with temporal info also L (TL0PICIDX) and T (TID byte).
    if (!temporal) return Buffer.from([first, 0x80, ...pictureId]);
    return Buffer.from([first, 0x80 | 0x40 | 0x20, ...pictureId, this.#tl0PicIdx, (temporal.tid << 6) | (temporal.layerSync ? 0x20 : 0)]);
  }
}

/** What a VP8 payload descriptor says (the fields Vp8Packetizer writes); undefined if it has no extension. */
export interface Vp8Descriptor {
  startOfFrame: boolean;
  nonReference: boolean;
  pictureId?: number;
  tl0PicIdx?: number;
  tid?: number;
  layerSync?: boolean;
  /** Bytes of descriptor before the VP8 data. */
  length: number;
}

export function parseVp8Descriptor(payload: Buffer): Vp8Descriptor {
  const first = payload[0]!;
  const result: Vp8Descriptor = { startOfFrame: (first & 0x10) !== 0, nonReference: (first & 0x20) !== 0, length: 1 };
  if (!(first & 0x80)) return result;
  const flags = payload[1]!;
  let offset = 2;
  if (flags & 0x80) {
    if (payload[offset]! & 0x80) {
      result.pictureId = payload.readUInt16BE(offset) & 0x7fff;
      offset += 2;
    } else {
      result.pictureId = payload[offset]! & 0x7f;
      offset += 1;
    }
  }
  if (flags & 0x40) result.tl0PicIdx = payload[offset++]!;
  if (flags & 0x30) {
    const byte = payload[offset++]!;
    if (flags & 0x20) {
      result.tid = byte >> 6;
      result.layerSync = (byte & 0x20) !== 0;
    }
  }
  result.length = offset;
  return result;
}
