/**
 * Composite capacity: K four-party 640×360@15 recordings, ours vs FFmpeg side by side, on two inputs
 * one after the other: one 640×360@15 VP8 layer per publisher, then browser-like simulcast (three
 * layers up to 1280×720, L1T3 at 30 fps) where FFmpeg takes a consumer's default (the top layer) and
 * ours picks the layers its tiles need.
 */
import { figure } from '../lib/report';
import { CANVAS, runComposite } from './compositeRun';
import { sideFigures } from './sideFigures';
import { simulcastFigures, simulcastNote } from './simulcastFigures';
import type { Benchmark } from './types';

export const COMPOSITES_PER_CORE_TARGET = 8;
/** Issue 14's targets on simulcast input at 4 parties. */
export const SIMULCAST_RATIO_TARGET = 0.4;
export const SIMULCAST_PER_CORE_TARGET = 15;

export const composite: Benchmark = {
  name: 'composite',
  title: 'Composite capacity: 4-party 640×360@15, 500 kbps H.264 + AAC, ours vs FFmpeg; single-layer input, then browser-like simulcast input',
  async run(env, options) {
    const recordings = options.recordings ?? (options.quick ? 1 : 2);
    const durationS = options.durationS ?? (options.quick ? 8 : 60);
    const warmupS = options.quick ? 3 : 5;
    const result = await runComposite(env, { recordings, participants: 4, durationS, warmupS, ffmpeg: true, analyzeRepeats: true });
    const simulcast = await runComposite(env, { recordings, participants: 4, durationS, warmupS, ffmpeg: true, analyzeRepeats: true, clip: 'simulcast' });
    const figures = [
      ...sideFigures('composite.ours', 'ours', result.ours, COMPOSITES_PER_CORE_TARGET),
      ...sideFigures('composite.ffmpeg', 'FFmpeg', result.ffmpeg!),
      figure('composite.ratio', 'CPU ours / FFmpeg', result.ours.cpuPerRecordingSecond / result.ffmpeg!.cpuPerRecordingSecond, 'ratio'),
      figure('composite.worker', 'mediasoup worker (all publishers + both recorders)', result.workerCores, 'cores'),
      figure('composite.workerPerRecording', 'mediasoup worker per recording-second (÷ 2K)', result.workerCores / (2 * recordings), 'cpu-s/s'),
      figure('composite.publishers', 'replay publishers (all)', result.publisherCores, 'cores'),
      figure('composite.harness', 'server main process + harness', result.harnessCores, 'cores'),
      figure('composite.machineBusy', 'whole machine busy (other users included)', result.machineBusyCores, 'cores'),
      ...simulcastFigures('composite.simulcast', 'simulcast', simulcast, { ratio: SIMULCAST_RATIO_TARGET, oursPerCore: SIMULCAST_PER_CORE_TARGET }),
    ];
    return {
      params: { recordings, participants: 4, durationS, warmupS, canvas: CANVAS, layout: 'BestFit', windowS: result.windowS, simulcastWindowS: simulcast.windowS },
      figures,
      notes: [
        `${recordings} of ours and ${recordings} FFmpeg composites ran at the same time on the same producers (${recordings * 4} publishers).`,
        'CPU = utime+stime of each recorder process tree over the steady-state window (after warm-up), per recording.',
        'FFmpeg starts writing only after probing its SDP inputs, so its output is shorter than the wall time.',
        'simulcast: each publisher sends 320×180, 640×360 and 1280×720 VP8 (L1T3 temporal layers, 30 fps) as one producer; FFmpeg gets what a default consumer sends, ours sets preferred layers per tile and canvas fps.',
        simulcastNote('simulcast', simulcast),
      ],
    };
  },
};
