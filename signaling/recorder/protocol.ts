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
import type { TSchema } from '@sinclair/typebox';
import { recorderMethods, type RecorderMethod, type RecorderRequestData } from '../schemas/recorderSdk';
import { checker, type Checker } from '../schemas/validate';

export type { RecorderMethod, RecorderNotifications, RecorderRequestData, RecorderResponses } from '../schemas/recorderSdk';
export type { RecordingEventEntry as RecordingEventNotification } from '../schemas/recordingEvent';
export type { RecordingEventType as RecorderEventName } from '../schemas/recordingEvent';

export const RECORDER_PROTOCOL_VERSION = 1;
/** Path of the recorder SDK's WebSocket on the media server. */
export const RECORDER_SOCKET_PATH = '/api/v1/recorder';

/** Request data checkers by method (schemas: ../schemas/recorderSdk.ts), compiled on first use. */
export const recorderRequestSchemas = Object.fromEntries(
  Object.entries(recorderMethods).map(([name, spec]) => [name, checker(spec.request as TSchema)]),
) as { [M in RecorderMethod]: Checker<RecorderRequestData<M>> };

export const isRecorderMethod = (method: string): method is RecorderMethod => Object.prototype.hasOwnProperty.call(recorderMethods, method);
