/**
 * RecordingConfig / TranscodingConfig and CloudStorageConfig of the Agora seed: what the HTTP API
 * and the recorder SDK take to start a recording. Structure here; defaults and the checks a JSON
 * Schema cannot say (even sizes, region numbers per vendor) stay in plugin/recording/recordingConfig.ts
 * and plugin/storage/cloudStorageConfig.ts. Browser-safe.
 */
import { Static, Type } from '@sinclair/typebox';
import { AUDIO_PROFILES, CHANNEL_TYPES, MixedVideoLayoutSchema, RECORDING_MODES, STREAM_TYPES } from './common';
import { StringEnum } from './validate';

export const TranscodingConfigSchema = Type.Object(
  {
    width: Type.Optional(Type.Integer({ minimum: 16, maximum: 3840, default: 360, description: 'Even' })),
    height: Type.Optional(Type.Integer({ minimum: 16, maximum: 3840, default: 640, description: 'Even' })),
    fps: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 15 })),
    bitrate: Type.Optional(Type.Integer({ minimum: 16, maximum: 50_000, default: 500, description: 'kbps' })),
    maxResolutionUid: Type.Optional(
      Type.Union([Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.:-]*$' }), Type.Integer({ minimum: 0 })], {
        description: 'The uid shown large (Float, Vertical); 0 or "" for none',
      }),
    ),
    layout: Type.Optional(StringEnum(MixedVideoLayoutSchema.enum as ['Float', 'BestFit', 'Vertical'], { default: 'Float' })),
  },
  { additionalProperties: false },
);

export const RecordingConfigSchema = Type.Object(
  {
    recordingStreamTypes: Type.Optional(StringEnum(STREAM_TYPES, { default: 'AudioVideo' })),
    decryptionMode: Type.Optional(StringEnum(['None', 'Aes128Xts', 'Aes128Ecb', 'Aes256Xts'] as const, { default: 'None', description: 'Only None is supported' })),
    secret: Type.Optional(Type.String({ maxLength: 1024, writeOnly: true, description: 'Decryption secret (unused: media arrives decrypted)' })),
    channelType: Type.Optional(StringEnum(CHANNEL_TYPES, { default: 'Communication' })),
    audioProfile: Type.Optional(StringEnum(AUDIO_PROFILES, { default: 'MusicStandard' })),
    videoStreamType: Type.Optional(StringEnum(['High', 'Low'] as const, { default: 'High' })),
    maxIdleTime: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, default: 30, description: 'Seconds with nobody in the channel before the recording stops itself; 0 → 30' })),
    transcodingConfig: Type.Optional(TranscodingConfigSchema),
    recordingMode: Type.Optional(StringEnum(RECORDING_MODES, { default: 'composite', description: 'composite: one mixed file; individual: one file per stream' })),
  },
  { additionalProperties: false, description: "The Agora seed's RecordingConfig; every field optional with the seed's default" },
);
export type RecordingConfig = Static<typeof RecordingConfigSchema>;
export type TranscodingConfig = Static<typeof TranscodingConfigSchema>;

export const CLOUD_STORAGE_VENDORS = ['Qiniu', 'AWS', 'S3', 'Local'] as const;
const Vendor = (description: string) =>
  Type.Union([StringEnum(CLOUD_STORAGE_VENDORS), Type.Union([Type.Literal(0), Type.Literal(1)], { description: "Agora's numbers: 0 Qiniu, 1 AWS" })], { description });

export const CloudStorageConfigSchema = Type.Object(
  {
    vendor: Type.Optional(Vendor('Where the file goes: Qiniu, AWS (S3), S3 (S3-compatible, needs endpoint) or Local (this server)')),
    vender: Type.Optional(Vendor('The seed spelling of vendor; if both are given they must agree')),
    region: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer({ minimum: 0, description: "Agora's region number of the vendor (README: region table)" })])),
    bucket: Type.Optional(Type.String({ maxLength: 255 })),
    accessKey: Type.Optional(Type.String({ maxLength: 1024 })),
    secretKey: Type.Optional(Type.String({ maxLength: 1024, writeOnly: true })),
    endpoint: Type.Optional(Type.String({ maxLength: 1024, description: 'S3-compatible stores (required for vendor S3), or a private Qiniu up host; must be in recording.allowedStorageEndpoints' })),
  },
  { additionalProperties: false, description: 'Where the file goes; default { "vendor": "Local" }. vendor (or vender) is required. Keys are never shown back.' },
);
export type CloudStorageConfig = Static<typeof CloudStorageConfigSchema>;
