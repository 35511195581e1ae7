/**
 * Decoding helpers for tests: what is in a file according to ffprobe / ffmpeg / gst-discoverer, the
 * colour of a region of a decoded frame, and whether a tone is present in the decoded audio.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAX_BUFFER = 256 * 1024 * 1024;

export interface ProbeStream {
  codec_type: 'video' | 'audio' | string;
  codec_name: string;
  width?: number;
  height?: number;
  channels?: number;
  sample_rate?: string;
}

export interface ProbeResult {
  durationS: number;
  streams: ProbeStream[];
  video?: ProbeStream;
  audio?: ProbeStream;
}

export async function probe(file: string): Promise<ProbeResult> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height,channels,sample_rate', '-of', 'json', file]);
  const parsed = JSON.parse(stdout) as { format?: { duration?: string }; streams?: ProbeStream[] };
  const streams = parsed.streams ?? [];
  return {
    durationS: Number(parsed.format?.duration ?? NaN),
    streams,
    video: streams.find((s) => s.codec_type === 'video'),
    audio: streams.find((s) => s.codec_type === 'audio'),
  };
}

/** Duration by decoding every packet (works for files without a duration header, e.g. after a kill). */
export async function decodedDurationS(file: string, kind: 'video' | 'audio' = 'video'): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-select_streams', kind === 'video' ? 'v:0' : 'a:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file],
    { maxBuffer: MAX_BUFFER },
  );
  let end = 0;
  for (const line of stdout.split('\n')) {
    const [pts, duration] = line.split(',').map(Number);
    if (Number.isFinite(pts)) end = Math.max(end, pts + (Number.isFinite(duration) ? duration : 0));
  }
  return end;
}

/**
 * Packets the container lists for the first stream of `kind`, frames FFmpeg decodes from them, and
 * the packets it flags discarded (outside the edit list): a sound file has listed === decoded.
 */
export async function packetsAndFrames(file: string, kind: 'video' | 'audio' = 'video'): Promise<{ listed: number; decoded: number; discarded: number }> {
  const select = kind === 'video' ? 'v:0' : 'a:0';
  const counts = await run('ffprobe', ['-v', 'error', '-count_packets', '-count_frames', '-select_streams', select, '-show_entries', 'stream=nb_read_packets,nb_read_frames', '-of', 'json', file], {
    maxBuffer: MAX_BUFFER,
  });
  const stream = (JSON.parse(counts.stdout) as { streams: Array<{ nb_read_packets?: string; nb_read_frames?: string }> }).streams[0];
  const flags = await run('ffprobe', ['-v', 'error', '-select_streams', select, '-show_entries', 'packet=flags', '-of', 'csv=p=0', file], { maxBuffer: MAX_BUFFER });
  return {
    listed: Number(stream?.nb_read_packets ?? NaN),
    decoded: Number(stream?.nb_read_frames ?? NaN),
    discarded: flags.stdout.split('\n').filter((line) => line.includes('D')).length,
  };
}

/** Frames ffmpeg can decode from the whole file (fails loudly on a broken file). */
export async function decodeAll(file: string): Promise<{ ok: boolean; stderr: string }> {
  try {
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { maxBuffer: MAX_BUFFER });
    return { ok: true, stderr };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: string }).stderr ?? error) };
  }
}

/** gst-discoverer-1.0 where installed (it is not on these machines: use gstDecode). */
export async function discover(file: string): Promise<{ ok: boolean; durationS: number; output: string }> {
  try {
    const { stdout } = await run('gst-discoverer-1.0', ['-v', file], { maxBuffer: MAX_BUFFER, timeout: 60000 });
    const match = /Duration: (\d+):(\d+):([\d.]+)/.exec(stdout);
    const durationS = match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : NaN;
    return { ok: !/error|fail/i.test(stdout.split('\n')[0] ?? '') && match !== null, durationS, output: stdout };
  } catch (error) {
    return { ok: false, durationS: NaN, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

export interface Frame {
  width: number;
  height: number;
  /** rgb24, row-major */
  data: Buffer;
}

export async function frameAt(file: string, timeS: number): Promise<Frame> {
  const info = await probe(file);
  if (!info.video?.width || !info.video.height) throw new Error(`${file} has no video stream`);
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(timeS), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: MAX_BUFFER },
  );
  const data = stdout as unknown as Buffer;
  if (data.length !== info.video.width * info.video.height * 3) throw new Error(`no frame at ${timeS}s in ${file} (got ${data.length} bytes)`);
  return { width: info.video.width, height: info.video.height, data };
}

/** Every decoded video frame shown from `fromS` to `toS` (rgb24). */
export async function framesBetween(file: string, fromS: number, toS: number): Promise<Frame[]> {
  const info = await probe(file);
  const { width, height } = info.video ?? {};
  if (!width || !height) throw new Error(`${file} has no video stream`);
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(fromS), '-i', file, '-t', String(toS - fromS), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: MAX_BUFFER },
  );
  const data = stdout as unknown as Buffer;
  const size = width * height * 3;
  const frames: Frame[] = [];
  for (let offset = 0; offset + size <= data.length; offset += size) frames.push({ width, height, data: data.subarray(offset, offset + size) });
  return frames;
}

/**
 * The most consecutive frames in which `rect` did not change from the frame before (no pixel moved
 * as changedShare counts it): a frozen tile gives a long run, a moving picture a short one.
 */
export function longestStillRun(frames: readonly Frame[], rect: { x: number; y: number; width: number; height: number }): number {
  let longest = 0;
  let run = 0;
  for (let index = 1; index < frames.length; index++) {
    run = changedShare(frames[index - 1]!, frames[index]!, rect) === 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

export type Rgb = [number, number, number];

/** Mean colour of a rectangle, shrunk by `inset` of its size on each side to stay clear of edges. */
export function meanColor(frame: Frame, rect: { x: number; y: number; width: number; height: number }, inset = 0.2): Rgb {
  const x0 = Math.round(rect.x + rect.width * inset);
  const x1 = Math.round(rect.x + rect.width * (1 - inset));
  const y0 = Math.round(rect.y + rect.height * inset);
  const y1 = Math.round(rect.y + rect.height * (1 - inset));
  const sum = [0, 0, 0];
  let count = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const offset = (y * frame.width + x) * 3;
      sum[0] += frame.data[offset];
      sum[1] += frame.data[offset + 1];
      sum[2] += frame.data[offset + 2];
      count++;
    }
  }
  return sum.map((value) => Math.round(value / Math.max(1, count))) as Rgb;
}

export const COLORS: Record<string, Rgb> = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  magenta: [255, 0, 255],
  cyan: [0, 255, 255],
  white: [255, 255, 255],
  black: [0, 0, 0],
  grey: [64, 64, 64],
};

/** The named colour nearest to rgb (Euclidean), or 'unknown' when nothing is close. */
export function colorName(rgb: Rgb, maxDistance = 90): string {
  let best = 'unknown';
  let bestDistance = maxDistance;
  for (const [name, ref] of Object.entries(COLORS)) {
    const distance = Math.hypot(rgb[0] - ref[0], rgb[1] - ref[1], rgb[2] - ref[2]);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Decoded mono float PCM (48 kHz) of [startS, startS + durationS). */
export async function pcm(file: string, startS: number, durationS: number): Promise<Float32Array> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(startS), '-t', String(durationS), '-i', file, '-vn', '-ac', '1', '-ar', '48000', '-f', 'f32le', '-'],
    { encoding: 'buffer', maxBuffer: MAX_BUFFER },
  );
  const data = stdout as unknown as Buffer;
  return new Float32Array(data.buffer, data.byteOffset, Math.floor(data.length / 4));
}

/**
 * Share of the signal's energy at `frequency` (Goertzel): the median over 100 ms windows. A pure tone
 * gives ~0.5 per tone present in an equal mix of two; silence or absent tones give ~0. Windows, not
 * one transform over the whole span: a single 10 ms gap (a period dropped under CPU load) shifts the
 * tone's phase and would cancel most of a long transform although the tone is plainly there.
 */
export function toneShare(samples: Float32Array, frequency: number, rate = 48000): number {
  const window = Math.round(rate / 10);
  if (samples.length < window) return windowToneShare(samples, frequency, rate);
  const shares: number[] = [];
  for (let start = 0; start + window <= samples.length; start += window) {
    shares.push(windowToneShare(samples.subarray(start, start + window), frequency, rate));
  }
  shares.sort((a, b) => a - b);
  return shares[Math.floor(shares.length / 2)]!;
}

function windowToneShare(samples: Float32Array, frequency: number, rate: number): number {
  if (samples.length === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const sample of samples) {
    const s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += sample * sample;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  // |X(f)|² = (A·N/2)² for amplitude A; energy = A²·N/2 → power / (energy · N / 2) = 1 for a pure tone.
  return energy === 0 ? 0 : power / ((energy * samples.length) / 2);
}

export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/**
 * GStreamer's own view of a file (gst-discoverer-1.0 is not installed here): playbin decodes every
 * stream to fakesinks (exit status), and a paused playbin answers the duration query.
 */
export async function gstDecode(file: string): Promise<{ ok: boolean; durationS: number; stderr: string }> {
  const uri = `file://${file}`;
  let ok = true;
  let stderr = '';
  try {
    await run('gst-launch-1.0', ['-q', 'playbin', `uri=${uri}`, 'video-sink=fakesink sync=false', 'audio-sink=fakesink sync=false'], { timeout: 120000 });
  } catch (error) {
    ok = false;
    stderr = String((error as { stderr?: string }).stderr ?? error);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Pipeline } = require('gstreamer-superficial') as typeof import('gstreamer-superficial');
  const pipeline = new Pipeline(`playbin uri=${uri} video-sink=fakesink audio-sink=fakesink`);
  pipeline.pause();
  let durationS = -1;
  for (let i = 0; i < 100 && durationS <= 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    durationS = pipeline.queryDuration();
  }
  pipeline.stop();
  return { ok, durationS, stderr };
}

/** Share of the pixels in `rect` whose colour changed noticeably between two frames. */
export function changedShare(a: Frame, b: Frame, rect: { x: number; y: number; width: number; height: number }): number {
  let changed = 0;
  let total = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) {
      const offset = (y * a.width + x) * 3;
      const delta = Math.abs(a.data[offset]! - b.data[offset]!) + Math.abs(a.data[offset + 1]! - b.data[offset + 1]!) + Math.abs(a.data[offset + 2]! - b.data[offset + 2]!);
      if (delta > 60) changed++;
      total++;
    }
  }
  return changed / Math.max(total, 1);
}
