/**
 * The typed IPC between RecorderProcess (parent) and the recorder child (main.ts), over
 * child_process.fork's 'ipc' channel.
 *
 * Parent → child: requests { id, method, params }, each answered by exactly one response { type:
 * 'response', id, ok, result | error }. Child → parent also: events { type: 'event', event, data }
 * that nobody asked for (ready, firstFrame, error). Every message crossing the boundary is validated:
 * a malformed one is answered with InvalidParameter (child) or treated as a recorder failure (parent).
 */
import { MIXED_VIDEO_LAYOUTS, MixedVideoLayout } from '../layout';
import { RecordingErrorCode } from '../../../signaling/errors';

export type RecordingMode = 'composite' | 'individual';
export type StreamTypes = 'AudioVideo' | 'AudioOnly' | 'VideoOnly';
export type AudioProfile = 'MusicStandard' | 'MusicHighQuality' | 'MusicHighQualityStereo';
export type MediaKind = 'audio' | 'video';
export type SupportedMimeType = 'video/VP8' | 'video/H264' | 'audio/opus';

export interface CanvasConfig {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

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
/** UV_THREADPOOL_SIZE given to the child: each playing pipeline's bus poll holds a thread. */
export const DEFAULT_THREADPOOL_SIZE = 128;

export interface RecorderCodec {
  mimeType: SupportedMimeType;
  payloadType: number;
  clockRate: number;
  channels?: number;
}

export interface RecorderInput {
  /** [A-Za-z0-9_-]+, unique within the recording (used in element and channel names). */
  inputId: string;
  uid: string;
  kind: MediaKind;
  codec: RecorderCodec;
  ssrc: number;
  /** Where RTCP (receiver reports, PLI) goes back to: the PlainTransport's RTCP tuple. */
  rtcp?: { ip: string; port: number };
}

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
// Validation. Throws TypeError naming the field; callers turn it into InvalidParameter.

const SAFE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const IP_PATTERN = /^[0-9a-fA-F.:]{2,45}$/;
const MIME_KINDS: Record<SupportedMimeType, MediaKind> = { 'video/VP8': 'video', 'video/H264': 'video', 'audio/opus': 'audio' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw new TypeError(`${field} must be an object`);
  return value;
}
function requireString(value: unknown, field: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${field} must be a non-empty string`);
  if (pattern && !pattern.test(value)) throw new TypeError(`${field} has forbidden characters or length`);
  return value;
}
function requireInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${field} must be an integer in [${min}, ${max}]`);
  }
  return value;
}
function requireOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function validateJob(raw: unknown): RecorderJob {
  const job = requireObject(raw, 'job');
  const canvas = requireObject(job.canvas ?? DEFAULT_CANVAS, 'job.canvas');
  const outputDir = requireString(job.outputDir, 'job.outputDir');
  if (!outputDir.startsWith('/')) throw new TypeError('job.outputDir must be absolute');
  // It ends up quoted inside a launch string: no quotes, backslashes or control characters.
  if (/["\\\x00-\x1f]/.test(outputDir)) throw new TypeError('job.outputDir has forbidden characters');
  const result: RecorderJob = {
    recordingId: requireString(job.recordingId, 'job.recordingId', SAFE_NAME),
    mode: requireOneOf(job.mode, 'job.mode', ['composite', 'individual'] as const),
    outputDir,
    fileBaseName: requireString(job.fileBaseName, 'job.fileBaseName', SAFE_NAME),
    streamTypes: requireOneOf(job.streamTypes ?? 'AudioVideo', 'job.streamTypes', ['AudioVideo', 'AudioOnly', 'VideoOnly'] as const),
    canvas: {
      width: requireInt(canvas.width ?? DEFAULT_CANVAS.width, 'job.canvas.width', 16, 3840),
      height: requireInt(canvas.height ?? DEFAULT_CANVAS.height, 'job.canvas.height', 16, 3840),
      fps: requireInt(canvas.fps ?? DEFAULT_CANVAS.fps, 'job.canvas.fps', 1, 60),
      bitrateKbps: requireInt(canvas.bitrateKbps ?? DEFAULT_CANVAS.bitrateKbps, 'job.canvas.bitrateKbps', 16, 50000),
    },
    layout: requireOneOf(job.layout ?? DEFAULT_LAYOUT, 'job.layout', MIXED_VIDEO_LAYOUTS),
    audioProfile: requireOneOf(job.audioProfile ?? DEFAULT_AUDIO_PROFILE, 'job.audioProfile', Object.keys(AUDIO_PROFILES) as AudioProfile[]),
  };
  if (job.maxResolutionUid !== undefined) result.maxResolutionUid = requireString(job.maxResolutionUid, 'job.maxResolutionUid');
  if (job.bindIp !== undefined) result.bindIp = requireString(job.bindIp, 'job.bindIp', IP_PATTERN);
  return result;
}

export function validateInput(raw: unknown): RecorderInput {
  const input = requireObject(raw, 'input');
  const codec = requireObject(input.codec, 'input.codec');
  const mimeType = requireOneOf(codec.mimeType, 'input.codec.mimeType', Object.keys(MIME_KINDS) as SupportedMimeType[]);
  const kind = requireOneOf(input.kind, 'input.kind', ['audio', 'video'] as const);
  if (MIME_KINDS[mimeType] !== kind) throw new TypeError(`input.kind ${kind} does not match ${mimeType}`);
  const result: RecorderInput = {
    inputId: requireString(input.inputId, 'input.inputId', SAFE_NAME),
    uid: requireString(input.uid, 'input.uid'),
    kind,
    codec: {
      mimeType,
      payloadType: requireInt(codec.payloadType, 'input.codec.payloadType', 0, 127),
      clockRate: requireInt(codec.clockRate, 'input.codec.clockRate', 1000, 192000),
    },
    ssrc: requireInt(input.ssrc, 'input.ssrc', 0, 0xffffffff),
  };
  if (codec.channels !== undefined) result.codec.channels = requireInt(codec.channels, 'input.codec.channels', 1, 8);
  if (input.rtcp !== undefined) {
    const rtcp = requireObject(input.rtcp, 'input.rtcp');
    result.rtcp = {
      ip: requireString(rtcp.ip, 'input.rtcp.ip', IP_PATTERN),
      port: requireInt(rtcp.port, 'input.rtcp.port', 1, 65535),
    };
  }
  return result;
}

/** Validates a parent → child request, params included. */
export function parseParentMessage(raw: unknown): ParentMessage {
  const message = requireObject(raw, 'message');
  const id = requireInt(message.id, 'id', 0, Number.MAX_SAFE_INTEGER);
  const method = requireOneOf(message.method, 'method', ['start', 'addInput', 'removeInput', 'setInputPaused', 'setLayout', 'stop'] as const);
  const params = requireObject(message.params, 'params');
  switch (method) {
    case 'start':
      // Validated once, by RecorderProcess.spawn, before this process was forked for it.
      return { id, method, params: { job: requireObject(params.job, 'job') as unknown as RecorderJob } };
    case 'addInput':
      return { id, method, params: { input: validateInput(params.input) } };
    case 'removeInput':
      return { id, method, params: { inputId: requireString(params.inputId, 'inputId', SAFE_NAME) } };
    case 'setInputPaused':
      if (typeof params.paused !== 'boolean') throw new TypeError('paused must be a boolean');
      return { id, method, params: { inputId: requireString(params.inputId, 'inputId', SAFE_NAME), paused: params.paused } };
    case 'setLayout': {
      const result: RequestMap['setLayout'][0] = { layout: requireOneOf(params.layout, 'layout', MIXED_VIDEO_LAYOUTS) };
      if (params.maxResolutionUid !== undefined) result.maxResolutionUid = requireString(params.maxResolutionUid, 'maxResolutionUid');
      return { id, method, params: result };
    }
    case 'stop':
      return { id, method, params: { deadlineMs: requireInt(params.deadlineMs, 'deadlineMs', 0, 3_600_000) } };
  }
}

/** Light validation of child → parent messages: the shape the parent relies on. */
export function parseChildMessage(raw: unknown): ChildMessage {
  const message = requireObject(raw, 'message');
  if (message.type === 'response') {
    requireInt(message.id, 'id', 0, Number.MAX_SAFE_INTEGER);
    if (message.ok === true) return message as unknown as ChildMessage;
    const error = requireObject(message.error, 'error');
    requireString(error.code, 'error.code');
    return message as unknown as ChildMessage;
  }
  if (message.type === 'event') {
    requireOneOf(message.event, 'event', ['ready', 'firstFrame', 'error'] as const);
    requireObject(message.data, 'data');
    return message as unknown as ChildMessage;
  }
  throw new TypeError('message.type must be response or event');
}
