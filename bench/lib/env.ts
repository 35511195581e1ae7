/**
 * One benchmark environment: a real server (mediasoup worker, recording plugin, local store under a
 * temp dir), the replay publisher host, and helpers to fill channels with publishers and to run our
 * recorder or the FFmpeg baseline on them.
 */
import type { RecordingEvent } from '../../signaling/recordingEvent';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Channel } from '../../server/Channel';
import type { ChannelRecording } from '../../plugin/recording/ChannelRecording';
import type { MixedVideoLayout } from '../../plugin/recording/layout';
import { resolveRecordingConfig, RecordingConfig } from '../../plugin/recording/recordingConfig';
import type { RecordedFile } from '../../plugin/recording/recorder/protocol';
import type { StorageTarget } from '../../signaling/recordParam';
import type { SignalingClient } from '../../signaling/SignalingClient';
import { RecordingTestServer, startRecordingServer } from '../../test/support/recordingServer';
import type { ClipName } from './content';
import { PublisherHost, publishReplay, ReplayPublisher } from './publishers';
import { LocalChannelMedia } from '../../plugin/recording/media/LocalChannelMedia';

export interface PublishedChannel {
  channelId: string;
  channel: Channel;
  publishers: ReplayPublisher[];
  clients: SignalingClient[];
}

export class BenchEnv {
  readonly server: RecordingTestServer;
  readonly host: PublisherHost;
  readonly workDir: string;
  #channelCounter = 0;

  static async start(): Promise<BenchEnv> {
    // capacityUnits: the benchmarks measure what a node can carry; the cost estimate derived from them must not cap it.
    const server = await startRecordingServer({
      overrides: { recording: { maxConcurrentRecordings: 64, capacityUnits: 1_000_000, allowedStorageEndpoints: '*' }, mediasoup: { logLevel: 'error' } },
      plugin: { recorder: { stopDeadlineMs: 20_000 } },
    });
    const host = await PublisherHost.start();
    return new BenchEnv(server, host);
  }

  private constructor(server: RecordingTestServer, host: PublisherHost) {
    this.server = server;
    this.host = host;
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-bench-'));
  }

  get engine() {
    return this.server.recording.engine;
  }

  workerPids(): number[] {
    return this.server.server.pool.workers.map((worker) => worker.pid);
  }

  /** A new channel with `count` replay publishers of `clip`, each starting at a different point of it. */
  async channelWithPublishers(count: number, clip: ClipName = 'moving', prefix = 'bench'): Promise<PublishedChannel> {
    const channelId = `${prefix}-${++this.#channelCounter}`;
    const publishers: ReplayPublisher[] = [];
    const clients: SignalingClient[] = [];
    for (let index = 0; index < count; index++) {
      const uid = `p${index + 1}`;
      const { client } = await this.server.join(channelId, uid);
      clients.push(client);
      publishers.push(await publishReplay(this.host, client, uid, { clip, offsetS: clip === 'avsync' ? 0 : (index * 3.7) % 20 }));
    }
    const channel = this.server.server.registry.find(channelId);
    if (!channel) throw new Error(`channel ${channelId} not found`);
    return { channelId, channel, publishers, clients };
  }

  async closeChannel(published: PublishedChannel): Promise<void> {
    for (const publisher of published.publishers) await publisher.stop();
    for (const client of published.clients) client.close();
  }

  /** Starts our recorder on a channel (engine API, as the HTTP API and CloudRecorder do). */
  async record(published: PublishedChannel, config: RecordingConfig, target: StorageTarget = { vendor: 'local' }, fileName?: string): Promise<ChannelRecording> {
    return this.engine.start({ channel: new LocalChannelMedia(published.channel), config: resolveRecordingConfig(config), target, startedBy: 'bench', ...(fileName ? { fileName } : {}) }).started;
  }

  /** Resolves with the object key once the engine reports the recording's file uploaded. */
  waitUploaded(recordingId: string, timeoutMs = 120_000): Promise<{ objectKey: string; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.engine.eventLog.off('appended', onUploaded);
        reject(new Error(`${recordingId} not uploaded within ${timeoutMs} ms`));
      }, timeoutMs);
      const onUploaded = (event: RecordingEvent): void => {
        if (event.type !== 'uploaded' || event.recordingId !== recordingId) return;
        clearTimeout(timer);
        this.engine.eventLog.off('appended', onUploaded);
        resolve({ objectKey: event.fileName, at: performance.now() });
      };
      this.engine.eventLog.on('appended', onUploaded);
    });
  }

  /** Where the local store put an uploaded object. */
  localObjectPath(objectKey: string): string {
    return path.join(this.server.server.config.recording.recordingsDir, objectKey);
  }

  /** Stops a recording and waits until its (single composite) file is in the local store. */
  async stopAndCollect(recording: ChannelRecording): Promise<{ files: RecordedFile[]; localPath?: string }> {
    const uploaded = this.waitUploaded(recording.recordingId);
    const files = await this.engine.stop(recording.recordingId, 'bench');
    if (files.length === 0) {
      uploaded.catch(() => undefined);
      return { files };
    }
    const { objectKey } = await uploaded;
    return { files, localPath: this.localObjectPath(objectKey) };
  }

  /** Stops a recording and waits until every one of its files is in the local store; their paths there. */
  async stopAndCollectAll(recording: ChannelRecording, timeoutMs = 120_000): Promise<string[]> {
    const keys: string[] = [];
    let expected = Infinity;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const onUploaded = (event: RecordingEvent): void => {
      if (event.type !== 'uploaded' || event.recordingId !== recording.recordingId) return;
      keys.push(event.fileName);
      if (keys.length >= expected) done();
    };
    this.engine.eventLog.on('appended', onUploaded);
    try {
      const files = await this.engine.stop(recording.recordingId, 'bench');
      expected = files.length;
      if (keys.length >= expected) done();
      await Promise.race([finished, sleep(timeoutMs)]);
      return keys.map((key) => this.localObjectPath(key));
    } finally {
      this.engine.eventLog.off('appended', onUploaded);
    }
  }

  async close(): Promise<void> {
    await this.host.close();
    await this.server.close();
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function layoutFor(_count: number): MixedVideoLayout {
  return 'BestFit';
}
