/**
 * The recorder IPC: RecorderProcess (parent) ↔ the recorder child, over child_process.fork's JSON
 * 'ipc' channel. Not a public surface, but described here like the others so both ends share one
 * definition. Parent → child: { id, method, params }; child → parent: { type: 'response', id, ok,
 * result | error } and unasked { type: 'event', event, data }. Browser-safe (no Node imports).
 */
import { Static, TSchema, Type } from '@sinclair/typebox';
import { AUDIO_PROFILES, MEDIA_KINDS, MixedVideoLayoutSchema, RECORDING_MODES, RecordingErrorCodeSchema, STREAM_TYPES } from './common';
import { StringEnum } from './validate';

const SAFE_NAME = '^[A-Za-z0-9_-]{1,64}$';
const IP = '^[0-9a-fA-F.:]{2,45}$';
const object = <P extends Parameters<typeof Type.Object>[0]>(properties: P) => Type.Object(properties, { additionalProperties: false });
const SafeName = Type.String({ pattern: SAFE_NAME });
const NonEmpty = Type.String({ minLength: 1, maxLength: 256 });
const Int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });

export const CanvasSchema = object({ width: Int(16, 3840), height: Int(16, 3840), fps: Int(1, 60), bitrateKbps: Int(16, 50_000) });

/** A job as it crosses the IPC; absent optional settings take the seed's defaults in the child. */
export const RecorderJobSchema = object({
  recordingId: SafeName,
  mode: StringEnum(RECORDING_MODES),
  /** Absolute; it ends up quoted in a launch string: no quotes, backslashes or control characters. */
  outputDir: Type.String({ minLength: 2, maxLength: 4096, pattern: '^/[^"\\\\\\x00-\\x1f]*$' }),
  fileBaseName: SafeName,
  streamTypes: Type.Optional(StringEnum(STREAM_TYPES)),
  canvas: Type.Optional(Type.Partial(CanvasSchema)),
  layout: Type.Optional(MixedVideoLayoutSchema),
  maxResolutionUid: Type.Optional(NonEmpty),
  audioProfile: Type.Optional(StringEnum(AUDIO_PROFILES)),
  bindIp: Type.Optional(Type.String({ pattern: IP })),
});
export type RecorderJobMessage = Static<typeof RecorderJobSchema>;

export const SUPPORTED_MIME_TYPES = ['video/VP8', 'video/H264', 'audio/opus'] as const;
export const RecorderCodecSchema = object({
  mimeType: StringEnum(SUPPORTED_MIME_TYPES),
  payloadType: Int(0, 127),
  clockRate: Int(1000, 192_000),
  channels: Type.Optional(Int(1, 8)),
});
export const RecorderInputSchema = object({
  inputId: SafeName,
  uid: NonEmpty,
  kind: StringEnum(MEDIA_KINDS),
  codec: RecorderCodecSchema,
  ssrc: Int(0, 0xffffffff),
  rtcp: Type.Optional(object({ ip: Type.String({ pattern: IP }), port: Int(1, 65535) })),
});

const Empty = object({});
export const recorderIpcMethods = {
  start: { params: object({ job: RecorderJobSchema }), result: object({ startedAt: Type.Number() }) },
  addInput: { params: object({ input: RecorderInputSchema }), result: object({ rtpPort: Int(1, 65535), rtcpPort: Type.Optional(Int(1, 65535)) }) },
  removeInput: { params: object({ inputId: SafeName }), result: Empty },
  setInputPaused: { params: object({ inputId: SafeName, paused: Type.Boolean() }), result: Empty },
  decodedSize: {
    params: object({ inputId: SafeName }),
    result: object({ width: Type.Optional(Int(1, 16384)), height: Type.Optional(Int(1, 16384)) }),
  },
  setLayout: { params: object({ layout: MixedVideoLayoutSchema, maxResolutionUid: Type.Optional(NonEmpty) }), result: Empty },
  stop: { params: object({ deadlineMs: Int(0, 3_600_000) }), result: Type.Object({ files: Type.Array(Type.Unknown()) }) },
} satisfies Record<string, { params: TSchema; result: TSchema }>;
export type IpcMethod = keyof typeof recorderIpcMethods;

export const ParentMessageSchema = Type.Union(
  (Object.keys(recorderIpcMethods) as IpcMethod[]).map((method) =>
    object({ id: Int(0, Number.MAX_SAFE_INTEGER), method: Type.Literal(method), params: recorderIpcMethods[method].params }),
  ),
);

const WireErrorSchema = Type.Object({ code: Type.String({ minLength: 1 }), message: Type.String() });
/** Child → parent: the shape the parent relies on (results are checked by their callers' types). */
export const ChildMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('response'), id: Int(0, Number.MAX_SAFE_INTEGER), ok: Type.Literal(true), result: Type.Unknown() }),
  Type.Object({ type: Type.Literal('response'), id: Int(0, Number.MAX_SAFE_INTEGER), ok: Type.Literal(false), error: WireErrorSchema }),
  Type.Object({ type: Type.Literal('event'), event: Type.Literal('ready'), data: Type.Object({ pid: Type.Integer() }) }),
  Type.Object({ type: Type.Literal('event'), event: Type.Literal('firstFrame'), data: Type.Object({ inputId: Type.String() }) }),
  Type.Object({
    type: Type.Literal('event'),
    event: Type.Literal('error'),
    data: Type.Object({ code: RecordingErrorCodeSchema, message: Type.String(), fatal: Type.Boolean(), inputId: Type.Optional(Type.String()) }),
  }),
]);
