/**
 * K concurrent composite recordings of N replayed participants each, ours and (optionally) the FFmpeg
 * baseline on the same producers at the same time, measured over a steady-state window. With the
 * `simulcast` clip the run also says which layers each side's consumers were sending at the end of
 * the window (mediasoup's currentLayers): the proof that ours picked small ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { types as ms } from 'mediasoup';
import { computeLayout } from '../../plugin/recording/layout';
import type { ChannelRecording } from '../../plugin/recording/ChannelRecording';
import { outputInfo, tileRepeatShare } from '../lib/analyze';
import type { ClipName } from '../lib/content';
import { BenchEnv, layoutFor, PublishedChannel, sleep } from '../lib/env';
import { ensureSimulcastFiles } from '../lib/simulcastClip';
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
  /** What every publisher sends; default `moving` (one 640×360@15 layer). */
  clip?: ClipName;
}

/** A video consumer's layers at the end of the window; undefined: a single-layer consumer or none sent yet. */
export type ConsumedLayers = ms.ConsumerLayers | undefined;

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
  outputs: string[];
  /** Each video consumer of this side's recorders, at the end of the measuring window. */
  consumedLayers: ConsumedLayers[];
  /** The layers each of them was asked for (setPreferredLayers; a simulcast consumer's default is the top). */
  preferredLayers: ConsumedLayers[];
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
  const clip = options.clip ?? 'moving';
  // Encoded here once (cached) rather than in the publisher host, whose streams would stall meanwhile.
  if (clip === 'simulcast') ensureSimulcastFiles();
  const videoConsumers: ms.Consumer[] = [];
  try {
    for (let k = 0; k < options.recordings; k++) {
      const published = await env.channelWithPublishers(options.participants, clip);
      channels.push(published);
      watchVideoConsumers(published.channel.router, videoConsumers);
    }
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
            // The single-layer case keeps the consumers it always had (a simple consumer has no layers to cap).
            withoutBwe: clip === 'simulcast',
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
    const theirConsumers = new Set(theirs.flatMap((recording) => recording.consumers));
    const layersOf = (consumers: ms.Consumer[]): Pick<SideFigures, 'consumedLayers' | 'preferredLayers'> => {
      const open = consumers.filter((consumer) => !consumer.closed);
      return { consumedLayers: open.map((consumer) => consumer.currentLayers), preferredLayers: open.map((consumer) => consumer.preferredLayers) };
    };
    const oursLayers = layersOf(videoConsumers.filter((consumer) => !theirConsumers.has(consumer)));
    const theirLayers = layersOf(videoConsumers.filter((consumer) => theirConsumers.has(consumer)));
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
    const side = async (files: Array<{ wallS: number; file?: string }>, cpuS: number, rss: number, layers: Pick<SideFigures, 'consumedLayers' | 'preferredLayers'>): Promise<SideFigures> => {
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
        ...layers,
      };
    };
    const result: CompositeRunResult = {
      ours: await side(oursFiles, used.ours.totalS, oursRss, oursLayers),
      workerCores: used.worker.totalS / used.worker.wallS,
      publisherCores: used.publishers.totalS / used.publishers.wallS,
      harnessCores: (harness.user + harness.system) / 1e6 / used.ours.wallS,
      machineBusyCores,
      windowS: used.ours.wallS,
    };
    if (options.ffmpeg) result.ffmpeg = await side(theirFiles, used.ffmpeg.totalS, ffmpegRss, theirLayers);
    return result;
  } finally {
    for (const { recording } of ours) if (recording.active) await recording.stop('bench cleanup').catch(() => undefined);
    for (const recording of theirs) await recording.stop().catch(() => undefined);
    for (const published of channels) await env.closeChannel(published);
  }
}

/** Collects every video consumer made on `router` from now on (ours and FFmpeg's: told apart later). */
function watchVideoConsumers(router: ms.Router, into: ms.Consumer[]): void {
  router.observer.on('newtransport', (transport) =>
    transport.observer.on('newconsumer', (consumer) => {
      if (consumer.kind === 'video') into.push(consumer);
    }),
  );
}
