/**
 * The segment relay (cluster mode, POST `/api/v1/cluster/segment`, the HTTP API's credentials): a
 * recorder node that recorded a segment of a recording another node owns now (it took the recording
 * over while this one was dead or cut off) tells the owner what became of that segment's files; the
 * owner numbers those events as its own and lists the files with the recording. Browser-safe.
 */
import { Static, Type } from '@sinclair/typebox';
import { RecordingErrorCodeSchema, RecordingId } from './common';
import { checker, StringEnum } from './validate';

export const SEGMENT_RELAY_PATH = '/api/v1/cluster/segment';

const FileName = Type.String({ minLength: 1, maxLength: 1024 });
const Segment = Type.Integer({ minimum: 0, maximum: 1000 });

/** What a segment's files became: the events of the seed that still matter once the recording moved on. */
const RelayedEventSchema = Type.Union([
  Type.Object({ type: Type.Literal('uploaded'), recordingId: RecordingId, fileName: FileName }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('backuped'), recordingId: RecordingId, fileName: FileName }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('uploaderFailure'), recordingId: RecordingId, code: RecordingErrorCodeSchema, message: Type.String({ maxLength: 4096 }) },
    { additionalProperties: false },
  ),
]);

const SegmentFileSchema = Type.Object(
  {
    objectKey: FileName,
    kind: StringEnum(['composite', 'audio', 'video', 'metadata'] as const),
    uid: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    startOffsetMs: Type.Integer({ minimum: 0 }),
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const SegmentRelaySchema = Type.Union([
  Type.Object({ recordingId: RecordingId, segment: Segment, event: RelayedEventSchema }, { additionalProperties: false }),
  Type.Object({ recordingId: RecordingId, segment: Segment, files: Type.Array(SegmentFileSchema, { maxItems: 1000 }) }, { additionalProperties: false }),
]);
export type SegmentRelayMessage = Static<typeof SegmentRelaySchema>;
export const segmentRelayChecker = checker(SegmentRelaySchema);
