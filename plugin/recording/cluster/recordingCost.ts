import os from 'node:os';
import type { ChannelMedia } from '../media/ChannelMedia';
import type { ResolvedRecordingConfig } from '../recordingConfig';

/**
 * What a recording costs a recorder node, in cost units: 1 unit = a thousandth of a core (a
 * recorder using 0.101 cpu-seconds per second costs 101). Every figure here comes from our own
 * benchmark (`npm run bench`, README "Benchmarks"; recorder process tree CPU, steady state), refitted
 * on 2026-12-03 after issue 14's work (the figures of 2026-11-22 were about 1.7× these):
 *
 * - Composite, by participants (each publishing VP8 640×360@15 + Opus, one layer) on a 640×360@15
 *   canvas, the `scaling` benchmark of the README block (12:37): 1 → 0.058, 2 → 0.072,
 *   4 → 0.101, 9 → 0.186, 17 → 0.321 cores. Between the points the cost is interpolated; beyond 17
 *   it grows by the 9→17 slope (every producer is decoded, drawn or not). Browsers publishing
 *   simulcast cost less (the recorder decodes the layer that fits the tile: a 4-party composite
 *   0.062 against 0.097 in the same run); the single-layer figures are kept because not every
 *   publisher sends simulcast (H.264, the independent client), and a node must not be overfilled.
 * - The canvas: the `cost` benchmark of 13:21 (a 1-party and a 4-party composite at 320×180@15,
 *   640×360@15, 640×360@30, 1280×720@15 and 1280×720@30). Cost grows linearly with the canvas pixel
 *   rate (width × height × fps, in multiples of 640×360@15): least squares 0.025 (1 party, whose lone
 *   tile is scaled up to the whole canvas) and 0.012 (4 parties) cores per multiple. The larger is
 *   taken for every recording: 25 units per multiple above the reference. Smaller canvases saved
 *   little (0.047 against 0.059 at 320×180@15): they count as 640×360@15.
 * - Per participant (no re-encoding), the `individual` benchmark: 0.0018 cores per recorded stream
 *   (561 streams per core), audio and video alike (36 streams: 3 recordings × 6 × VP8 + Opus).
 * - An audio-only composite (Opus decoded and mixed, one AAC track), the `cost` benchmark: 0.021,
 *   0.027 and 0.039 cores with 1, 4 and 9 participants (0.36, 0.26, 0.20 of the audio+video
 *   composite of the same publishers): 18 + 2.5 units per participant.
 *
 * A recording is counted with the inputs it has now (at least one participant's worth: a
 * recording started before anyone publishes still runs its pipeline); so the node's `used`
 * follows the channels as people join and leave, and a start is judged on what runs at that moment.
 */

/** 1 unit = a thousandth of a core. */
export const COST_UNITS_PER_CORE = 1000;

/**
 * What a node offers when recording.capacityUnits is 0: 80% of each core, leaving the rest to
 * the server process, the upload queue and MP4 compaction, and a margin for the benchmark's
 * scatter (a recorder starved of CPU drops frames). On a node that also has the media role the
 * SFU shares those cores: set capacityUnits lower there.
 */
export const DERIVED_UNITS_PER_CORE = 800;

/** The canvas the composite figures were measured on. */
const REFERENCE_PIXEL_RATE = 640 * 360 * 15;
/** Units per reference pixel rate above the reference (see above). */
const CANVAS_UNITS = 25;
/** [participants, units] of the scaling benchmark, 640×360@15. */
const COMPOSITE_BY_PARTICIPANTS: ReadonlyArray<readonly [number, number]> = [
  [1, 58],
  [2, 72],
  [4, 101],
  [9, 186],
  [17, 321],
];
const UNITS_PER_STREAM = 1.8;
/** Audio-only composite: a base and per participant (see above). */
const AUDIO_COMPOSITE_UNITS = 18;
const AUDIO_COMPOSITE_UNITS_PER_PARTICIPANT = 2.5;

/** The streams a recording takes in now, by kind (what its channel publishes of the kinds it records). */
export interface RecordingInputs {
  audio: number;
  video: number;
}

export type RecordingCostSpec = Pick<ResolvedRecordingConfig, 'recordingMode' | 'recordingStreamTypes'> & {
  canvas: Pick<ResolvedRecordingConfig['transcodingConfig'], 'width' | 'height' | 'fps'>;
  inputs: RecordingInputs;
};

/** The recording's cost in units (a positive integer). */
export function recordingCost(spec: RecordingCostSpec): number {
  const { recordingStreamTypes: types, inputs } = spec;
  const audio = types === 'VideoOnly' ? 0 : inputs.audio;
  const video = types === 'AudioOnly' ? 0 : inputs.video;
  if (spec.recordingMode === 'individual') {
    // One participant's worth at least: an empty recording still has its process and pipeline.
    const streams = Math.max(audio + video, types === 'AudioVideo' ? 2 : 1);
    return Math.ceil(streams * UNITS_PER_STREAM);
  }
  if (types === 'AudioOnly') return Math.ceil(AUDIO_COMPOSITE_UNITS + AUDIO_COMPOSITE_UNITS_PER_PARTICIPANT * Math.max(audio, 1));
  // A participant is a video input (with its audio); a voice without video costs a stream.
  const participants = Math.max(video, 1);
  const voicesOnly = Math.max(audio - video, 0);
  const { width, height, fps } = spec.canvas;
  const canvas = CANVAS_UNITS * Math.max((width * height * fps) / REFERENCE_PIXEL_RATE - 1, 0);
  return Math.max(1, Math.ceil(compositeUnits(participants) + canvas + voicesOnly * UNITS_PER_STREAM));
}

/** The scaling figures, interpolated between the measured points and extended past the last. */
function compositeUnits(participants: number): number {
  const points = COMPOSITE_BY_PARTICIPANTS;
  for (let index = 1; index < points.length; index++) {
    const [n0, u0] = points[index - 1]!;
    const [n1, u1] = points[index]!;
    if (participants <= n1 || index === points.length - 1) return u0 + ((u1 - u0) * (participants - n0)) / (n1 - n0);
  }
  return points[0]![1];
}

/** The cost of recording `channel` with `config`, with the producers it has now. */
export function recordingCostOf(config: ResolvedRecordingConfig, channel: Pick<ChannelMedia, 'producers'>): number {
  const inputs: RecordingInputs = { audio: 0, video: 0 };
  for (const { kind } of channel.producers()) inputs[kind]++;
  return recordingCost({ recordingMode: config.recordingMode, recordingStreamTypes: config.recordingStreamTypes, canvas: config.transcodingConfig, inputs });
}

/** This node's recorder capacity in units: recording.capacityUnits, or 0 → derived from its cores. */
export function recorderCapacity(capacityUnits: number, cores = os.cpus().length): number {
  if (capacityUnits > 0) return capacityUnits;
  return Math.max(cores, 1) * DERIVED_UNITS_PER_CORE;
}
