/**
 * Stop → uploaded: a 4-party composite recording (5 minutes in full mode) to the local store and to
 * S3 (s3rver on loopback), seconds from stop() to the engine's 'uploaded' (onRecordingUploaded),
 * split into finalizing (stop → stopped) and storing (stopped → uploaded).
 */
import type { RecordingEvent } from '../../signaling/recordingEvent';
import fs from 'node:fs';
import { startS3Server } from '../../test/support/s3Server';
import type { ChannelRecording } from '../../plugin/recording/ChannelRecording';
import { PublishedChannel, sleep } from '../lib/env';
import { figure, Figure } from '../lib/report';
import type { StorageTarget } from '../../signaling/recordParam';
import type { BenchEnv } from '../lib/env';
import type { Benchmark } from './types';

const CONFIG = { transcodingConfig: { width: 640, height: 360, fps: 15, bitrate: 500, layout: 'BestFit' as const } };

async function measureStop(env: BenchEnv, recording: ChannelRecording): Promise<{ finalizeS: number; storeS: number; totalS: number }> {
  const uploaded = env.waitUploaded(recording.recordingId, 300_000);
  const stopped = new Promise<number>((resolve) => {
    const onStopped = (event: RecordingEvent): void => {
      if (event.type !== 'stopped' || event.recordingId !== recording.recordingId) return;
      env.engine.eventLog.off('appended', onStopped);
      resolve(performance.now());
    };
    env.engine.eventLog.on('appended', onStopped);
  });
  const t0 = performance.now();
  await env.engine.stop(recording.recordingId, 'bench');
  const tStopped = await stopped;
  const { at } = await uploaded;
  return { finalizeS: (tStopped - t0) / 1000, storeS: (at - tStopped) / 1000, totalS: (at - t0) / 1000 };
}

export const upload: Benchmark = {
  name: 'upload',
  title: 'Stop → uploaded: composite recording to the local store and to S3 (s3rver)',
  async run(env, options) {
    const durationS = options.durationS ?? (options.quick ? 5 : 300);
    const s3 = await startS3Server({ buckets: ['bench'] });
    const channels: PublishedChannel[] = [];
    const figures: Figure[] = [];
    try {
      const local = await env.channelWithPublishers(4, 'moving', 'upload');
      const remote = await env.channelWithPublishers(4, 'moving', 'upload');
      channels.push(local, remote);
      await sleep(500);
      const target: StorageTarget = { vendor: 's3', bucket: 'bench', region: s3.region, endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey };
      const localRecording = await env.record(local, CONFIG);
      const s3Recording = await env.record(remote, CONFIG, target);
      await sleep(durationS * 1000);
      const localStop = await measureStop(env, localRecording);
      const s3Stop = await measureStop(env, s3Recording);
      const status = env.engine.status(s3Recording.recordingId);
      const key = status?.files[0]?.objectKey;
      const stored = key ? await s3.getObject('bench', key) : undefined;
      const localStatus = env.engine.status(localRecording.recordingId);
      const localKey = localStatus?.files[0]?.objectKey;
      const localSize = localKey && fs.existsSync(env.localObjectPath(localKey)) ? fs.statSync(env.localObjectPath(localKey)).size : NaN;
      for (const [name, measured] of [['local', localStop], ['s3', s3Stop]] as const) {
        figures.push(
          figure(`upload.${name}.total`, `${name}: stop → uploaded`, measured.totalS, 's', { op: '<=', value: 2 }),
          figure(`upload.${name}.finalize`, `${name}: stop → stopped (finalize file)`, measured.finalizeS, 's'),
          figure(`upload.${name}.store`, `${name}: stopped → uploaded (store)`, measured.storeS, 's'),
        );
      }
      figures.push(
        figure('upload.local.size', 'local: file size', localSize / 2 ** 20, 'MiB'),
        figure('upload.s3.size', 's3: object size (read back)', stored ? stored.length / 2 ** 20 : NaN, 'MiB'),
      );
    } finally {
      for (const published of channels) await env.closeChannel(published);
      await s3.close();
    }
    return { params: { recordingSeconds: durationS, publishers: 4, canvas: '640×360@15 500 kbps' }, figures, notes: ['The two recordings ran at the same time; they were stopped one after the other.'] };
  },
};
