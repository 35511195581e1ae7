/**
 * Start latency through a remote recorder (media link) vs a local one, in the same run: from the
 * POST /recordings that starts it to the 201 (the recorder runs), to the publisher listed as
 * recorded (its stream consumed into the recorder), and to the first frame with the publisher's
 * content in the file (measured as the `start` benchmark does, by startToContentMs).
 */
import { percentile, startToContentMs } from '../lib/analyze';
import { sleep } from '../lib/env';
import { figure, Figure } from '../lib/report';
import type { RecorderCluster, RecorderSide, StartedRecording } from '../lib/recorderCluster';
import type { RecorderMeasurement } from './recorderMeasurement';

/** Long enough for the first content frame to be in the file (about 1 s after the POST here); a start without one is noted, not counted. */
const RECORD_MS = 3000;
const WIRED_TIMEOUT_MS = 10_000;

const METRICS = {
  running: 'POST → 201 running',
  wired: 'POST → stream wired',
  firstFrame: 'POST → first content frame',
} as const;
type Metric = keyof typeof METRICS;

type Start = {
  side: RecorderSide;
  recording: StartedRecording;
  runningMs: number;
  wiredMs: number;
  /** POST → the file's time 0 (the recorder started it). */
  fileStartMs: number;
  file: string;
};

async function timedStart(cluster: RecorderCluster, side: RecorderSide): Promise<Start> {
  const t0 = performance.now();
  const t0Wall = Date.now();
  const recording = await cluster.startRecording(side);
  const runningMs = performance.now() - t0;
  if (!(await cluster.wired(recording.recordingId, WIRED_TIMEOUT_MS))) throw new Error(`${recording.recordingId}: the publisher's stream was never wired`);
  const wiredMs = performance.now() - t0;
  await sleep(Math.max(0, t0 + RECORD_MS - performance.now()));
  await cluster.stopRecording(recording.recordingId);
  // Uploaded before the next start, so one recording's stop and upload do not load the next one's start.
  const { file, startedAtMs } = await cluster.storedFile(recording);
  return { side, recording, runningMs, wiredMs, fileStartMs: startedAtMs - t0Wall, file };
}

function sideFigures(metric: Metric, values: Record<RecorderSide, number[]>): Figure[] {
  const figures: Figure[] = [];
  for (const q of [50, 95]) {
    for (const side of ['local', 'remote'] as const) {
      figures.push(figure(`recorders.start.${side}.${metric}.p${q}`, `${side} recorder: ${METRICS[metric]}, p${q}`, percentile(values[side], q), 'ms'));
    }
  }
  for (const q of [50, 95]) {
    figures.push(figure(`recorders.start.${metric}Ratio.p${q}`, `remote / local: ${METRICS[metric]} (p${q})`, percentile(values.remote, q) / percentile(values.local, q), '×'));
  }
  return figures;
}

export const recorderStart: RecorderMeasurement = {
  name: 'start',
  async run(cluster, options) {
    const rounds = options.quick ? 5 : 20;
    const starts: Start[] = [];
    // Local and remote alternate, the order flipping every round (ABBA), so both see the same load
    // and neither always follows the other. Round 0 warms up connections and code paths and is not counted.
    for (let round = 0; round <= rounds; round++) {
      const order: RecorderSide[] = round % 2 === 0 ? ['local', 'remote'] : ['remote', 'local'];
      for (const side of order) {
        const start = await timedStart(cluster, side);
        if (round > 0) starts.push(start);
      }
    }

    // Decoded after the last start, so ffmpeg never competes with what is measured.
    const values: Record<Metric, Record<RecorderSide, number[]>> = {
      running: { local: [], remote: [] },
      wired: { local: [], remote: [] },
      firstFrame: { local: [], remote: [] },
    };
    const notes: string[] = [];
    for (const start of starts) {
      values.running[start.side].push(start.runningMs);
      values.wired[start.side].push(start.wiredMs);
      const firstFrameMs = await startToContentMs(start.file, start.fileStartMs);
      if (firstFrameMs !== undefined) values.firstFrame[start.side].push(firstFrameMs);
      else notes.push(`${start.side} start ${start.recording.recordingId}: no publisher content in the file`);
    }
    const remoteNodes = new Map<string, number>();
    for (const start of starts) if (start.side === 'remote') remoteNodes.set(start.recording.nodeId, (remoteNodes.get(start.recording.nodeId) ?? 0) + 1);

    return {
      params: { rounds, recordMs: RECORD_MS },
      figures: [
        ...(Object.keys(METRICS) as Metric[]).flatMap((metric) => sideFigures(metric, values[metric])),
        figure('recorders.start.local.firstFrame.samples', 'local starts with a first content frame', values.firstFrame.local.length, 'starts'),
        figure('recorders.start.remote.firstFrame.samples', 'remote starts with a first content frame', values.firstFrame.remote.length, 'starts'),
      ],
      notes: [
        `${rounds} local and ${rounds} remote starts, alternating (the order flipping every round), one recording at a time, each recorded for ${RECORD_MS / 1000} s and uploaded before the next.`,
        '"Running" is the 201, sent once the recorder wrote its first bytes; "wired" is when the recording lists the publisher among its participants (its stream consumed into the recorder).',
        '"First content frame" = when the recorder started the file (the recording\'s startedAt, every node on this machine\'s clock) + the stream time of the first output frame whose mean luma shows the publisher (the `start` benchmark\'s analysis). It includes the key-frame request: over the media link for a remote recorder.',
        `Remote starts were recorded on ${[...remoteNodes].map(([nodeId, count]) => `${nodeId} ×${count}`).join(', ')} (the placement picks the recorder node with the most free room).`,
        ...notes,
      ],
    };
  },
};
