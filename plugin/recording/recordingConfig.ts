import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { MIXED_VIDEO_LAYOUTS, MixedVideoLayout } from './layout';
import type { AudioProfile, RecordingMode, StreamTypes } from './recorder/protocol';

/**
 * RecordingConfig and TranscodingConfig of the Agora seed, in TypeScript idiom, with the seed's
 * defaults. `recordingMode` is ours: 'composite' (the seed's mixed recording) or 'individual'
 * (one file per participant stream, no re-encoding).
 */
export interface TranscodingConfig {
  width?: number;
  height?: number;
  fps?: number;
  /** kbps */
  bitrate?: number;
  maxResolutionUid?: string;
  layout?: MixedVideoLayout;
}

export type DecryptionMode = 'None' | 'Aes128Xts' | 'Aes128Ecb' | 'Aes256Xts';
export type VideoStreamType = 'High' | 'Low';

export interface RecordingConfig {
  recordingStreamTypes?: StreamTypes;
  decryptionMode?: DecryptionMode;
  secret?: string;
  channelType?: 'Communication' | 'Live';
  audioProfile?: AudioProfile;
  videoStreamType?: VideoStreamType;
  /** Seconds with nobody in the channel before the recording stops itself; 0 → 30. */
  maxIdleTime?: number;
  transcodingConfig?: TranscodingConfig;
  recordingMode?: RecordingMode;
}

export type ResolvedRecordingConfig = Required<Omit<RecordingConfig, 'secret' | 'transcodingConfig'>> & {
  transcodingConfig: Required<Omit<TranscodingConfig, 'maxResolutionUid'>> & { maxResolutionUid?: string };
};

export const DEFAULT_MAX_IDLE_TIME_SECONDS = 30;

export const DEFAULT_RECORDING_CONFIG: Readonly<ResolvedRecordingConfig> = Object.freeze({
  recordingStreamTypes: 'AudioVideo',
  decryptionMode: 'None',
  channelType: 'Communication',
  audioProfile: 'MusicStandard',
  videoStreamType: 'High',
  maxIdleTime: DEFAULT_MAX_IDLE_TIME_SECONDS,
  recordingMode: 'composite',
  transcodingConfig: Object.freeze({ width: 360, height: 640, fps: 15, bitrate: 500, layout: 'Float' as MixedVideoLayout }),
});

const FIELDS = new Set(['recordingStreamTypes', 'decryptionMode', 'secret', 'channelType', 'audioProfile', 'videoStreamType', 'maxIdleTime', 'transcodingConfig', 'recordingMode']);
const TRANSCODING_FIELDS = new Set(['width', 'height', 'fps', 'bitrate', 'maxResolutionUid', 'layout']);

function invalid(field: string, reason: string): CodedError {
  return new CodedError(RecordingErrorCode.InvalidParameter, `recordingConfig.${field} ${reason}`);
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(field, `must be an integer between ${min} and ${max}`);
  return value;
}

/** Validates a RecordingConfig from any source and fills the seed's defaults; InvalidParameter names the field. */
export function resolveRecordingConfig(input: unknown): ResolvedRecordingConfig {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new CodedError(RecordingErrorCode.InvalidParameter, 'recordingConfig must be an object');
  const config = input as Record<string, unknown>;
  for (const key of Object.keys(config)) if (!FIELDS.has(key)) throw invalid(key, 'is not a known field');
  const decryptionMode = oneOf(config.decryptionMode, 'decryptionMode', ['None', 'Aes128Xts', 'Aes128Ecb', 'Aes256Xts'] as const, 'None');
  if (decryptionMode !== 'None') {
    throw invalid('decryptionMode', `${decryptionMode} is not supported yet: media arrives decrypted from the SFU; use None`);
  }
  const transcoding = (config.transcodingConfig ?? {}) as Record<string, unknown>;
  if (typeof transcoding !== 'object' || Array.isArray(transcoding)) throw invalid('transcodingConfig', 'must be an object');
  for (const key of Object.keys(transcoding)) if (!TRANSCODING_FIELDS.has(key)) throw invalid(`transcodingConfig.${key}`, 'is not a known field');
  const defaults = DEFAULT_RECORDING_CONFIG.transcodingConfig;
  const maxIdleTime = integer(config.maxIdleTime, 'maxIdleTime', 0, 86_400, DEFAULT_MAX_IDLE_TIME_SECONDS);
  const resolved: ResolvedRecordingConfig = {
    recordingStreamTypes: oneOf(config.recordingStreamTypes, 'recordingStreamTypes', ['AudioVideo', 'AudioOnly', 'VideoOnly'] as const, 'AudioVideo'),
    decryptionMode,
    channelType: oneOf(config.channelType, 'channelType', ['Communication', 'Live'] as const, 'Communication'),
    audioProfile: oneOf(config.audioProfile, 'audioProfile', ['MusicStandard', 'MusicHighQuality', 'MusicHighQualityStereo'] as const, 'MusicStandard'),
    videoStreamType: oneOf(config.videoStreamType, 'videoStreamType', ['High', 'Low'] as const, 'High'),
    maxIdleTime: maxIdleTime === 0 ? DEFAULT_MAX_IDLE_TIME_SECONDS : maxIdleTime,
    recordingMode: oneOf(config.recordingMode, 'recordingMode', ['composite', 'individual'] as const, 'composite'),
    transcodingConfig: {
      // Even sizes: H.264 with 4:2:0 chroma needs them.
      width: evenInteger(transcoding.width, 'transcodingConfig.width', defaults.width),
      height: evenInteger(transcoding.height, 'transcodingConfig.height', defaults.height),
      fps: integer(transcoding.fps, 'transcodingConfig.fps', 1, 60, defaults.fps),
      bitrate: integer(transcoding.bitrate, 'transcodingConfig.bitrate', 16, 50_000, defaults.bitrate),
      layout: oneOf(transcoding.layout, 'transcodingConfig.layout', MIXED_VIDEO_LAYOUTS, defaults.layout),
    },
  };
  if (transcoding.maxResolutionUid !== undefined && transcoding.maxResolutionUid !== 0 && transcoding.maxResolutionUid !== '') {
    const uid = String(transcoding.maxResolutionUid);
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(uid)) throw invalid('transcodingConfig.maxResolutionUid', 'must be a uid');
    resolved.transcodingConfig.maxResolutionUid = uid;
  }
  return resolved;
}

function evenInteger(value: unknown, field: string, fallback: number): number {
  const result = integer(value, field, 16, 3840, fallback);
  if (result % 2 !== 0) throw invalid(field, 'must be even');
  return result;
}
