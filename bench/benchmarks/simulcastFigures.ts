/**
 * Figures of a composite run on browser-like simulcast input, ours and FFmpeg side by side: both
 * sides' cost (sideFigures), their CPU ratio, and which layers each side's consumers were sending,
 * so the figures show that ours decoded small layers at the canvas rate while FFmpeg took the top one.
 */
import { figure, Figure } from '../lib/report';
import { SIMULCAST_FPS, SIMULCAST_LAYERS, TEMPORAL_LAYERS } from '../lib/simulcastClip';
import { sideFigures } from './sideFigures';
import type { CompositeRunResult, ConsumedLayers, SideFigures } from './compositeRun';

export interface SimulcastTargets {
  ratio?: number;
  oursPerCore?: number;
}

/** Largest picture and frame rate any of the consumers sent (NaN: none sent layers). */
function largestLayer(layers: ConsumedLayers[]): { height: number; fps: number } {
  const known = layers.filter((layer): layer is NonNullable<ConsumedLayers> => layer !== undefined);
  if (known.length === 0) return { height: NaN, fps: NaN };
  return {
    height: Math.max(...known.map((layer) => SIMULCAST_LAYERS[layer.spatialLayer]?.height ?? NaN)),
    fps: Math.max(...known.map((layer) => SIMULCAST_FPS / 2 ** (TEMPORAL_LAYERS - 1 - (layer.temporalLayer ?? TEMPORAL_LAYERS - 1)))),
  };
}

/** `S0T1 ×4 (320×180@15)`: how many consumers sent each layer pair. */
export function describeConsumedLayers(layers: ConsumedLayers[]): string {
  const counts = new Map<string, number>();
  for (const layer of layers) {
    let name = 'none';
    if (layer) {
      const size = SIMULCAST_LAYERS[layer.spatialLayer];
      const temporal = layer.temporalLayer ?? TEMPORAL_LAYERS - 1;
      const fps = SIMULCAST_FPS / 2 ** (TEMPORAL_LAYERS - 1 - temporal);
      name = `S${layer.spatialLayer}T${temporal} (${size ? `${size.width}×${size.height}` : '?'}@${fps})`;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => `${name} ×${count}`).join(', ') || 'no video consumers';
}

export function simulcastFigures(prefix: string, who: string, result: CompositeRunResult, targets: SimulcastTargets = {}): Figure[] {
  const ffmpeg = result.ffmpeg!;
  const ours = largestLayer(result.ours.consumedLayers);
  const theirs = largestLayer(ffmpeg.consumedLayers);
  return [
    ...sideFigures(`${prefix}.ours`, `${who}, ours`, result.ours, targets.oursPerCore),
    ...sideFigures(`${prefix}.ffmpeg`, `${who}, FFmpeg`, ffmpeg),
    figure(
      `${prefix}.ratio`,
      `${who}: CPU ours / FFmpeg`,
      result.ours.cpuPerRecordingSecond / ffmpeg.cpuPerRecordingSecond,
      'ratio',
      targets.ratio !== undefined ? { op: '<=', value: targets.ratio } : undefined,
    ),
    figure(`${prefix}.ours.layerHeight`, `${who}, ours: largest layer consumed`, ours.height, 'px high'),
    figure(`${prefix}.ours.layerFps`, `${who}, ours: fastest temporal layer consumed`, ours.fps, 'fps'),
    figure(`${prefix}.ffmpeg.layerHeight`, `${who}, FFmpeg: largest layer consumed`, theirs.height, 'px high'),
    figure(`${prefix}.ffmpeg.layerFps`, `${who}, FFmpeg: fastest temporal layer consumed`, theirs.fps, 'fps'),
    figure(`${prefix}.worker`, `${who}: mediasoup worker (all publishers + both recorders)`, result.workerCores, 'cores'),
    figure(`${prefix}.publishers`, `${who}: replay publishers (all)`, result.publisherCores, 'cores'),
  ];
}

/** A side that wrote clearly fewer frames than the wall time asks for did less work than the input needs. */
function fellBehind(name: string, side: SideFigures): string | undefined {
  if (side.realtimeRatio >= 0.95 && side.framesDropped <= 0.05 * side.framesExpected) return undefined;
  return (
    `${name} fell behind real time (output/wall ${side.realtimeRatio.toFixed(2)}, ${side.framesDropped} of ${side.framesExpected} frames dropped): ` +
    'its CPU is what it got, less than the input needs, so the ratio is not a cost comparison'
  );
}

export function simulcastNote(who: string, result: CompositeRunResult): string {
  const { ours, ffmpeg } = { ours: result.ours, ffmpeg: result.ffmpeg! };
  const behind = [fellBehind('ours', ours), fellBehind('FFmpeg', ffmpeg)].filter(Boolean);
  return (
    `${who}: ours asked for ${describeConsumedLayers(ours.preferredLayers)} and got ${describeConsumedLayers(ours.consumedLayers)}; ` +
    `FFmpeg's consumers (default layers) got ${describeConsumedLayers(ffmpeg.consumedLayers)} (mediasoup currentLayers at the end of the window); ` +
    `machine busy ${result.machineBusyCores.toFixed(2)} cores${behind.length ? `. ${behind.join('; ')}` : ''}`
  );
}
