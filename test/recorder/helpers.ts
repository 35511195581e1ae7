/**
 * Shared fixtures of the recorder tests: jobs, codecs, temp dirs, waiting for events.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import { RecorderCodec, RecorderInput, RecorderJob } from '../../plugin/recording/recorder/protocol';
import type { RtpPublisher } from '../support/rtpSender';

export const VP8: RecorderCodec = { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 };
export const H264: RecorderCodec = { mimeType: 'video/H264', payloadType: 102, clockRate: 90000 };
export const OPUS: RecorderCodec = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rec-${prefix}-`));
}

export function compositeJob(outputDir: string, overrides: Partial<RecorderJob> = {}): RecorderJob {
  return {
    recordingId: `r${process.pid}x${Math.floor(Math.random() * 1e6)}`,
    mode: 'composite',
    outputDir,
    fileBaseName: 'out',
    streamTypes: 'AudioVideo',
    canvas: { width: 640, height: 360, fps: 15, bitrateKbps: 800 },
    layout: 'BestFit',
    audioProfile: 'MusicStandard',
    ...overrides,
  };
}

let ssrc = 1000;
export function videoInput(inputId: string, uid: string, codec: RecorderCodec = VP8): RecorderInput {
  return { inputId, uid, kind: 'video', codec, ssrc: ssrc++ };
}
export function audioInput(inputId: string, uid: string): RecorderInput {
  return { inputId, uid, kind: 'audio', codec: OPUS, ssrc: ssrc++ };
}

/** A bare RTP packet (VP8's payload type 96, no payload): what the addon's elements see of a stream. */
export function rtpPacket(seq: number, ssrc: number, timestamp: number): Buffer {
  const packet = Buffer.alloc(20);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects firstFrame events; waitFor resolves with the Date.now() of the event. */
export class FirstFrames {
  readonly #times = new Map<string, number>();
  readonly #waiters = new Map<string, Array<(time: number) => void>>();

  constructor(recorder: RecorderProcess) {
    recorder.on('firstFrame', (inputId) => {
      const now = Date.now();
      this.#times.set(inputId, now);
      for (const resolve of this.#waiters.get(inputId) ?? []) resolve(now);
      this.#waiters.delete(inputId);
    });
  }

  /** Rejects after a minute: a guard against a silent hang, far above any normal wait. */
  waitFor(inputId: string): Promise<number> {
    const time = this.#times.get(inputId);
    if (time !== undefined) return Promise.resolve(time);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no first frame from ${inputId}`)), 60000);
      const done = (at: number): void => {
        clearTimeout(timer);
        resolve(at);
      };
      this.#waiters.set(inputId, [...(this.#waiters.get(inputId) ?? []), done]);
    });
  }

  async all(inputIds: string[]): Promise<number> {
    return Math.max(...(await Promise.all(inputIds.map((id) => this.waitFor(id)))));
  }
}

/** A recorder for one test: it and every publisher pushed to `publishers` are stopped at teardown. */
export async function withRecorder(
  t: { teardown: (fn: () => Promise<void> | void) => void },
  job: RecorderJob,
): Promise<{ recorder: RecorderProcess; frames: FirstFrames; publishers: RtpPublisher[] }> {
  const recorder = await RecorderProcess.spawn(job);
  const publishers: RtpPublisher[] = [];
  t.teardown(async () => {
    recorder.close();
    await Promise.all(publishers.map((publisher) => publisher.stop()));
  });
  return { recorder, frames: new FirstFrames(recorder), publishers };
}
