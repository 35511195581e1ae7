import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { RecordingConfigSchema, type RecordingConfig, type TranscodingConfig } from '../../signaling/schemas/recordingConfig';
import { checker, SchemaError } from '../../signaling/schemas/validate';
import type { MixedVideoLayout } from './layout';

/**
 * RecordingConfig and TranscodingConfig of the Agora seed (schema: signaling/schemas/recordingConfig.ts),
 * with the seed's defaults. `recordingMode` is ours: 'composite' (the seed's mixed recording) or
 * 'individual' (one file per participant stream, no re-encoding).
 */
export type { RecordingConfig, TranscodingConfig } from '../../signaling/schemas/recordingConfig';
export type DecryptionMode = NonNullable<RecordingConfig['decryptionMode']>;
export type VideoStreamType = NonNullable<RecordingConfig['videoStreamType']>;

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

const recordingConfigChecker = checker(RecordingConfigSchema);

function invalid(field: string, reason: string): CodedError {
  return new CodedError(RecordingErrorCode.InvalidParameter, `recordingConfig.${field} ${reason}`);
}

/** Checks a RecordingConfig from an untyped source (the in-process API) against its schema; InvalidParameter names the field. */
export function parseRecordingConfig(input: unknown): RecordingConfig {
  try {
    return recordingConfigChecker.parse(input ?? {}, 'recordingConfig');
  } catch (error) {
    throw error instanceof SchemaError ? new CodedError(RecordingErrorCode.InvalidParameter, error.message) : error;
  }
}

/**
 * Fills the seed's defaults into a RecordingConfig already checked against its schema (at the HTTP
 * or SDK entry, or by parseRecordingConfig), and applies what a schema cannot say: even sizes, the
 * supported decryption mode.
 */
export function resolveRecordingConfig(config: RecordingConfig): ResolvedRecordingConfig {
  const decryptionMode = config.decryptionMode ?? 'None';
  if (decryptionMode !== 'None') {
    throw invalid('decryptionMode', `${decryptionMode} is not supported yet: media arrives decrypted from the SFU; use None`);
  }
  const transcoding = config.transcodingConfig ?? {};
  const defaults = DEFAULT_RECORDING_CONFIG.transcodingConfig;
  const maxIdleTime = config.maxIdleTime ?? DEFAULT_MAX_IDLE_TIME_SECONDS;
  const resolved: ResolvedRecordingConfig = {
    recordingStreamTypes: config.recordingStreamTypes ?? 'AudioVideo',
    decryptionMode,
    channelType: config.channelType ?? 'Communication',
    audioProfile: config.audioProfile ?? 'MusicStandard',
    videoStreamType: config.videoStreamType ?? 'High',
    maxIdleTime: maxIdleTime === 0 ? DEFAULT_MAX_IDLE_TIME_SECONDS : maxIdleTime,
    recordingMode: config.recordingMode ?? 'composite',
    transcodingConfig: {
      // Even sizes: H.264 with 4:2:0 chroma needs them.
      width: even(transcoding.width ?? defaults.width, 'transcodingConfig.width'),
      height: even(transcoding.height ?? defaults.height, 'transcodingConfig.height'),
      fps: transcoding.fps ?? defaults.fps,
      bitrate: transcoding.bitrate ?? defaults.bitrate,
      layout: transcoding.layout ?? defaults.layout,
    },
  };
  // The seed's structs carry 0 or "" for "no uid".
  if (transcoding.maxResolutionUid !== undefined && transcoding.maxResolutionUid !== 0 && transcoding.maxResolutionUid !== '') {
    resolved.transcodingConfig.maxResolutionUid = String(transcoding.maxResolutionUid);
  }
  return resolved;
}

function even(value: number, field: string): number {
  if (value % 2 !== 0) throw invalid(field, 'must be even');
  return value;
}
