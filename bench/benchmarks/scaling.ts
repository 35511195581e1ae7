/**
 * Cost of one composite recording as the number of participants grows (1, 2, 4, 9, 17) on single-layer
 * input, then at 9 and 17 on browser-like simulcast input (the 4-party simulcast case is composite's).
 */
import { figure, Figure } from '../lib/report';
import { runComposite } from './compositeRun';
import { simulcastFigures, simulcastNote } from './simulcastFigures';
import type { Benchmark } from './types';

export const PARTICIPANT_COUNTS = [1, 2, 4, 9, 17];
export const SIMULCAST_PARTICIPANT_COUNTS = [9, 17];
/** Issue 14's target at 17 parties BestFit on simulcast input. */
const SIMULCAST_RATIO_TARGETS: Record<number, number> = { 17: 0.4 };

export const scaling: Benchmark = {
  name: 'scaling',
  title: 'Scaling: one composite recording (640×360@15) at 1, 2, 4, 9, 17 participants, ours vs FFmpeg; simulcast input at 9 and 17',
  async run(env, options) {
    const durationS = options.durationS ?? (options.quick ? 5 : 30);
    const warmupS = options.quick ? 3 : 5;
    const figures: Figure[] = [];
    const notes: string[] = [];
    for (const participants of PARTICIPANT_COUNTS) {
      const result = await runComposite(env, { recordings: 1, participants, durationS, warmupS, ffmpeg: true, analyzeRepeats: !options.quick });
      const ffmpeg = result.ffmpeg!;
      figures.push(
        figure(`scaling.${participants}.ours`, `${participants} participants: ours`, result.ours.cpuPerRecordingSecond, 'cpu-s/s'),
        figure(`scaling.${participants}.ffmpeg`, `${participants} participants: FFmpeg`, ffmpeg.cpuPerRecordingSecond, 'cpu-s/s'),
        figure(`scaling.${participants}.ratio`, `${participants} participants: ours / FFmpeg`, result.ours.cpuPerRecordingSecond / ffmpeg.cpuPerRecordingSecond, 'ratio'),
        figure(`scaling.${participants}.oursRealtime`, `${participants} participants: ours output/wall`, result.ours.realtimeRatio, 'ratio'),
        figure(`scaling.${participants}.oursRss`, `${participants} participants: ours peak RSS`, result.ours.peakRssMb, 'MB'),
      );
      if (!options.quick) figures.push(figure(`scaling.${participants}.oursRepeats`, `${participants} participants: ours tile frames repeated`, result.ours.tileRepeatShare * 100, '%'));
      notes.push(`${participants} participants: publishers ${result.publisherCores.toFixed(3)} cores, mediasoup worker ${result.workerCores.toFixed(3)} cores, machine busy ${result.machineBusyCores.toFixed(2)} cores`);
    }
    for (const participants of SIMULCAST_PARTICIPANT_COUNTS) {
      // Repeats are counted even when quick: a few seconds of 640×360 output decode in well under a second.
      const result = await runComposite(env, { recordings: 1, participants, durationS, warmupS, ffmpeg: true, analyzeRepeats: true, clip: 'simulcast' });
      const ratio = SIMULCAST_RATIO_TARGETS[participants];
      figures.push(...simulcastFigures(`scaling.simulcast.${participants}`, `simulcast ${participants} participants`, result, ratio !== undefined ? { ratio } : {}));
      notes.push(simulcastNote(`simulcast ${participants} participants`, result));
    }
    return { params: { participants: PARTICIPANT_COUNTS, simulcastParticipants: SIMULCAST_PARTICIPANT_COUNTS, durationS, warmupS, layout: 'BestFit' }, figures, notes };
  },
};
