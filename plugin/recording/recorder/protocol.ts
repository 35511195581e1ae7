/**
 * The typed IPC between RecorderProcess (parent) and the recorder child (main.ts), over
 * child_process.fork's 'ipc' channel.
 *
 * Parent → child: requests { id, method, params }, each answered by exactly one response { type:
 * 'response', id, ok, result | error }. Child → parent also: events { type: 'event', event, data }
 * that nobody asked for (ready, firstFrame, error). Every message crossing the boundary is validated:
 * a malformed one is answered with InvalidParameter (child) or treated as a recorder failure (parent).
 */
import type { MixedVideoLayout } from '../layout';
import type { Static } from '@sinclair/typebox';
import { AUDIO_PROFILES as AUDIO_PROFILE_NAMES, MEDIA_KINDS, RECORDING_MODES, STREAM_TYPES } from '../../../signaling/schemas/common';
import {
  CanvasSchema,
  ChildMessageSchema,
  ParentMessageSchema,
  RecorderCodecSchema,
  RecorderInputSchema,
  SUPPORTED_MIME_TYPES,
  type RecorderJobMessage,
} from '../../../signaling/schemas/recorderIpc';
import { checker, SchemaError } from '../../../signaling/schemas/validate';
import { RecordingErrorCode } from '../../../signaling/errors';

export type RecordingMode = (typeof RECORDING_MODES)[number];
export type StreamTypes = (typeof STREAM_TYPES)[number];
export type AudioProfile = (typeof AUDIO_PROFILE_NAMES)[number];
export type MediaKind = (typeof MEDIA_KINDS)[number];
export type SupportedMimeType = (typeof SUPPORTED_MIME_TYPES)[number];
export type CanvasConfig = Static<typeof CanvasSchema>;

/** A job with every setting resolved (the wire form, RecorderJobMessage, may leave defaults out). */
export interface RecorderJob {
  recordingId: string;
  mode: RecordingMode;
  /** Absolute directory; created if missing. */
  outputDir: string;
  /** File name stem without extension: [A-Za-z0-9_-]+ only (it is also used in launch strings). */
  fileBaseName: string;
  streamTypes: StreamTypes;
  canvas: CanvasConfig;
  layout: MixedVideoLayout;
  maxResolutionUid?: string;
  audioProfile: AudioProfile;
  /** Local address the RTP/RTCP sockets bind to (the PlainTransport sends there). Default 127.0.0.1. */
  bindIp?: string;
}

export const DEFAULT_BIND_IP = '127.0.0.1';

export type RecorderCodec = Static<typeof RecorderCodecSchema>;
/** inputId: [A-Za-z0-9_-]+, unique within the recording; rtcp: where receiver reports and PLIs go back to. */
export type RecorderInput = Static<typeof RecorderInputSchema>;

export interface RecordedFile {
  path: string;
  /** metadata: the per-participant set's offsets file (JSON), stored beside the media files. */
  kind: 'composite' | 'audio' | 'video' | 'metadata';
  uid?: string;
  inputId?: string;
  /** 'h264+aac', 'vp8', 'opus', … what is inside, for the uploader and metadata. */
  codec: string;
  /** Milliseconds from recording start to the file's first sample. */
  startOffsetMs: number;
  durationMs?: number;
}

/** Transcoding defaults of the Agora seed (360×640, 15 fps, 500 kbps). */
export const DEFAULT_CANVAS: Readonly<CanvasConfig> = Object.freeze({ width: 360, height: 640, fps: 15, bitrateKbps: 500 });
export const DEFAULT_LAYOUT: MixedVideoLayout = 'Float';
export const DEFAULT_AUDIO_PROFILE: AudioProfile = 'MusicStandard';

export interface AudioProfileSettings {
  rate: number;
  channels: number;
  bitrate: number;
}

/** The seed's audio profiles: all 48 kHz; Standard stereo ~56k, HighQuality mono ~128k, HighQualityStereo ~192k. */
export const AUDIO_PROFILES: Readonly<Record<AudioProfile, AudioProfileSettings>> = Object.freeze({
  MusicStandard: { rate: 48000, channels: 2, bitrate: 56000 },
  MusicHighQuality: { rate: 48000, channels: 1, bitrate: 128000 },
  MusicHighQualityStereo: { rate: 48000, channels: 2, bitrate: 192000 },
});

export interface InputPorts {
  rtpPort: number;
  /** The local port RTCP is received on and sent from (connect the transport's rtcpPort to it). */
  rtcpPort?: number;
}

/** Request method → [params, result]. */
export interface RequestMap {
  start: [{ job: RecorderJob }, { startedAt: number }];
  addInput: [{ input: RecorderInput }, InputPorts];
  removeInput: [{ inputId: string }, Record<string, never>];
  setInputPaused: [{ inputId: string; paused: boolean }, Record<string, never>];
  setLayout: [{ layout: MixedVideoLayout; maxResolutionUid?: string }, Record<string, never>];
  /** The size of the last frame a video input decoded ({} before its first, or when nothing is decoded). */
  decodedSize: [{ inputId: string }, { width?: number; height?: number }];
  stop: [{ deadlineMs: number }, { files: RecordedFile[] }];
}
export type RequestMethod = keyof RequestMap;

export type ParentMessage = {
  [M in RequestMethod]: { id: number; method: M; params: RequestMap[M][0] };
}[RequestMethod];

export interface WireError {
  code: RecordingErrorCode;
  message: string;
}

export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: WireError };

/** Event name → payload. */
export interface ChildEventMap {
  /** The child loaded GStreamer and listens for requests. */
  ready: { pid: number };
  /** A video input decoded its first frame (stop requesting key frames). Audio inputs: first sample. */
  firstFrame: { inputId: string };
  /** A failure nobody asked about (a pipeline error). fatal: the recording cannot go on. */
  error: WireError & { fatal: boolean; inputId?: string };
}
export type ChildEventName = keyof ChildEventMap;
export type EventMessage = { [E in ChildEventName]: { type: 'event'; event: E; data: ChildEventMap[E] } }[ChildEventName];

export type ChildMessage = ResponseMessage | EventMessage;

// ---------------------------------------------------------------------------------------------------
// Validation against the schema source (signaling/schemas/recorderIpc.ts), once at each end's entry:
// the child checks requests (jobs, inputs), the parent the child's messages. Throws TypeError naming
// the field; callers turn it into InvalidParameter. What a JSON Schema cannot say (defaults, kind ↔ codec)
// is checked here, after the structure.

const MIME_KINDS: Record<SupportedMimeType, MediaKind> = { 'video/VP8': 'video', 'video/H264': 'video', 'audio/opus': 'audio' };
const parentChecker = checker(ParentMessageSchema);
const childChecker = checker(ChildMessageSchema);

function structural<T>(check: { parse(value: unknown, path?: string): T }, value: unknown, path: string): T {
  try {
    return check.parse(value, path);
  } catch (error) {
    throw error instanceof SchemaError ? new TypeError(error.message) : error;
  }
}

function withDefaults(job: RecorderJobMessage): RecorderJob {
  const canvas = { ...DEFAULT_CANVAS, ...job.canvas };
  const result: RecorderJob = {
    recordingId: job.recordingId,
    mode: job.mode,
    outputDir: job.outputDir,
    fileBaseName: job.fileBaseName,
    streamTypes: job.streamTypes ?? 'AudioVideo',
    canvas,
    layout: job.layout ?? DEFAULT_LAYOUT,
    audioProfile: job.audioProfile ?? DEFAULT_AUDIO_PROFILE,
  };
  if (job.maxResolutionUid !== undefined) result.maxResolutionUid = job.maxResolutionUid;
  if (job.bindIp !== undefined) result.bindIp = job.bindIp;
  return result;
}

function checkInput(input: RecorderInput, field: string): RecorderInput {
  if (MIME_KINDS[input.codec.mimeType] !== input.kind) throw new TypeError(`${field}.kind ${input.kind} does not match ${input.codec.mimeType}`);
  return input;
}

/** Validates a parent → child request, params included. */
export function parseParentMessage(raw: unknown): ParentMessage {
  const message = structural(parentChecker, raw, '');
  if (message.method === 'start') return { id: message.id, method: 'start', params: { job: withDefaults((message.params as { job: RecorderJobMessage }).job) } };
  if (message.method === 'addInput') return { id: message.id, method: 'addInput', params: { input: checkInput((message.params as { input: RecorderInput }).input, 'input') } };
  return message as ParentMessage;
}

/** Light validation of child → parent messages: the shape the parent relies on. */
export function parseChildMessage(raw: unknown): ChildMessage {
  return structural(childChecker, raw, '') as ChildMessage;
}
