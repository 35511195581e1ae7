import os from 'node:os';
import type { ChannelMedia } from '../media/ChannelMedia';
import type { ResolvedRecordingConfig } from '../recordingConfig';

/**
 * What a recording costs a recorder node, in cost units: 1 unit = a thousandth of a core (a
 * recorder using 0.175 cpu-seconds per second costs 175). Every figure here comes from our own
 * benchmark (`npm run bench`, README "Benchmarks"; recorder process tree CPU, steady state):
 *
 * - Composite, by participants (each publishing VP8 640×360@15 + Opus) on a 640×360@15 canvas,
 *   the `scaling` benchmark of 2026-11-22: 1 → 0.094, 2 → 0.108, 4 → 0.175, 9 → 0.314,
 *   17 → 0.660 cores. Between the points the cost is interpolated; beyond 17 it grows by the 9→17
 *   slope (every producer is decoded, drawn or not). Issue 14's run of 2026-12-01 agrees: 5.9
 *   four-party composites per core (0.169).
 * - The canvas: a 1-party and a 4-party composite at 320×180@15, 640×360@15, 640×360@30,
 *   1280×720@15 and 1280×720@30 (measured for this file on 2026-12-01: the benchmark's recorder
 *   and CPU meter, 12 s steady state each, two interleaved rounds, on this 2-core machine while
 *   it was loaded, reading 1.46× / 1.55× the quiet figures above at 640×360@15). Cost grows
 *   linearly with the canvas pixel rate (width × height × fps, in multiples of 640×360@15):
 *   least squares 0.028 (1 party) and 0.040 (4 parties) cores per multiple there, so 19 and 26
 *   units quiet: 17 + 2 per participant. Encoding and drawing scale with the canvas, decoding the
 *   inputs does not. Smaller canvases saved little (2–12% at 320×180@15): they count as 640×360@15.
 * - Per participant (no re-encoding), the `individual` benchmark: 0.0062 cores per recorded stream
 *   (161 streams per core), audio and video alike (36 streams: 3 recordings × 6 × VP8 + Opus).
 * - An audio-only composite (Opus decoded and mixed, one AAC track) costs far more than its
 *   streams would say — the mixer ticks whatever it gets. Measured the same way as the canvas,
 *   against the audio+video composite of the same publishers: 0.64 of it with 1 participant, 0.49
 *   with 4, 0.45 with 9, so 60, 85 and 141 units on the scaling figures: 50 + 10 per participant.
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
/** Units per reference pixel rate above the reference: a base and a share per participant (see above). */
const CANVAS_UNITS = 17;
const CANVAS_UNITS_PER_PARTICIPANT = 2;
/** [participants, units] of the scaling benchmark, 640×360@15. */
const COMPOSITE_BY_PARTICIPANTS: ReadonlyArray<readonly [number, number]> = [
  [1, 94],
  [2, 108],
  [4, 175],
  [9, 314],
  [17, 660],
];
const UNITS_PER_STREAM = 6.2;
/** Audio-only composite: a base and per participant (see above). */
const AUDIO_COMPOSITE_UNITS = 50;
const AUDIO_COMPOSITE_UNITS_PER_PARTICIPANT = 10;

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
  if (types === 'AudioOnly') return AUDIO_COMPOSITE_UNITS + AUDIO_COMPOSITE_UNITS_PER_PARTICIPANT * Math.max(audio, 1);
  // A participant is a video input (with its audio); a voice without video costs a stream.
  const participants = Math.max(video, 1);
  const voicesOnly = Math.max(audio - video, 0);
  const { width, height, fps } = spec.canvas;
  const canvas = (CANVAS_UNITS + CANVAS_UNITS_PER_PARTICIPANT * participants) * Math.max((width * height * fps) / REFERENCE_PIXEL_RATE - 1, 0);
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
