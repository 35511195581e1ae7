import type { RecordState } from '../../signaling/protocol';

/**
 * The channel's record state (Juphoon seed), published as the `recordState` channel property:
 *
 *   None    → Ready    a valid record param becomes known (a peer's join param, an enableRecord
 *                      param, or the server's default storage)
 *   Ready   → Running  a recording of the channel writes its file (enableRecord(true) or a backend)
 *   Running → Ready    the recording stopped (asked, maxIdleTime, recorder died)
 *   Ready   → None     every peer that had set a param left and the server has no default storage
 *                      (Running → None when the recording stops in that case)
 *   any     → None     recording unavailable (plugin off: the state never leaves None)
 *
 * The state is derived, never stored: from whether a param is known and a recording is running.
 */
export function deriveRecordState(paramKnown: boolean, running: boolean): RecordState {
  if (running) return 'Running';
  return paramKnown ? 'Ready' : 'None';
}
