/**
 * K concurrent composite recordings of N replayed participants each, ours and (optionally) the FFmpeg
 * baseline on the same producers at the same time, measured over a steady-state window.
 */
import fs from 'node:fs';
import path from 'node:path';
import { computeLayout } from '../../plugin/recording/layout';
import type { ChannelRecording } from '../../plugin/recording/ChannelRecording';
import { outputInfo, tileRepeatShare } from '../lib/analyze';
import { BenchEnv, layoutFor, PublishedChannel, sleep } from '../lib/env';
import { FfmpegRecording, startFfmpegComposite } from '../lib/ffmpegRecorder';
import { CpuMeter, MachineLoad, peakRssMb } from '../lib/proc';
import { keepOutputs } from '../lib/keep';

export const CANVAS = { width: 640, height: 360, fps: 15, bitrateKbps: 500 };

export interface CompositeRunOptions {
  recordings: number;
  participants: number;
  durationS: number;
  warmupS: number;
  ffmpeg: boolean;
  /** Decode outputs to count repeated tile frames (costs a decode per file after the run). */
  analyzeRepeats: boolean;
}

export interface SideFigures {
  /** Recorder CPU seconds per recording second (cores per recording). */
  cpuPerRecordingSecond: number;
  peakRssMb: number;
  /** Output duration / wall time between start and stop, mean over recordings. */
  realtimeRatio: number;
  /** Expected frames (wall × fps) − frames in the file, summed over recordings. */
  framesDropped: number;
  framesExpected: number;
  /** Share of tile frames that repeated the previous one (input frame not there in time), mean. */
  tileRepeatShare: number;
  /** Seconds from start to the first output second being real time (ffmpeg probes its inputs first). */
  outputs: string[];
}

export interface CompositeRunResult {
  ours: SideFigures;
  ffmpeg?: SideFigures;
  workerCores: number;
  publisherCores: number;
  harnessCores: number;
  machineBusyCores: number;
  windowS: number;
}

export async function runComposite(env: BenchEnv, options: CompositeRunOptions): Promise<CompositeRunResult> {
  const channels: PublishedChannel[] = [];
  const ours: Array<{ recording: ChannelRecording; startedAt: number }> = [];
  const theirs: FfmpegRecording[] = [];
  const theirStart: number[] = [];
  const layout = layoutFor(options.participants);
  try {
    for (let k = 0; k < options.recordings; k++) channels.push(await env.channelWithPublishers(options.participants));
    // Let every publisher's first packets reach mediasoup before consumers exist.
    await sleep(500);
    for (const published of channels) {
      const recording = await env.record(published, { transcodingConfig: { width: CANVAS.width, height: CANVAS.height, fps: CANVAS.fps, bitrate: CANVAS.bitrateKbps, layout } });
      ours.push({ recording, startedAt: performance.now() });
      if (options.ffmpeg) {
        theirs.push(
          await startFfmpegComposite({
            router: published.channel.router,
            participants: published.publishers.map((p) => ({ uid: p.uid, videoProducerId: p.videoProducerId, audioProducerId: p.audioProducerId })),
            workDir: path.join(env.workDir, `ffmpeg-${published.channelId}`),
            canvas: CANVAS,
            layout,
          }),
        );
        theirStart.push(performance.now());
      }
    }
    await sleep(options.warmupS * 1000);

    const recorderPids = ours.map(({ recording }) => recording.recorderPid!);
    const ffmpegPids = theirs.map((recording) => recording.pid);
    const workerPids = env.workerPids();
    const meters = {
      ours: new CpuMeter(recorderPids),
      ffmpeg: new CpuMeter(ffmpegPids),
      worker: new CpuMeter(workerPids),
      publishers: new CpuMeter([env.host.pid]),
    };
    const load = new MachineLoad();
    const harnessStart = process.cpuUsage();
    for (const meter of Object.values(meters)) meter.start();
    await sleep(options.durationS * 1000);
    const used = Object.fromEntries(Object.entries(meters).map(([name, meter]) => [name, meter.stop()])) as Record<keyof typeof meters, ReturnType<CpuMeter['stop']>>;
    const harness = process.cpuUsage(harnessStart);
    const machineBusyCores = load.coresBusy(require('node:os').cpus().length);
    const oursRss = Math.max(...recorderPids.map(peakRssMb));
    const ffmpegRss = ffmpegPids.length ? Math.max(...ffmpegPids.map(peakRssMb)) : NaN;

    // Stop everything, ours first (their stops are independent).
    const oursStops = ours.map(async ({ recording, startedAt }) => {
      const wallS = (performance.now() - startedAt) / 1000;
      const { localPath } = await env.stopAndCollect(recording);
      return { wallS, file: localPath };
    });
    const theirStops = theirs.map(async (recording, index) => {
      const wallS = (performance.now() - theirStart[index]!) / 1000;
      await recording.stop();
      return { wallS, file: recording.output };
    });
    const oursFiles = await Promise.all(oursStops);
    const theirFiles = await Promise.all(theirStops);

    keepOutputs([...oursFiles, ...theirFiles].map((f) => f.file));
    const tiles = computeLayout(CANVAS, layout, Array.from({ length: options.participants }, (_, i) => `p${i + 1}`));
    const side = async (files: Array<{ wallS: number; file?: string }>, cpuS: number, rss: number): Promise<SideFigures> => {
      let ratio = 0;
      let dropped = 0;
      let expected = 0;
      let repeat = 0;
      let repeatCount = 0;
      for (const { wallS, file } of files) {
        if (!file || !fs.existsSync(file)) {
          dropped += Math.round(wallS * CANVAS.fps);
          expected += Math.round(wallS * CANVAS.fps);
          continue;
        }
        const info = await outputInfo(file);
        ratio += info.durationS / wallS;
        expected += Math.round(wallS * CANVAS.fps);
        dropped += Math.round(wallS * CANVAS.fps) - info.videoFrames;
        if (options.analyzeRepeats) {
          const repeats = await tileRepeatShare(file, CANVAS, tiles);
          if (Number.isFinite(repeats.share)) {
            repeat += repeats.share;
            repeatCount++;
          }
        }
      }
      return {
        cpuPerRecordingSecond: cpuS / used.ours.wallS / Math.max(1, files.length),
        peakRssMb: rss,
        realtimeRatio: ratio / Math.max(1, files.length),
        framesDropped: dropped,
        framesExpected: expected,
        tileRepeatShare: repeatCount ? repeat / repeatCount : NaN,
        outputs: files.map((f) => f.file ?? ''),
      };
    };
    const result: CompositeRunResult = {
      ours: await side(oursFiles, used.ours.totalS, oursRss),
      workerCores: used.worker.totalS / used.worker.wallS,
      publisherCores: used.publishers.totalS / used.publishers.wallS,
      harnessCores: (harness.user + harness.system) / 1e6 / used.ours.wallS,
      machineBusyCores,
      windowS: used.ours.wallS,
    };
    if (options.ffmpeg) result.ffmpeg = await side(theirFiles, used.ffmpeg.totalS, ffmpegRss);
    return result;
  } finally {
    for (const { recording } of ours) if (recording.active) await recording.stop('bench cleanup').catch(() => undefined);
    for (const recording of theirs) await recording.stop().catch(() => undefined);
    for (const published of channels) await env.closeChannel(published);
  }
}
