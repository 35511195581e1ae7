/**
 * What an output file says about the recorder that wrote it: duration and frame count (real-time
 * check), per-tile repeated frames (input frames that did not make it in time), the first frame with
 * participant content (start latency), and flash/beep onsets (A/V sync). Everything decodes the file
 * with ffmpeg/ffprobe after the measurement window, so it never competes with what is measured.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Tile } from '../../plugin/recording/layout';

const run = promisify(execFile);
const MAX_BUFFER = 512 * 1024 * 1024;

export interface OutputInfo {
  /** Container duration, seconds. */
  durationS: number;
  videoFrames: number;
  videoDurationS: number;
  audioDurationS: number;
}

export async function outputInfo(file: string): Promise<OutputInfo> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-count_packets', '-show_entries', 'format=duration:stream=codec_type,nb_read_packets,duration', '-of', 'json', file],
    { maxBuffer: MAX_BUFFER },
  );
  const parsed = JSON.parse(stdout) as { format?: { duration?: string }; streams?: Array<{ codec_type: string; nb_read_packets?: string; duration?: string }> };
  const video = parsed.streams?.find((s) => s.codec_type === 'video');
  const audio = parsed.streams?.find((s) => s.codec_type === 'audio');
  return {
    durationS: Number(parsed.format?.duration ?? NaN),
    videoFrames: Number(video?.nb_read_packets ?? 0),
    videoDurationS: Number(video?.duration ?? NaN),
    audioDurationS: Number(audio?.duration ?? NaN),
  };
}

/** Decodes the video as small grey frames (scale × canvas) and calls back per frame. */
async function eachGreyFrame(file: string, width: number, height: number, onFrame: (frame: Buffer, index: number) => void): Promise<void> {
  const child = spawn('ffmpeg', ['-v', 'error', '-i', file, '-an', '-vf', `scale=${width}:${height}:flags=area,format=gray`, '-vsync', 'passthrough', '-f', 'rawvideo', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const size = width * height;
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= size) {
      onFrame(pending.subarray(0, size), index++);
      pending = pending.subarray(size);
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg decode of ${file} failed: ${stderr.slice(-500)}`);
}

/**
 * Share of output frames in which a tile showed the same picture as in the previous frame, counted
 * from the tile's first non-black frame on. The test content changes every frame (motion + noise), so
 * a repeat means the input frame did not reach the mixer in time (or was lost).
 */
export async function tileRepeatShare(file: string, canvas: { width: number; height: number }, tiles: readonly Tile[]): Promise<{ share: number; frames: number }> {
  const scale = 4;
  const width = Math.round(canvas.width / scale / 2) * 2;
  const height = Math.round(canvas.height / scale / 2) * 2;
  const regions = tiles.map((tile) => ({
    x0: Math.floor(tile.x / scale) + 1,
    y0: Math.floor(tile.y / scale) + 1,
    x1: Math.floor((tile.x + tile.width) / scale) - 1,
    y1: Math.floor((tile.y + tile.height) / scale) - 1,
  }));
  const previous: Array<Buffer | undefined> = regions.map(() => undefined);
  const started = regions.map(() => false);
  let repeats = 0;
  let counted = 0;
  await eachGreyFrame(file, width, height, (frame) => {
    regions.forEach((region, index) => {
      let sum = 0;
      let diff = 0;
      let count = 0;
      const current = Buffer.alloc(Math.max(0, (region.x1 - region.x0) * (region.y1 - region.y0)));
      let k = 0;
      for (let y = region.y0; y < region.y1; y++) {
        for (let x = region.x0; x < region.x1; x++) {
          const value = frame[y * width + x]!;
          current[k] = value;
          sum += value;
          const before = previous[index];
          if (before) diff += Math.abs(value - before[k]!);
          k++;
          count++;
        }
      }
      if (!started[index] && count > 0 && sum / count > 30) started[index] = true;
      else if (started[index] && previous[index]) {
        counted++;
        if (diff / Math.max(1, count) < 0.5) repeats++;
      }
      previous[index] = current;
    });
  });
  return { share: counted > 0 ? repeats / counted : NaN, frames: counted };
}

/** Per-frame presentation time and mean luma (0-255) of the whole picture. */
export async function lumaSeries(file: string): Promise<Array<{ t: number; y: number }>> {
  const escaped = file.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/:/g, '\\:');
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-f', 'lavfi', '-i', `movie='${escaped}',scale=64:36,signalstats`, '-show_entries', 'frame=pts_time:frame_tags=lavfi.signalstats.YAVG', '-of', 'csv=p=0'],
    { maxBuffer: MAX_BUFFER },
  );
  const series: Array<{ t: number; y: number }> = [];
  for (const line of stdout.split('\n')) {
    const [t, y] = line.split(',').map(Number);
    if (Number.isFinite(t) && Number.isFinite(y)) series.push({ t: t!, y: y! });
  }
  return series;
}

async function streamStart(file: string, kind: 'a' | 'v'): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', `${kind}:0`, '-show_entries', 'stream=start_time', '-of', 'csv=p=0', file]);
  const value = Number(stdout.trim());
  return Number.isFinite(value) ? value : 0;
}

/** Onsets (seconds, stream time) of bright frames following dark ones. */
export function flashOnsets(series: Array<{ t: number; y: number }>): number[] {
  const onsets: number[] = [];
  let dark = true;
  for (const { t, y } of series) {
    if (dark && y > 100) {
      onsets.push(t);
      dark = false;
    } else if (y < 60) dark = true;
  }
  return onsets;
}

/** Onsets (seconds, stream time) of beeps: first loud sample after ≥ 0.4 s of quiet. */
export async function beepOnsets(file: string): Promise<number[]> {
  const start = await streamStart(file, 'a');
  const rate = 48000;
  const child = spawn('ffmpeg', ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', String(rate), '-f', 'f32le', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const onsets: number[] = [];
  let index = 0;
  let quietRun = rate; // the file may start with a beep
  let leftover: Buffer = Buffer.alloc(0);
  child.stdout.on('data', (chunk: Buffer) => {
    const data = leftover.length ? Buffer.concat([leftover, chunk]) : chunk;
    const whole = data.length - (data.length % 4);
    for (let offset = 0; offset < whole; offset += 4) {
      const value = Math.abs(data.readFloatLE(offset));
      if (value > 0.05) {
        if (quietRun >= 0.4 * rate) onsets.push(start + index / rate);
        quietRun = 0;
      } else if (value < 0.02) quietRun++;
      index++;
    }
    leftover = data.subarray(whole);
  });
  await new Promise((resolve) => child.once('close', resolve));
  return onsets;
}

export interface SyncWindow {
  /** Median of (beep onset − flash onset), ms; positive: audio late. */
  medianOffsetMs: number;
  minOffsetMs: number;
  maxOffsetMs: number;
  pairs: number;
}

/** Pairs each flash with the nearest beep (±0.5 s) and summarises the first and last `window` pairs. */
export function syncWindows(flashes: number[], beeps: number[], window = 10): { start?: SyncWindow; end?: SyncWindow; all: number[] } {
  const offsets: Array<{ t: number; ms: number }> = [];
  for (const flash of flashes) {
    let best: number | undefined;
    for (const beep of beeps) if (Math.abs(beep - flash) <= 0.5 && (best === undefined || Math.abs(beep - flash) < Math.abs(best - flash))) best = beep;
    if (best !== undefined) offsets.push({ t: flash, ms: (best - flash) * 1000 });
  }
  const summarise = (list: Array<{ ms: number }>): SyncWindow | undefined => {
    if (list.length === 0) return undefined;
    const values = list.map((entry) => entry.ms).sort((a, b) => a - b);
    return { medianOffsetMs: values[Math.floor(values.length / 2)]!, minOffsetMs: values[0]!, maxOffsetMs: values[values.length - 1]!, pairs: values.length };
  };
  // Skip the first two pairs: the start of a stream (key frame wait, jitter buffer fill) is not steady state.
  const steady = offsets.slice(2);
  return { start: summarise(steady.slice(0, window)), end: summarise(steady.slice(-window)), all: offsets.map((entry) => entry.ms) };
}

/** Time (s, stream time) of the first frame whose mean luma says participant content is shown. */
export function firstContentFrame(series: Array<{ t: number; y: number }>, threshold = 30): number | undefined {
  return series.find((frame) => frame.y > threshold)?.t;
}

/**
 * Start → first content frame in `file`, ms: `fileStartMs` (start → the file's time 0) plus the
 * stream time of the file's first content frame; undefined when no frame shows content. Given an
 * instant known to come after the file's time 0 (the recorder saying it runs), an upper bound.
 */
export async function startToContentMs(file: string, fileStartMs: number): Promise<number | undefined> {
  const content = firstContentFrame(await lumaSeries(file));
  return content === undefined ? undefined : fileStartMs + content * 1000;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
