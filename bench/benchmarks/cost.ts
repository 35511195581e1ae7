/**
 * What plugin/recording/cluster/recordingCost.ts needs beyond `scaling` and `individual`: how a
 * composite's cost grows with its canvas (pixel rate = width × height × fps), for 1 and 4
 * participants, and what an audio-only composite costs for 1, 4 and 9. Ours only, one recording
 * at a time on the same publishers, so the cases compare on the same load.
 */
import type { RecordingConfig } from '../../plugin/recording/recordingConfig';
import { BenchEnv, sleep } from '../lib/env';
import { figure, Figure } from '../lib/report';
import { CpuMeter } from '../lib/proc';
import type { Benchmark } from './types';

const REFERENCE_PIXEL_RATE = 640 * 360 * 15;
const CANVASES: ReadonlyArray<readonly [number, number, number]> = [
  [320, 180, 15],
  [640, 360, 15],
  [640, 360, 30],
  [1280, 720, 15],
  [1280, 720, 30],
];

export const cost: Benchmark = {
  name: 'cost',
  title: 'Recording cost by canvas (1 and 4 participants) and of audio-only composites (1, 4, 9)',
  async run(env, options) {
    const durationS = options.durationS ?? (options.quick ? 3 : 15);
    const warmupS = options.quick ? 2 : 4;
    const figures: Figure[] = [];
    const measure = (published: Awaited<ReturnType<BenchEnv['channelWithPublishers']>>, config: RecordingConfig) => recorderCpu(env, published, config, warmupS, durationS);
    for (const participants of [1, 4]) {
      const published = await env.channelWithPublishers(participants, 'moving', `cost${participants}`);
      try {
        await sleep(500);
        const points: Array<[number, number]> = [];
        for (const [width, height, fps] of CANVASES) {
          // The bitrate follows the pixel rate, as an operator would set it.
          const bitrate = Math.round((500 * width * height * fps) / REFERENCE_PIXEL_RATE);
          const cpu = await measure(published, { transcodingConfig: { width, height, fps, bitrate, layout: 'BestFit' } });
          points.push([(width * height * fps) / REFERENCE_PIXEL_RATE, cpu]);
          figures.push(figure(`cost.${participants}p.${width}x${height}at${fps}`, `${participants}p composite ${width}×${height}@${fps}`, cpu, 'cpu-s/s'));
        }
        figures.push(figure(`cost.${participants}p.perPixelRate`, `${participants}p: cost per 640×360@15 of canvas (least squares)`, slope(points), 'cpu-s/s'));
      } finally {
        await env.closeChannel(published);
      }
    }
    for (const participants of [1, 4, 9]) {
      const published = await env.channelWithPublishers(participants, 'moving', `costa${participants}`);
      try {
        await sleep(500);
        const audio = await measure(published, { recordingMode: 'composite', recordingStreamTypes: 'AudioOnly' });
        const both = await measure(published, { transcodingConfig: { width: 640, height: 360, fps: 15, bitrate: 500, layout: 'BestFit' } });
        figures.push(
          figure(`cost.${participants}p.audioOnly`, `${participants}p audio-only composite`, audio, 'cpu-s/s'),
          figure(`cost.${participants}p.audioOnlyShare`, `${participants}p audio-only / audio+video 640×360@15`, audio / both, 'ratio'),
        );
      } finally {
        await env.closeChannel(published);
      }
    }
    return {
      params: { canvases: CANVASES.map(([w, h, fps]) => `${w}x${h}@${fps}`), durationS, warmupS, layout: 'BestFit' },
      figures,
      notes: ['One recording at a time: compare the cases with each other (ratios, slopes), the absolute figures move with the host.'],
    };
  },
};

/** Recorder CPU seconds per second of one recording of `published` with `config`, over `durationS` after `warmupS`. */
async function recorderCpu(env: BenchEnv, published: Awaited<ReturnType<BenchEnv['channelWithPublishers']>>, config: RecordingConfig, warmupS: number, durationS: number): Promise<number> {
  const recording = await env.record(published, config);
  try {
    await sleep(warmupS * 1000);
    const meter = new CpuMeter([recording.recorderPid!]);
    meter.start();
    await sleep(durationS * 1000);
    const used = meter.stop();
    return used.totalS / used.wallS;
  } finally {
    await env.stopAndCollectAll(recording);
  }
}

function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return sxy / sxx;
}
