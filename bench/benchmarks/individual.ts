/**
 * Per-participant capacity: streams recorded without re-encoding (our individual mode: VP8/Opus →
 * WebM, one recorder process per recording) against one `ffmpeg -c copy` per stream from SDP.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChannelRecording } from '../../plugin/recording/ChannelRecording';
import { outputInfo } from '../lib/analyze';
import { PublishedChannel, sleep } from '../lib/env';
import { FfmpegRecording, startFfmpegCopy } from '../lib/ffmpegRecorder';
import { CpuMeter, MachineLoad, peakRssMb } from '../lib/proc';
import { figure } from '../lib/report';
import type { Benchmark } from './types';

export const STREAMS_PER_CORE_TARGET = 150;

export const individual: Benchmark = {
  name: 'individual',
  title: 'Per-participant capacity: streams recorded without re-encoding, ours vs FFmpeg -c copy',
  async run(env, options) {
    const recordings = options.quick ? 1 : 3;
    const participants = options.quick ? 4 : 6;
    const durationS = options.durationS ?? (options.quick ? 6 : 60);
    const warmupS = options.quick ? 3 : 5;
    const channels: PublishedChannel[] = [];
    const ours: ChannelRecording[] = [];
    const theirs: FfmpegRecording[] = [];
    try {
      for (let k = 0; k < recordings; k++) channels.push(await env.channelWithPublishers(participants, 'moving', 'indiv'));
      await sleep(500);
      for (const published of channels) {
        ours.push(await env.record(published, { recordingMode: 'individual' }));
        for (const publisher of published.publishers) {
          for (const [kind, producerId] of [['video', publisher.videoProducerId], ['audio', publisher.audioProducerId]] as const) {
            const name = `${published.channelId}-${publisher.uid}-${kind}`;
            theirs.push(await startFfmpegCopy({ router: published.channel.router, participants: [], producerId, name, workDir: path.join(env.workDir, name) }));
          }
        }
      }
      const streams = recordings * participants * 2;
      await sleep(warmupS * 1000);
      const oursMeter = new CpuMeter(ours.map((recording) => recording.recorderPid!));
      const ffmpegMeter = new CpuMeter(theirs.map((recording) => recording.pid));
      const workerMeter = new CpuMeter(env.workerPids());
      const load = new MachineLoad();
      oursMeter.start();
      ffmpegMeter.start();
      workerMeter.start();
      await sleep(durationS * 1000);
      const oursUsed = oursMeter.stop();
      const ffmpegUsed = ffmpegMeter.stop();
      const workerUsed = workerMeter.stop();
      const busy = load.coresBusy(require('node:os').cpus().length);
      const oursRss = Math.max(...ours.map((recording) => peakRssMb(recording.recorderPid!)));
      const ffmpegRss = Math.max(...theirs.map((recording) => peakRssMb(recording.pid)));
      // Check the files: our recordings' stream files and FFmpeg's, duration against the window.
      let oursFiles = 0;
      let oursShort = 0;
      for (const recording of ours) {
        for (const file of await env.stopAndCollectAll(recording)) {
          if (!/\.(webm|mp4)$/.test(file) || !fs.existsSync(file)) continue;
          oursFiles++;
          const info = await outputInfo(file).catch(() => undefined);
          if (!info || !(info.durationS >= durationS)) oursShort++;
        }
      }
      let theirFiles = 0;
      let theirShort = 0;
      for (const recording of theirs) {
        await recording.stop().catch(() => undefined);
        if (!fs.existsSync(recording.output)) continue;
        theirFiles++;
        const info = await outputInfo(recording.output).catch(() => undefined);
        if (!info || !(info.durationS >= durationS)) theirShort++;
      }
      const oursPerStream = oursUsed.totalS / oursUsed.wallS / streams;
      const ffmpegPerStream = ffmpegUsed.totalS / ffmpegUsed.wallS / streams;
      return {
        params: { recordings, participantsPerRecording: participants, streams, durationS, warmupS },
        figures: [
          figure('individual.ours.cpuPerStream', 'ours: CPU per stream', oursPerStream, 'cpu-s/s'),
          figure('individual.ours.streamsPerCore', 'ours: streams per core', 1 / oursPerStream, 'streams/core', { op: '>=', value: STREAMS_PER_CORE_TARGET }),
          figure('individual.ours.peakRss', 'ours: peak RSS per recorder process', oursRss, 'MB'),
          figure('individual.ours.files', 'ours: stream files written / shorter than window', oursFiles, `files (${oursShort} short) of ${streams}`),
          figure('individual.ffmpeg.cpuPerStream', 'FFmpeg -c copy: CPU per stream', ffmpegPerStream, 'cpu-s/s'),
          figure('individual.ffmpeg.streamsPerCore', 'FFmpeg -c copy: streams per core', 1 / ffmpegPerStream, 'streams/core'),
          figure('individual.ffmpeg.peakRss', 'FFmpeg: peak RSS per ffmpeg process', ffmpegRss, 'MB'),
          figure('individual.ffmpeg.files', 'FFmpeg: files written / shorter than window', theirFiles, `files (${theirShort} short) of ${streams}`),
          figure('individual.ratio', 'CPU ours / FFmpeg', oursPerStream / ffmpegPerStream, 'ratio'),
          figure('individual.worker', 'mediasoup worker (publishers + both recorders)', workerUsed.totalS / workerUsed.wallS, 'cores'),
          figure('individual.machineBusy', 'whole machine busy (other users included)', busy, 'cores'),
        ],
        notes: [`${recordings} individual recordings × ${participants} participants × (VP8 + Opus) = ${streams} streams, ours and FFmpeg at the same time; FFmpeg runs one process per stream.`],
      };
    } finally {
      for (const recording of ours) if (recording.active) await recording.stop('bench cleanup').catch(() => undefined);
      for (const recording of theirs) await recording.stop().catch(() => undefined);
      for (const published of channels) await env.closeChannel(published);
    }
  },
};
