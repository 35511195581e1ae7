/**
 * Pre-encoded test content, made once with ffmpeg and cached under <repo>/.cache/bench/ (gitignored):
 *
 * - `moving`: 640×360@15 VP8 (~600 kbps, key frame every 2 s) of testsrc2 with temporal noise, so every
 *   frame differs and the encoder/decoder work like on a camera rather than a still pattern; Opus
 *   stereo 48 kbps, 20 ms packets. 20 s, looped by the replayer.
 * - `avsync`: black video with one white frame at each whole second, and a 50 ms 1 kHz beep starting
 *   at each whole second (VP8 key frame every second, Opus 20 ms packets). 10 s, looped.
 *
 * The clips are parsed here into frames (IVF for VP8, Ogg for Opus) that the replayer packetizes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../server/projectRoot';

/** `simulcast`: the three-layer camera of bench/lib/simulcastClip.ts (its audio is `moving`'s). */
export type ClipName = 'moving' | 'avsync' | 'simulcast';

/** A VP8 frame's place in temporal layers (a clip encoded with them). */
export interface TemporalInfo {
  tid: number;
  /** Depends on TL0 frames only: a receiver can switch up to this layer here (VP8 Y bit). */
  layerSync: boolean;
  /** No later frame references it (VP8 N bit). */
  nonReference: boolean;
}

export interface ClipFrame {
  data: Buffer;
  key: boolean;
  /** Duration in RTP clock ticks. */
  ticks: number;
  temporal?: TemporalInfo;
}

export interface Clip {
  kind: 'video' | 'audio';
  clockRate: number;
  frames: ClipFrame[];
  /** Whole clip in seconds (loops keep A/V alignment because both tracks are cut to this). */
  durationS: number;
}

export const VIDEO_FPS = 15;
const CLIPS: Record<Exclude<ClipName, 'simulcast'>, { durationS: number; video: string[]; audio: string[] }> = {
  moving: {
    durationS: 20,
    video: [
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15,noise=alls=5:allf=t',
      '-c:v', 'libvpx', '-deadline', 'good', '-cpu-used', '4', '-b:v', '600k', '-g', '30', '-keyint_min', '30',
      '-auto-alt-ref', '0', '-lag-in-frames', '0', '-error-resilient', '1',
    ],
    audio: ['-f', 'lavfi', '-i', 'sine=f=440:r=48000,aformat=channel_layouts=stereo', '-c:a', 'libopus', '-b:a', '48k', '-frame_duration', '20'],
  },
  avsync: {
    durationS: 10,
    video: [
      '-f', 'lavfi', '-i', "color=c=black:s=640x360:r=15,format=yuv420p,geq=lum='if(lt(mod(N\\,15)\\,1)\\,235\\,16)':cb=128:cr=128",
      '-c:v', 'libvpx', '-deadline', 'good', '-cpu-used', '4', '-b:v', '400k', '-g', '15', '-keyint_min', '15',
      '-auto-alt-ref', '0', '-lag-in-frames', '0', '-error-resilient', '1',
    ],
    audio: [
      '-f', 'lavfi', '-i', "aevalsrc='if(lt(mod(t\\,1)\\,0.05)\\,0.5*sin(2*PI*1000*t)\\,0)|if(lt(mod(t\\,1)\\,0.05)\\,0.5*sin(2*PI*1000*t)\\,0)':s=48000",
      '-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '20',
    ],
  },
};

export function cacheDir(): string {
  const dir = path.join(findProjectRoot(__dirname), '.cache', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Encodes the clip's files if they are not cached yet; returns their paths. */
export function ensureClipFiles(name: Exclude<ClipName, 'simulcast'>): { ivf: string; ogg: string } {
  const spec = CLIPS[name];
  const dir = cacheDir();
  const ivf = path.join(dir, `${name}-v1.ivf`);
  const ogg = path.join(dir, `${name}-v1.ogg`);
  const encode = (args: string[], out: string): void => {
    if (fs.existsSync(out)) return;
    const tmp = `${out}.${process.pid}.tmp`; // per process: two test files may make the clip at once
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, '-t', String(spec.durationS + 1), '-f', out.endsWith('.ivf') ? 'ivf' : 'ogg', tmp], { stdio: 'inherit' });
    fs.renameSync(tmp, out);
  };
  encode(spec.video, ivf);
  encode(spec.audio, ogg);
  return { ivf, ogg };
}

export function loadClip(name: Exclude<ClipName, 'simulcast'>, kind: 'video' | 'audio'): Clip {
  const files = ensureClipFiles(name);
  const { durationS } = CLIPS[name];
  if (kind === 'video') {
    const frames = parseIvf(fs.readFileSync(files.ivf)).slice(0, durationS * VIDEO_FPS);
    return { kind, clockRate: 90000, durationS, frames: frames.map((data) => ({ data, key: (data[0]! & 0x01) === 0, ticks: 90000 / VIDEO_FPS })) };
  }
  const packets = parseOggOpus(fs.readFileSync(files.ogg));
  const frames: ClipFrame[] = [];
  let total = 0;
  for (const data of packets) {
    const ticks = opusSamples(data);
    if (total + ticks > durationS * 48000) break;
    frames.push({ data, key: true, ticks });
    total += ticks;
  }
  if (total !== durationS * 48000) throw new Error(`${name} audio is ${total} samples, expected ${durationS * 48000}`);
  return { kind, clockRate: 48000, durationS, frames };
}

export function parseIvf(file: Buffer): Buffer[] {
  if (file.toString('ascii', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const headerLength = file.readUInt16LE(6);
  const frames: Buffer[] = [];
  for (let offset = headerLength; offset + 12 <= file.length; ) {
    const size = file.readUInt32LE(offset);
    frames.push(file.subarray(offset + 12, offset + 12 + size));
    offset += 12 + size;
  }
  return frames;
}

/** The Opus packets of an Ogg Opus file, without OpusHead/OpusTags. */
export function parseOggOpus(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  for (let offset = 0; offset + 27 <= file.length; ) {
    if (file.toString('ascii', offset, offset + 4) !== 'OggS') throw new Error(`bad Ogg page at ${offset}`);
    const segments = file[offset + 26]!;
    let body = offset + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const lace = file[offset + 27 + i]!;
      pending.push(file.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    offset = body;
  }
  return packets.filter((packet) => !packet.subarray(0, 8).equals(Buffer.from('OpusHead')) && !packet.subarray(0, 8).equals(Buffer.from('OpusTags')));
}

/** Samples (48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
export function opusSamples(packet: Buffer): number {
  const toc = packet[0]!;
  const config = toc >> 3;
  let frameSamples: number;
  if (config < 12) frameSamples = [480, 960, 1920, 2880][config & 3]!;
  else if (config < 16) frameSamples = [480, 960][config & 1]!;
  else frameSamples = [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  const count = code === 0 ? 1 : code === 3 ? packet[1]! & 0x3f : 2;
  return frameSamples * count;
}
