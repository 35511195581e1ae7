/** Cost of one composite recording as the number of participants grows (1, 2, 4, 9, 17). */
import { figure, Figure } from '../lib/report';
import { runComposite } from './compositeRun';
import type { Benchmark } from './types';

export const PARTICIPANT_COUNTS = [1, 2, 4, 9, 17];

export const scaling: Benchmark = {
  name: 'scaling',
  title: 'Scaling: one composite recording (640×360@15) at 1, 2, 4, 9, 17 participants, ours vs FFmpeg',
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
    return { params: { participants: PARTICIPANT_COUNTS, durationS, warmupS, layout: 'BestFit' }, figures, notes };
  },
};
