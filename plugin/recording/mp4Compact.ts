import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/**
 * Crash-safe MP4s (mp4mux robust muxing) reserve room for the index at the head of the file: after a
 * normal stop most of it is left as `free` boxes — megabytes of padding in a short recording. This
 * rewrites such a file as ftyp + moov + mdat: the free boxes go and every chunk offset (stco/co64)
 * moves back by the bytes removed. The media bytes are copied unchanged.
 */

interface Box {
  type: string;
  start: number;
  size: number;
  headerSize: number;
}

/** Boxes whose children hold chunk offset tables. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'mvex', 'moof', 'traf']);

function readBoxes(buffer: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let position = start;
  while (position + 8 <= end) {
    let size = buffer.readUInt32BE(position);
    const type = buffer.toString('latin1', position + 4, position + 8);
    let headerSize = 8;
    if (size === 1) {
      size = Number(buffer.readBigUInt64BE(position + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = end - position;
    }
    if (size < headerSize || position + size > end) throw new Error(`malformed ${type} box at ${position}`);
    boxes.push({ type, start: position, size, headerSize });
    position += size;
  }
  return boxes;
}

/** Shifts every chunk offset in a moov box (in place) by -delta. */
function shiftChunkOffsets(moov: Buffer, start: number, end: number, delta: number): void {
  for (const box of readBoxes(moov, start, end)) {
    const body = box.start + box.headerSize;
    if (CONTAINERS.has(box.type)) {
      shiftChunkOffsets(moov, body, box.start + box.size, delta);
    } else if (box.type === 'stco') {
      const count = moov.readUInt32BE(body + 4);
      for (let index = 0; index < count; index++) {
        const at = body + 8 + index * 4;
        moov.writeUInt32BE(moov.readUInt32BE(at) - delta, at);
      }
    } else if (box.type === 'co64') {
      const count = moov.readUInt32BE(body + 4);
      for (let index = 0; index < count; index++) {
        const at = body + 8 + index * 8;
        moov.writeBigUInt64BE(moov.readBigUInt64BE(at) - BigInt(delta), at);
      }
    }
  }
}

export interface CompactResult {
  compacted: boolean;
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Compacts `file` in place (atomically: a temp file renamed over it) when its padding is more than
 * `minShare` of it. Long recordings carry little padding relative to their size and are left alone,
 * so the rewrite never costs more than copying a small file.
 */
export async function compactMp4(file: string, options: { minShare?: number } = {}): Promise<CompactResult> {
  const { minShare = 0.25 } = options;
  const { size } = await fsp.stat(file);
  const handle = await fsp.open(file, 'r');
  let top: Box[];
  let moov: Buffer;
  let ftyp: Buffer;
  try {
    // The top-level boxes are few; read their headers without loading mdat.
    top = [];
    let position = 0;
    const header = Buffer.alloc(16);
    while (position + 8 <= size) {
      await handle.read(header, 0, 16, position);
      let boxSize = header.readUInt32BE(0);
      let headerSize = 8;
      if (boxSize === 1) {
        boxSize = Number(header.readBigUInt64BE(8));
        headerSize = 16;
      } else if (boxSize === 0) {
        boxSize = size - position;
      }
      if (boxSize < headerSize || position + boxSize > size) return { compacted: false, bytesBefore: size, bytesAfter: size };
      top.push({ type: header.toString('latin1', 4, 8), start: position, size: boxSize, headerSize });
      position += boxSize;
    }
    const types = top.map((box) => box.type);
    const moovBox = top.find((box) => box.type === 'moov');
    const ftypBox = top.find((box) => box.type === 'ftyp');
    const mdatBoxes = top.filter((box) => box.type === 'mdat');
    const padding = top.filter((box) => box.type === 'free' || box.type === 'skip').reduce((sum, box) => sum + box.size, 0);
    // Only the layout robust muxing leaves: ftyp, then moov before a single mdat, padding between.
    if (!moovBox || !ftypBox || mdatBoxes.length !== 1 || types.some((type) => !['ftyp', 'moov', 'mdat', 'free', 'skip'].includes(type))) {
      return { compacted: false, bytesBefore: size, bytesAfter: size };
    }
    const mdatBox = mdatBoxes[0]!;
    if (moovBox.start > mdatBox.start || padding <= size * minShare) return { compacted: false, bytesBefore: size, bytesAfter: size };
    moov = Buffer.alloc(moovBox.size);
    await handle.read(moov, 0, moovBox.size, moovBox.start);
    ftyp = Buffer.alloc(ftypBox.size);
    await handle.read(ftyp, 0, ftypBox.size, ftypBox.start);
    const newMdatStart = ftypBox.size + moovBox.size;
    shiftChunkOffsets(moov, moovBox.headerSize, moov.length, mdatBox.start - newMdatStart);
    const temp = `${file}.compact.tmp`;
    await fsp.writeFile(temp, Buffer.concat([ftyp, moov]));
    await pipeline(fs.createReadStream(file, { start: mdatBox.start, end: mdatBox.start + mdatBox.size - 1 }), fs.createWriteStream(temp, { flags: 'a' }));
    await fsp.rename(temp, file);
    return { compacted: true, bytesBefore: size, bytesAfter: newMdatStart + mdatBox.size };
  } finally {
    await handle.close();
  }
}
