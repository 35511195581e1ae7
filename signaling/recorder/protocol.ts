/**
 * The recorder SDK's wire protocol: the same framing as channel signaling (see ../protocol.ts),
 * on its own WebSocket path.
 *
 *   SDK → server  request       { id, method, data }
 *   server → SDK  response      { id, ok: true, data } | { id, ok: false, error: { code, message } }
 *   server → SDK  notification  { notification: 'recordingAttached' | 'recordingEvent', data }
 *
 * A connection follows the recordings it started, resumed or attached to: for each it first gets
 * `recordingAttached` (with the resume key), then every event of the recording in order, each with
 * its per-recording `seq`. After a reconnect, `resume` with the last seq seen replays what was
 * missed. Closing the socket never stops a recording. Browser-safe.
 */
import { bool, Infer, num, obj, opaqueObject, optional, str } from '../schema';
import type { RecordingEventType, WireRecordingEvent } from '../recordingEvent';

export const RECORDER_PROTOCOL_VERSION = 1;
/** Path of the recorder SDK's WebSocket on the media server. */
export const RECORDER_SOCKET_PATH = '/api/v1/recorder';

const recordingId = str({ min: 1, max: 128, pattern: /^[A-Za-z0-9_.:-]+$/ });
const resumeKey = str({ min: 16, max: 128, pattern: /^[A-Za-z0-9_-]+$/ });
const seq = num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });

export const recorderRequestSchemas = {
  /** StartCloudRecording. recordingConfig / storageConfig are validated by the recording plugin. */
  startCloudRecording: obj({
    appId: str({ min: 1, max: 128 }),
    channelName: str({ min: 1, max: 256 }),
    token: str({ min: 0, max: 4096 }),
    uid: str({ min: 1, max: 256 }),
    recordingConfig: optional(opaqueObject({ maxJsonLength: 8 * 1024 })),
    storageConfig: opaqueObject({ maxJsonLength: 8 * 1024 }),
  }),
  stopCloudRecording: obj({ recordingId }),
  /** Follow a recording again after a reconnect: replays events with seq > afterSeq. */
  resume: obj({ recordingId, resumeKey, afterSeq: seq }),
  /** Follow (and be allowed to stop) a recording another controller started; needs a record token. */
  attach: obj({ appId: str({ min: 1, max: 128 }), recordingId, token: str({ min: 0, max: 4096 }), afterSeq: optional(seq) }),
  /** Release: stops following; false also stops `recordingId` if it still runs, and holds its uploads. */
  release: obj({ keepRecordingInBackground: bool(), recordingId: optional(recordingId) }),
} as const;

export type RecorderMethod = keyof typeof recorderRequestSchemas;
export type RecorderRequestData<M extends RecorderMethod> = Infer<(typeof recorderRequestSchemas)[M]>;
export const isRecorderMethod = (method: string): method is RecorderMethod => Object.prototype.hasOwnProperty.call(recorderRequestSchemas, method);

export interface RecorderResponses {
  startCloudRecording: { recordingId: string; resumeKey: string };
  stopCloudRecording: Record<string, never>;
  resume: { recordingId: string; phase: string | null; lastSeq: number; complete: boolean };
  attach: { recordingId: string; resumeKey: string; channelId: string; phase: string | null; lastSeq: number };
  release: Record<string, never>;
}

/** The nine observer callbacks, by wire name. */
export type RecorderEventName = RecordingEventType;

/** A recording event as the SDK receives it (see ../recordingEvent.ts). */
export type RecordingEventNotification = WireRecordingEvent;

export interface RecorderNotifications {
  recordingAttached: { recordingId: string; resumeKey: string; channelId?: string };
  recordingEvent: RecordingEventNotification;
}
