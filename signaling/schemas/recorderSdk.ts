/**
 * The recorder SDK's socket (WebSocket `/api/v1/recorder`): the Agora seed's cloud-recording API
 * over the same framing as channel signaling. Requests with their responses and errors, and the two
 * notifications. Browser-safe.
 */
import { Static, TSchema, Type } from '@sinclair/typebox';
import { RecordingErrorCode as R, SignalingErrorCode as S, type ErrorCode } from '../errors';
import { Id, RecordingId, Seq } from './common';
import { RecordingEventEntrySchema } from './recordingEvent';
import { CloudStorageConfigSchema, RecordingConfigSchema } from './recordingConfig';
import { StringEnum } from './validate';

const object = <P extends Parameters<typeof Type.Object>[0]>(properties: P, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
const Empty = object({});
const ResumeKey = Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$', description: 'Lets this or another connection follow the recording again (resume)' });
const AppId = Type.String({ minLength: 1, maxLength: 128, description: 'The server auth.appId' });
const Token = Type.String({ minLength: 0, maxLength: 4096, description: 'A join token of the channel with the record privilege (empty when auth is off)' });
const Phase = Type.Union([StringEnum(['starting', 'running', 'stopping', 'stopped', 'failed'] as const), Type.Null()], { description: 'null: the recording is only in the event log' });
const Errors = [R.InvalidParameter, R.InvalidOperation, S.UnknownMethod] as const;

export interface RecorderMethodSpec {
  summary: string;
  request: TSchema;
  response: TSchema;
  errors: readonly ErrorCode[];
}
const method = <Q extends TSchema, A extends TSchema>(summary: string, request: Q, response: A, errors: readonly ErrorCode[]) => ({ summary, request, response, errors });

export const recorderMethods = {
  startCloudRecording: method(
    'StartCloudRecording: record a channel; answers once the recorder runs. The connection then follows the recording (recordingAttached, recordingEvent)',
    object({
      appId: AppId,
      channelName: Id('The channel to record (created if nobody joined it yet)'),
      token: Token,
      uid: Id('Who starts it (startedBy sdk:<uid>)'),
      recordingConfig: Type.Optional(RecordingConfigSchema),
      storageConfig: CloudStorageConfigSchema,
    }),
    object({ recordingId: RecordingId, resumeKey: ResumeKey }),
    [...Errors, R.ConnectError, R.RecorderInitFailed],
  ),
  stopCloudRecording: method('StopCloudRecording: stop a recording this connection follows', object({ recordingId: RecordingId }), Empty, Errors),
  resume: method(
    'Follow a recording again after a reconnect: replays the events with seq > afterSeq, then live ones',
    object({ recordingId: RecordingId, resumeKey: ResumeKey, afterSeq: Seq }),
    object({ recordingId: RecordingId, phase: Phase, lastSeq: Seq, complete: Type.Boolean({ description: 'false when older events were dropped from the bounded log' }) }),
    Errors,
  ),
  attach: method(
    'Follow (and be allowed to stop) a recording another controller started; needs a record token of its channel',
    object({ appId: AppId, recordingId: RecordingId, token: Token, afterSeq: Type.Optional(Seq) }),
    object({ recordingId: RecordingId, resumeKey: ResumeKey, channelId: Type.String(), phase: Phase, lastSeq: Seq }),
    [...Errors, S.TokenInvalid, S.TokenExpired, S.TokenMismatch, S.Forbidden],
  ),
  release: method(
    'Release: stop following; keepRecordingInBackground false also stops recordingId if it still runs, and holds its uploads',
    object({ keepRecordingInBackground: Type.Boolean(), recordingId: Type.Optional(RecordingId) }),
    Empty,
    Errors,
  ),
} satisfies Record<string, RecorderMethodSpec>;

export type RecorderMethod = keyof typeof recorderMethods;
export type RecorderRequestData<M extends RecorderMethod> = Static<(typeof recorderMethods)[M]['request']>;
export type RecorderResponses = { [M in RecorderMethod]: Static<(typeof recorderMethods)[M]['response']> };

export const recorderNotifications = {
  recordingAttached: {
    summary: 'This connection follows a recording from now on (sent before its events)',
    data: object({ recordingId: RecordingId, resumeKey: ResumeKey, channelId: Type.Optional(Type.String()) }),
  },
  recordingEvent: { summary: 'One event of a followed recording, in seq order', data: RecordingEventEntrySchema },
} satisfies Record<string, { summary: string; data: TSchema }>;

export type RecorderNotifications = { [N in keyof typeof recorderNotifications]: Static<(typeof recorderNotifications)[N]['data']> };
