/**
 * Building blocks shared by every surface of the schema source: identifiers, error bodies, the
 * enumerations the seeds name. Browser-safe.
 */
import { Type } from '@sinclair/typebox';
import { HttpErrorCode, RecordingErrorCode, SignalingErrorCode } from '../errors';
import { StringEnum } from './validate';

/** Channel ids, uids, transport/producer/consumer ids: what may appear in a path or a log line. */
export const ID_PATTERN = '^[A-Za-z0-9_.:-]+$';
const ID_REGEX = /^[A-Za-z0-9_.:-]{1,64}$/;
/** The same rule as the Id schema, for code that checks an id outside a message (paths, in-process API). */
export const isId = (value: unknown): value is string => typeof value === 'string' && ID_REGEX.test(value);
export const Id = (description?: string) => Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN, ...(description ? { description } : {}) });
export const RecordingId = Type.String({ minLength: 1, maxLength: 128, pattern: ID_PATTERN, description: 'A recording id (rec_…)' });
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Per-recording event number, consecutive from 1' });
export const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601 time (UTC)' });

export const SIGNALING_ERROR_CODES = Object.values(SignalingErrorCode);
export const RECORDING_ERROR_CODES = Object.values(RecordingErrorCode);
export const HTTP_ERROR_CODES = Object.values(HttpErrorCode);
export const SignalingErrorCodeSchema = StringEnum(SIGNALING_ERROR_CODES);
export const RecordingErrorCodeSchema = StringEnum(RECORDING_ERROR_CODES, { description: 'One of the fourteen codes of the Agora Cloud Recording seed' });
export const ErrorCodeSchema = StringEnum([...SIGNALING_ERROR_CODES, ...RECORDING_ERROR_CODES, ...HTTP_ERROR_CODES]);

export const ErrorBody = Type.Object(
  { code: ErrorCodeSchema, message: Type.String({ description: 'Human-readable; validation errors name the field' }) },
  { additionalProperties: false },
);

export const CHANNEL_TYPES = ['Communication', 'Live'] as const;
export const ChannelTypeSchema = StringEnum(CHANNEL_TYPES, { description: 'Communication: whoever may publish does; Live: hosts publish, the audience receives' });
export const RECORD_STATES = ['None', 'Ready', 'Running'] as const;
export const RecordStateSchema = StringEnum(RECORD_STATES, { description: 'None: no record param known; Ready: one is; Running: a recording runs' });
export const ROLES = ['host', 'audience'] as const;
export const RoleSchema = StringEnum(ROLES);
export const MEDIA_KINDS = ['audio', 'video'] as const;
export const MediaKindSchema = StringEnum(MEDIA_KINDS);

/** Composite layouts of the Agora seed's TranscodingConfig (geometry: plugin/recording/layout.ts). */
export const MIXED_VIDEO_LAYOUTS = ['Float', 'BestFit', 'Vertical'] as const;
export const MixedVideoLayoutSchema = StringEnum(MIXED_VIDEO_LAYOUTS);
export const RECORDING_MODES = ['composite', 'individual'] as const;
export const STREAM_TYPES = ['AudioVideo', 'AudioOnly', 'VideoOnly'] as const;
export const AUDIO_PROFILES = ['MusicStandard', 'MusicHighQuality', 'MusicHighQualityStereo'] as const;
export const RECORDING_PHASES = ['starting', 'running', 'stopping', 'stopped', 'failed'] as const;
