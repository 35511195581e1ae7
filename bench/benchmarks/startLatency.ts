/**
 * Start latency over the wire, as a client sees it: enableRecord(true) → the propertyChange that says
 * recordState Running, and → the first frame with participant content in the file. Also when the
 * growing file first shows a decodable video frame to ffprobe (robust MP4 rewrites its index every
 * second, so this includes up to a second of index latency), and the content frame's own stream time:
 * the media path alone (consumers, key frames, jitter buffer, mixing), without the recorder process's
 * start, which a loaded machine stretches most.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { percentile, startToContentMs } from '../lib/analyze';
import { sleep } from '../lib/env';
import { figure } from '../lib/report';
import type { Benchmark } from './types';

const run = promisify(execFile);

async function hasVideoFrame(file: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file], { timeout: 2000 });
    return Number(stdout.trim()) > 0;
  } catch {
    return false;
  }
}

export const startLatency: Benchmark = {
  name: 'start',
  title: 'Start latency: enableRecord(true) → Running, → first content frame in the file',
  async run(env, options) {
    const starts = options.quick ? 5 : 20;
    const recordS = options.quick ? 2.5 : 3;
    const published = await env.channelWithPublishers(2, 'moving', 'start');
    const { client: watcher } = await env.server.join(published.channelId, 'watcher', { record: false });
    const requester = published.clients[0]!;
    const toRunning: number[] = [];
    const toContent: number[] = [];
    const contentInStream: number[] = [];
    const toReadable: number[] = [];
    const notes: string[] = [];
    try {
      await sleep(1000);
      for (let i = 0; i < starts; i++) {
        const running = watcher.waitFor('propertyChange', (data: any) => data.properties.recordState === 'Running', 20_000);
        const t0 = performance.now();
        const answer = (await requester.request('enableRecord', { enable: true })) as { recordingId: string };
        await running;
        const tRunning = performance.now();
        toRunning.push(tRunning - t0);
        // Poll the growing file for its first decodable video frame.
        const workFile = path.join(env.server.server.config.recording.stateDir, 'work', answer.recordingId, 'recording.mp4');
        let readableAt: number | undefined;
        const pollUntil = t0 + recordS * 1000;
        while (performance.now() < pollUntil) {
          if (await hasVideoFrame(workFile)) {
            readableAt = performance.now();
            break;
          }
          await sleep(100);
        }
        if (readableAt !== undefined) toReadable.push(readableAt - t0);
        await sleep(Math.max(0, pollUntil - performance.now()));
        const uploaded = env.waitUploaded(answer.recordingId);
        await requester.request('enableRecord', { enable: false });
        const file = env.localObjectPath((await uploaded).objectKey);
        // The output's time 0 is when its pipeline started, before Running was announced: this is an upper bound.
        const content = await startToContentMs(file, tRunning - t0);
        if (content !== undefined) {
          toContent.push(content);
          contentInStream.push(content - (tRunning - t0));
        } else notes.push(`start ${i + 1}: no participant content in the file`);
      }
    } finally {
      watcher.close();
      await env.closeChannel(published);
    }
    return {
      params: { starts, recordSeconds: recordS, publishers: 2, config: 'enableRecord defaults (360×640 Float)' },
      figures: [
        figure('start.running.p50', '→ Running notification p50', percentile(toRunning, 50), 'ms', { op: '<=', value: 300 }),
        figure('start.running.p95', '→ Running notification p95', percentile(toRunning, 95), 'ms', { op: '<=', value: 300 }),
        figure('start.content.p50', '→ first content frame (in stream) p50', percentile(toContent, 50), 'ms', { op: '<=', value: 1000 }),
        figure('start.content.p95', '→ first content frame (in stream) p95', percentile(toContent, 95), 'ms', { op: '<=', value: 1000 }),
        figure('start.contentInStream.p50', 'recorder output start → first content frame (media path) p50', percentile(contentInStream, 50), 'ms'),
        figure('start.contentInStream.p95', 'recorder output start → first content frame (media path) p95', percentile(contentInStream, 95), 'ms'),
        figure('start.readable.p50', '→ file decodable on disk (ffprobe poll) p50', percentile(toReadable, 50), 'ms'),
        figure('start.readable.p95', '→ file decodable on disk (ffprobe poll) p95', percentile(toReadable, 95), 'ms'),
        figure('start.samples', 'starts measured', toRunning.length, 'starts'),
      ],
      notes: [
        'First content frame = Running time + timestamp of the first output frame whose mean luma shows the participant (the output clock starts before Running is sent, so this is an upper bound).',
        'Replay publishers answer PLI at once with a key frame, like a browser.',
        ...notes,
      ],
    };
  },
};
