/**
 * What a browser camera sends with simulcast: three VP8 encodings of one 1280×720@30 source
 * (320×180, 640×360, 1280×720, as mediasoup-demo's ladder), each with L1T3 temporal layers.
 *
 * The layers are real, not tags: FFmpeg's libvpx encoder is given the 3-layer 0,2,1,2 pattern
 * (ts_layering_mode=3: TL0 frames reference only TL0, TL1 only TL0, TL2 frames are not referenced),
 * so dropping every TL2 frame, or TL1 and TL2, leaves a stream that decodes to the same pictures
 * (test/bench/simulcastClip.test.ts checks it). GStreamer's gst-launch cannot set vp8enc's layer
 * arrays (see test/support/vp8LayerTagger.ts), hence FFmpeg here.
 *
 * libvpx does not write a frame's layer into the bitstream; its position in the period gives it
 * (the encoder's pattern counter runs from the first frame and key frames fall on multiples of the
 * period), so each frame carries its temporal layer here for the replayer's payload descriptor.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, Clip, parseIvf, TemporalInfo } from './content';

export interface SimulcastLayer {
  width: number;
  height: number;
  kbps: number;
}

/** Lowest first, as mediasoup numbers spatial layers; scaleResolutionDownBy 4, 2, 1. */
export const SIMULCAST_LAYERS: readonly SimulcastLayer[] = [
  { width: 320, height: 180, kbps: 200 },
  { width: 640, height: 360, kbps: 600 },
  { width: 1280, height: 720, kbps: 1800 },
];
export const SIMULCAST_FPS = 30;
export const SIMULCAST_SCALABILITY_MODE = 'L1T3';
const DURATION_S = 20;
/** Two seconds, a multiple of the temporal period. */
const KEY_FRAME_INTERVAL = 60;

/** Temporal layer of each frame of the period, whether it depends on TL0 only (a layer switch-up point). */
const L1T3_PERIOD: ReadonlyArray<{ tid: number; layerSync: boolean }> = [
  { tid: 0, layerSync: false },
  { tid: 2, layerSync: true },
  { tid: 1, layerSync: true },
  { tid: 2, layerSync: false },
];
export const TEMPORAL_LAYERS = 3;

export function temporalInfoOf(frameIndex: number): TemporalInfo {
  const { tid, layerSync } = L1T3_PERIOD[frameIndex % L1T3_PERIOD.length]!;
  return { tid, layerSync, nonReference: tid === TEMPORAL_LAYERS - 1 };
}

/** libvpx arguments for one layer with L1T3 temporal layers (TL0 / TL1 / TL2 at 1/4, 1/2, all of the rate). */
export function temporalVp8Args(kbps: number): string[] {
  const rates = [Math.round(kbps * 0.4), Math.round(kbps * 0.6), kbps];
  return [
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', `${kbps}k`,
    '-g', String(KEY_FRAME_INTERVAL), '-keyint_min', String(KEY_FRAME_INTERVAL),
    '-auto-alt-ref', '0', '-lag-in-frames', '0', '-error-resilient', '1',
    '-ts-parameters', `ts_number_layers=3:ts_target_bitrate=${rates.join(',')}:ts_rate_decimator=4,2,1:ts_periodicity=4:ts_layer_id=0,2,1,2:ts_layering_mode=3`,
  ];
}

/** Encodes the three layers from one source in one ffmpeg run, unless cached; their IVF paths, lowest first. */
export function ensureSimulcastFiles(): string[] {
  const dir = cacheDir();
  const files = SIMULCAST_LAYERS.map((layer) => path.join(dir, `simulcast-${layer.height}p-v1.ivf`));
  if (files.every((file) => fs.existsSync(file))) return files;
  const top = SIMULCAST_LAYERS[SIMULCAST_LAYERS.length - 1]!;
  const split = `split=${SIMULCAST_LAYERS.length}${SIMULCAST_LAYERS.map((_, i) => `[s${i}]`).join('')}`;
  const scales = SIMULCAST_LAYERS.map((layer, i) => `[s${i}]scale=${layer.width}:${layer.height}[o${i}]`);
  // Per-process temporary names: two benchmark processes may encode at once on a fresh cache.
  const temporary = files.map((file) => `${file}.${process.pid}.tmp`);
  const outputs = SIMULCAST_LAYERS.flatMap((layer, i) => ['-map', `[o${i}]`, ...temporalVp8Args(layer.kbps), '-t', String(DURATION_S + 1), '-f', 'ivf', temporary[i]!]);
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${top.width}x${top.height}:rate=${SIMULCAST_FPS},noise=alls=5:allf=t`, '-filter_complex', [split, ...scales].join(';'), ...outputs],
    { stdio: 'inherit' },
  );
  files.forEach((file, i) => fs.renameSync(temporary[i]!, file));
  return files;
}

/** One spatial layer of the simulcast clip, each frame with its temporal layer. */
export function loadSimulcastLayer(spatialLayer: number): Clip {
  const file = ensureSimulcastFiles()[spatialLayer];
  if (!file) throw new Error(`no simulcast layer ${spatialLayer}`);
  return layeredClip(parseIvf(fs.readFileSync(file)).slice(0, DURATION_S * SIMULCAST_FPS), SIMULCAST_FPS, DURATION_S);
}

/** Frames of an L1T3 stream (from its first frame) as a replayable clip. */
export function layeredClip(frames: Buffer[], fps: number, durationS: number): Clip {
  return {
    kind: 'video',
    clockRate: 90000,
    durationS,
    frames: frames.map((data, index) => ({ data, key: (data[0]! & 0x01) === 0, ticks: 90000 / fps, temporal: temporalInfoOf(index) })),
  };
}
