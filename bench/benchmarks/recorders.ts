/**
 * Recorder nodes (issue 13), in the `cluster` group: a recording through a remote recorder (the
 * media link) against one recorded on the channel's own node, in one cluster (RecorderCluster:
 * node-1 media, node-2 recorder, node-3 both) and one run, so every ratio has its baseline from
 * the same machine state.
 */
import type { Figure } from '../lib/report';
import { RECORDER_CANVAS, RecorderCluster } from '../lib/recorderCluster';
import { recorderFailover } from './recorderFailover';
import { recorderStart } from './recorderStart';
import type { RecorderMeasurement } from './recorderMeasurement';
import type { Benchmark } from './types';

/** What the benchmark measures, in this order, in one cluster. */
export const RECORDER_MEASUREMENTS: readonly RecorderMeasurement[] = [recorderStart, recorderFailover];

export const recorders: Benchmark = {
  name: 'recorders',
  group: 'cluster',
  title: 'Recorder nodes: start latency (to running, to first frame) through a remote recorder (media link) vs a local one; failover gap over repeated recorder-node kills',
  async run(env, options) {
    const cluster = await RecorderCluster.start(env.host);
    try {
      const params: Record<string, unknown> = {
        nodes: 3,
        roles: 'node-1 media, node-2 recorder, node-3 both',
        canvas: `${RECORDER_CANVAS.width}x${RECORDER_CANVAS.height} ${RECORDER_CANVAS.layout}`,
        publisher: 'one per channel: replayed moving VP8 640x360@15 + Opus, plain RTP, answers PLI',
      };
      const figures: Figure[] = [];
      const notes: string[] = [
        "Starts go through node-1 (the media-only node) by the HTTP API: a local start is passed on to node-3, the channel's node; a remote one to the recorder node the placement picks, which opens a media link to node-1.",
      ];
      for (const measurement of RECORDER_MEASUREMENTS) {
        const output = await measurement.run(cluster, options);
        params[measurement.name] = output.params;
        figures.push(...output.figures);
        notes.push(...output.notes);
      }
      return { params, figures, notes };
    } finally {
      await cluster.close();
    }
  },
};
