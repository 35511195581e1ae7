/**
 * A/V sync: one publisher whose video flashes white and whose audio beeps at every whole second
 * (pre-encoded together). Offset = beep onset − flash onset in the output file, at the start and at
 * the end of a long recording (drift), for our composite and for the FFmpeg baseline on the same RTP.
 */
import path from 'node:path';
import type { ChannelRecording } from '../../plugin/recording/ChannelRecording';
import { beepOnsets, flashOnsets, lumaSeries, syncWindows } from '../lib/analyze';
import { PublishedChannel, sleep } from '../lib/env';
import { FfmpegRecording, startFfmpegComposite } from '../lib/ffmpegRecorder';
import { keepOutputs } from '../lib/keep';
import { figure, Figure } from '../lib/report';
import { CANVAS } from './compositeRun';
import type { Benchmark } from './types';

async function measure(file: string | undefined, prefix: string, who: string): Promise<Figure[]> {
  if (!file) return [figure(`${prefix}.start`, `${who}: offset at start`, null, 'ms')];
  const windows = syncWindows(flashOnsets(await lumaSeries(file)), await beepOnsets(file));
  const drift = windows.start && windows.end ? windows.end.medianOffsetMs - windows.start.medianOffsetMs : NaN;
  return [
    figure(`${prefix}.start`, `${who}: offset at start (median, + = audio late)`, windows.start?.medianOffsetMs, 'ms', { op: '<=', value: 40 }),
    figure(`${prefix}.startSpread`, `${who}: offset spread at start (max − min)`, windows.start ? windows.start.maxOffsetMs - windows.start.minOffsetMs : NaN, 'ms'),
    figure(`${prefix}.end`, `${who}: offset at end (median)`, windows.end?.medianOffsetMs, 'ms', { op: '<=', value: 40 }),
    figure(`${prefix}.drift`, `${who}: drift (end − start)`, drift, 'ms'),
    figure(`${prefix}.pairs`, `${who}: flash/beep pairs found`, windows.all.length, 'pairs'),
  ];
}

export const avsync: Benchmark = {
  name: 'avsync',
  title: 'A/V sync: flash + beep every second, offset at start and end (drift), ours vs FFmpeg',
  async run(env, options) {
    const durationS = options.durationS ?? (options.quick ? 14 : 600);
    let published: PublishedChannel | undefined;
    let ours: ChannelRecording | undefined;
    let theirs: FfmpegRecording | undefined;
    try {
      published = await env.channelWithPublishers(1, 'avsync', 'avsync');
      await sleep(500);
      ours = await env.record(published, { transcodingConfig: { width: CANVAS.width, height: CANVAS.height, fps: CANVAS.fps, bitrate: CANVAS.bitrateKbps, layout: 'BestFit' } });
      const publisher = published.publishers[0]!;
      theirs = await startFfmpegComposite({
        router: published.channel.router,
        participants: [{ uid: publisher.uid, videoProducerId: publisher.videoProducerId, audioProducerId: publisher.audioProducerId }],
        workDir: path.join(env.workDir, `ffmpeg-${published.channelId}`),
        canvas: CANVAS,
        layout: 'BestFit',
      });
      await sleep(durationS * 1000);
      const { localPath } = await env.stopAndCollect(ours);
      await theirs.stop();
      keepOutputs([localPath, theirs.output]);
      const figures = [...(await measure(localPath, 'avsync.ours', 'ours')), ...(await measure(theirs.output, 'avsync.ffmpeg', 'FFmpeg'))];
      return {
        params: { durationS, canvas: CANVAS, clip: 'avsync (flash + 1 kHz beep at each whole second)' },
        figures,
        notes: [
          `Video is sampled at ${CANVAS.fps} fps: a flash onset is only known to within one frame (${(1000 / CANVAS.fps).toFixed(0)} ms); the spread shows the jitter.`,
          'Opus adds 6.5 ms of encoder look-ahead at the source (audio late by that much in any receiver).',
          'Windows: pairs 3-12 (start) and the last 10 (end); the first two seconds are not steady state.',
        ],
      };
    } finally {
      if (ours?.active) await ours.stop('bench cleanup').catch(() => undefined);
      await theirs?.stop().catch(() => undefined);
      if (published) await env.closeChannel(published);
    }
  },
};
