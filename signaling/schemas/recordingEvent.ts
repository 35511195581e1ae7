/**
 * The recording event model: one discriminated union for a recording's lifecycle (the nine callbacks
 * of the Agora seed's ICloudRecorderObserver), numbered per recording. This is the type the engine is
 * to emit once and every reader (event log, in-process observers, recorder SDK, webhooks, the
 * in-channel `recordingEvent`) to take from that one stream.
 *
 * The engine emits it once into the event log; on the wire (SDK `recordingEvent`, webhooks, the HTTP
 * event log, the in-channel `recordingEvent`) it goes as RecordingEventEntry below: the same fields
 * flattened, with `event` repeating `type` for first-version clients (signaling/recordingEvent.ts).
 */
import { Static, TProperties, Type } from '@sinclair/typebox';
import { IsoTime, RecordingErrorCodeSchema, RecordingId, Seq } from './common';
import { StringEnum } from './validate';

const base = {
  recordingId: RecordingId,
  seq: Seq,
  at: IsoTime,
};
const ChannelId = Type.String({ minLength: 1, maxLength: 64, description: 'The recorded channel' });
/** The event log names the channel on every event once it knows it (from connecting on). */
const KnownChannel = Type.Optional(ChannelId);
const Code = RecordingErrorCodeSchema;
const Message = Type.String({ description: 'What happened, for people' });
const FileName = Type.String({ description: 'The stored object key' });
const Segment = Type.Integer({ minimum: 1, description: 'recorderFailure after a recorder node died: the segment the recording goes on in, on another node' });
const GapMs = Type.Integer({ minimum: 0, description: 'recorderFailure with a segment: at most this much media is missing between the two segments (ms)' });
const Progress = Type.Integer({ minimum: 0, maximum: 100, description: "Percent uploaded, the mean over the recording's files; never goes back" });

function variant<T extends string, P extends TProperties>(type: T, fields: P, description: string) {
  return Type.Object({ type: Type.Literal(type), ...base, ...fields }, { additionalProperties: false, description });
}

export const RecordingEventSchema = Type.Union(
  [
    variant('connecting', { channelId: ChannelId }, 'The recorder is being set up (onRecordingConnecting)'),
    variant('started', { channelId: ChannelId }, 'The recorder writes the file (onRecordingStarted)'),
    variant('stopped', { channelId: ChannelId, message: Type.Optional(Message) }, 'The recording ended; message: why (onRecordingStopped)'),
    variant(
      'recorderFailure',
      { channelId: KnownChannel, code: Code, message: Message, segment: Type.Optional(Segment), gapMs: Type.Optional(GapMs) },
      'A recoverable recorder problem (onRecorderFailure); with segment and gapMs: its recorder node died and the recording goes on in that segment on another node',
    ),
    variant('uploaded', { channelId: KnownChannel, fileName: FileName }, 'A file is in the store (onRecordingUploaded)'),
    variant('backuped', { channelId: KnownChannel, fileName: FileName }, 'A file went to backup; it is re-uploaded later (onRecordingBackuped)'),
    variant('uploadingProgress', { channelId: KnownChannel, progress: Progress, fileName: Type.Optional(FileName) }, 'Upload progress (onRecordingUploadingProgress)'),
    variant('uploaderFailure', { channelId: KnownChannel, code: Code, message: Message }, 'An upload failed (onUploaderFailure)'),
    variant('fatalError', { channelId: ChannelId, code: Code, message: Type.Optional(Message) }, 'The recording cannot go on (onRecordingFatalError)'),
  ],
  { description: 'One event of one recording' },
);
export type RecordingEvent = Static<typeof RecordingEventSchema>;
export type RecordingEventType = RecordingEvent['type'];
export const RECORDING_EVENT_TYPES = RecordingEventSchema.anyOf.map((schema) => schema.properties.type.const) as RecordingEventType[];
/** The event of one type, e.g. RecordingEventOf<'uploaded'>. */
export type RecordingEventOf<T extends RecordingEventType> = Extract<RecordingEvent, { type: T }>;

/**
 * The wire form (SDK, webhooks, HTTP event log, the in-channel recordingEvent): a RecordingEvent,
 * flattened, with `event` beside `type` under the same value (first-version clients read `event`).
 */
export const RecordingEventEntrySchema = Type.Object(
  {
    recordingId: RecordingId,
    seq: Seq,
    type: StringEnum(RECORDING_EVENT_TYPES, { description: 'Which of the nine events (the discriminant of RecordingEvent)' }),
    event: StringEnum(RECORDING_EVENT_TYPES, { description: 'The same as type, as clients of the first protocol version read it' }),
    at: IsoTime,
    channelId: Type.Optional(ChannelId),
    code: Type.Optional(Code),
    message: Type.Optional(Message),
    fileName: Type.Optional(FileName),
    progress: Type.Optional(Progress),
    segment: Type.Optional(Segment),
    gapMs: Type.Optional(GapMs),
  },
  {
    additionalProperties: false,
    description:
      'One event of one recording, numbered from 1; channelId on every event once known. connecting/started: channelId; stopped: channelId, message (why); recorderFailure, ' +
      'uploaderFailure: code, message (recorderFailure also segment, gapMs when the recording moved to another recorder node); uploaded, backuped: fileName; uploadingProgress: progress (and fileName); fatalError: channelId, code, message',
  },
);
export type RecordingEventEntry = Static<typeof RecordingEventEntrySchema>;
