import type { ClusterHandle } from '../../../server/plugins/contract';
import { isFinalRecordingEvent } from '../../../signaling/recordingEvent';
import type { RecordingEngine } from '../RecordingEngine';

/**
 * Puts this node's recorder room into its heartbeat (`load.recorder`: capacity and what the
 * running recordings cost now), and heartbeats at once when a recording is admitted or ends, so that
 * placement elsewhere sees the change within a Redis round trip rather than a heartbeat interval.
 */
export function reportRecorderLoad(cluster: ClusterHandle, engine: RecordingEngine): void {
  cluster.setRecorderLoad(() => engine.recorderLoad() ?? { capacity: 0, used: 0 });
  engine.eventLog.on('appended', (event) => {
    // A segment taken over starts without `connecting`: its recorderFailure names the segment.
    if (event.type === 'connecting' || isFinalRecordingEvent(event) || (event.type === 'recorderFailure' && event.segment)) void cluster.heartbeat();
  });
}
