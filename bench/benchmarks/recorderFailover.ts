/**
 * Recorder failover (issue 13): the recorder-only node recording the media-only node's channel is
 * SIGKILLed mid-recording, again and again; each time the other recorder node carries the recording
 * on as segment 1. Per kill: the time until the cluster shows it running again on the other node,
 * the gap the recording itself reported (`recorderFailure.gapMs`: from the dead node's last
 * heartbeat to the new recorder's start), and the gap in the files — the publisher's last frame
 * in segment 0 (recovered once the killed node is restarted) to its first frame in segment 1, on
 * the recording's one timeline. The baseline is the bound, nodeTimeoutMs + 3 s, in the
 * same run's configuration.
 */
import fs from 'node:fs';
import { firstContentFrame, lumaSeries, outputInfo, percentile } from '../lib/analyze';
import { sleep } from '../lib/env';
import { figure, Figure } from '../lib/report';
import { RECORDER_NODE_TIMEOUT_MS, type RecorderCluster } from '../lib/recorderCluster';
import type { RecorderMeasurement } from './recorderMeasurement';

const RECORD_BEFORE_KILL_MS = 2000;
const RECORD_AFTER_TAKEOVER_MS = 2000;
const BOUND_MS = RECORDER_NODE_TIMEOUT_MS + 3000;

type View = { phase: string; nodeId: string; segment?: number; files: { objectKey: string; segment?: number; startOffsetMs: number }[] };
type Kill = { takeoverMs: number; reportedGapMs: number | undefined; fileGapMs: number | undefined };

async function view(cluster: RecorderCluster, recordingId: string): Promise<View> {
  return (await cluster.api.request('GET', `/recordings/${recordingId}`)).body as View;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(everyMs);
  }
}

/** The publisher's first (or last) frame in a stored file, ms into it. */
async function contentEdgesMs(file: string): Promise<{ firstMs?: number; lastMs: number }> {
  const series = await lumaSeries(file);
  const first = firstContentFrame(series);
  return { ...(first !== undefined ? { firstMs: first * 1000 } : {}), lastMs: (await outputInfo(file)).videoDurationS * 1000 };
}

async function oneKill(cluster: RecorderCluster): Promise<Kill | string> {
  const started = await cluster.startRecording('remote');
  const { recordingId, nodeId: doomed } = started;
  if (cluster.server(doomed).nodeId !== 'node-2') {
    await cluster.stopRecording(recordingId);
    return `${recordingId} was placed on ${doomed}, not on the recorder-only node: not killed`;
  }
  await sleep(RECORD_BEFORE_KILL_MS);
  const killedAt = Date.now();
  await cluster.kill(doomed);
  const moved = await until(() => view(cluster, recordingId).catch(() => undefined), (answer) => answer?.phase === 'running' && answer.nodeId !== doomed && (answer.segment ?? 0) >= 1, BOUND_MS * 3);
  const takeoverMs = Date.now() - killedAt;
  if (!moved || moved.nodeId === doomed) {
    await cluster.restart(doomed);
    return `${recordingId}: not carried on within ${BOUND_MS * 3} ms (${JSON.stringify(moved).slice(0, 200)})`;
  }
  const survivor = moved.nodeId;
  const events = (await cluster.api.request('GET', `/recordings/${recordingId}/events`)).body as { events?: { type: string; segment?: number; gapMs?: number }[] };
  const reportedGapMs = events.events?.find((event) => event.type === 'recorderFailure' && event.segment)?.gapMs;
  await sleep(RECORD_AFTER_TAKEOVER_MS);
  await cluster.restart(doomed);
  await cluster.stopRecording(recordingId);
  // Both segments listed, and each in its node's store (segment 0 is uploaded by the node that recorded it).
  const done = await until(
    () => view(cluster, recordingId),
    (answer) => answer.files.length === 2 && answer.files.every((file) => fs.existsSync(cluster.storedPath(file.segment ? survivor : doomed, file.objectKey))),
    60_000,
    200,
  );
  const [segment0, segment1] = [...done.files].sort((a, b) => (a.segment ?? 0) - (b.segment ?? 0));
  if (!segment0 || !segment1) return { takeoverMs, reportedGapMs, fileGapMs: undefined };
  const [edges0, edges1] = await Promise.all([contentEdgesMs(cluster.storedPath(doomed, segment0.objectKey)), contentEdgesMs(cluster.storedPath(survivor, segment1.objectKey))]);
  const fileGapMs = edges1.firstMs === undefined ? undefined : segment1.startOffsetMs + edges1.firstMs - (segment0.startOffsetMs + edges0.lastMs);
  return { takeoverMs, reportedGapMs, fileGapMs };
}

export const recorderFailover: RecorderMeasurement = {
  name: 'failover',
  async run(cluster, options) {
    const kills = options.quick ? 3 : 10;
    const results: Kill[] = [];
    const notes: string[] = [];
    for (let i = 0; i < kills; i++) {
      const result = await oneKill(cluster);
      if (typeof result === 'string') notes.push(result);
      else results.push(result);
    }
    const takeover = results.map((result) => result.takeoverMs);
    const reported = results.flatMap((result) => (result.reportedGapMs === undefined ? [] : [result.reportedGapMs]));
    const inFiles = results.flatMap((result) => (result.fileGapMs === undefined ? [] : [result.fileGapMs]));
    const figures: Figure[] = [];
    for (const q of [50, 95]) {
      figures.push(figure(`recorders.failover.takeover.p${q}`, `kill → running again on the other recorder node, p${q}`, percentile(takeover, q), 'ms'));
      figures.push(figure(`recorders.failover.reportedGap.p${q}`, `gap reported (recorderFailure.gapMs), p${q}`, percentile(reported, q), 'ms'));
      figures.push(figure(`recorders.failover.fileGap.p${q}`, `gap in the files (last frame of segment 0 → first of segment 1), p${q}`, percentile(inFiles, q), 'ms'));
    }
    figures.push(figure('recorders.failover.bound', 'the bound: nodeTimeoutMs + 3 s', BOUND_MS, 'ms'));
    figures.push(figure('recorders.failover.fileGapRatio.p95', 'gap in the files p95 / the bound', percentile(inFiles, 95) / BOUND_MS, '×'));
    figures.push(figure('recorders.failover.samples', 'kills measured', results.length, 'kills'));
    return {
      params: { kills, recordBeforeKillMs: RECORD_BEFORE_KILL_MS, nodeTimeoutMs: RECORDER_NODE_TIMEOUT_MS },
      figures,
      notes: [
        `${kills} kills of node-2 (recorder only) while it recorded node-1's channel; node-3 carried each recording on as segment 1, then node-2 was restarted, recovered segment 0 and uploaded it.`,
        "The gap in the files is measured on the recording's timeline (files[].startOffsetMs) from the last frame of segment 0 to the first frame with the publisher in segment 1, so it includes segment 1's wait for a key frame; the reported gap runs from the dead node's last heartbeat to segment 1's recorder start. Both are dominated by noticing the death: nodeTimeoutMs plus up to a heartbeat interval (nodeTimeoutMs / 3, at most 2 s).",
        ...notes,
      ],
    };
  },
};
