import type { RecordingEngine } from './RecordingEngine';
import type { RecordingStatus } from './RecordingRegistry';

/** A recording as the APIs show it: the engine's status plus its layout, last event number and, in a cluster, its node. */
export type RecordingView = RecordingStatus & {
  layout?: { layout: string; maxResolutionUid?: string };
  lastSeq: number;
  /** Cluster mode: the node that records it. */
  nodeId?: string;
  /** Cluster mode: its node died while it recorded, and the cluster declared it failed. */
  nodeLost?: true;
};

export function recordingView(engine: RecordingEngine, status: RecordingStatus, nodeId?: string): RecordingView {
  const transcoding = engine.get(status.recordingId)?.config.transcodingConfig;
  return {
    ...status,
    ...(transcoding && status.mode === 'composite'
      ? { layout: { layout: transcoding.layout, ...(transcoding.maxResolutionUid ? { maxResolutionUid: transcoding.maxResolutionUid } : {}) } }
      : {}),
    lastSeq: engine.eventLog.lastSeq(status.recordingId),
    ...(nodeId ? { nodeId } : {}),
  };
}
