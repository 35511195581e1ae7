/** Composite capacity: K four-party 640×360@15 recordings, ours vs FFmpeg side by side. */
import { figure, Figure } from '../lib/report';
import { CANVAS, runComposite, SideFigures } from './compositeRun';
import type { Benchmark } from './types';

export const COMPOSITES_PER_CORE_TARGET = 8;

export function sideFigures(prefix: string, who: string, side: SideFigures, perCoreTarget?: number): Figure[] {
  return [
    figure(`${prefix}.cpuPerRecordingSecond`, `${who}: recorder CPU per recording-second`, side.cpuPerRecordingSecond, 'cpu-s/s'),
    figure(`${prefix}.recordingsPerCore`, `${who}: recordings per core`, 1 / side.cpuPerRecordingSecond, 'recordings/core', perCoreTarget ? { op: '>=', value: perCoreTarget } : undefined),
    figure(`${prefix}.peakRss`, `${who}: peak RSS per recorder process`, side.peakRssMb, 'MB'),
    figure(`${prefix}.realtimeRatio`, `${who}: output duration / wall time`, side.realtimeRatio, 'ratio'),
    figure(`${prefix}.framesDropped`, `${who}: frames dropped (expected − in file)`, side.framesDropped, `frames of ${side.framesExpected}`),
    figure(`${prefix}.tileRepeatShare`, `${who}: tile frames repeated (input late/lost)`, side.tileRepeatShare * 100, '%'),
  ];
}

export const composite: Benchmark = {
  name: 'composite',
  title: 'Composite capacity: 4-party 640×360@15, 500 kbps H.264 + AAC, ours vs FFmpeg',
  async run(env, options) {
    const recordings = options.recordings ?? (options.quick ? 1 : 2);
    const durationS = options.durationS ?? (options.quick ? 8 : 60);
    const warmupS = options.quick ? 3 : 5;
    const result = await runComposite(env, { recordings, participants: 4, durationS, warmupS, ffmpeg: true, analyzeRepeats: true });
    const figures = [
      ...sideFigures('composite.ours', 'ours', result.ours, COMPOSITES_PER_CORE_TARGET),
      ...sideFigures('composite.ffmpeg', 'FFmpeg', result.ffmpeg!),
      figure('composite.ratio', 'CPU ours / FFmpeg', result.ours.cpuPerRecordingSecond / result.ffmpeg!.cpuPerRecordingSecond, 'ratio'),
      figure('composite.worker', 'mediasoup worker (all publishers + both recorders)', result.workerCores, 'cores'),
      figure('composite.workerPerRecording', 'mediasoup worker per recording-second (÷ 2K)', result.workerCores / (2 * recordings), 'cpu-s/s'),
      figure('composite.publishers', 'replay publishers (all)', result.publisherCores, 'cores'),
      figure('composite.harness', 'server main process + harness', result.harnessCores, 'cores'),
      figure('composite.machineBusy', 'whole machine busy (other users included)', result.machineBusyCores, 'cores'),
    ];
    return {
      params: { recordings, participants: 4, durationS, warmupS, canvas: CANVAS, layout: 'BestFit', windowS: result.windowS },
      figures,
      notes: [
        `${recordings} of ours and ${recordings} FFmpeg composites ran at the same time on the same producers (${recordings * 4} publishers).`,
        'CPU = utime+stime of each recorder process tree over the steady-state window (after warm-up), per recording.',
        'FFmpeg starts writing only after probing its SDP inputs, so its output is shorter than the wall time.',
      ],
    };
  },
};
