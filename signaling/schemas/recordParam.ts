/**
 * The payload of a record string (`rp1.<base64url(UTF-8 JSON)>`, see signaling/recordParam.ts): its
 * structure. The vendor rules (bucket names, key alphabets, endpoints) and the file-name rules stay
 * as code after this check. Browser-safe.
 */
import { Static, Type } from '@sinclair/typebox';
import { StringEnum } from './validate';

export const StorageTargetSchema = Type.Object(
  {
    vendor: StringEnum(['qiniu', 's3', 'local'] as const),
    bucket: Type.Optional(Type.String({ description: 'qiniu, s3: required' })),
    region: Type.Optional(Type.String({ description: 's3: required; qiniu: z0, z1, …' })),
    endpoint: Type.Optional(Type.String({ description: 'scheme://host[:port]; must be in recording.allowedStorageEndpoints' })),
    accessKey: Type.Optional(Type.String({ description: 'qiniu, s3: required' })),
    secretKey: Type.Optional(Type.String({ description: 'qiniu, s3: required; never shown back' })),
  },
  { additionalProperties: false, description: 'local: no other field' },
);

export const RecordParamPayloadSchema = Type.Object(
  {
    v: Type.Literal(1),
    video: Type.Boolean({ description: 'false: audio only' }),
    fileName: Type.String({ description: 'Relative "/"-separated object key stem; no empty, "." or hidden segments' }),
    storage: StorageTargetSchema,
  },
  { additionalProperties: false },
);
export type RecordParamPayload = Static<typeof RecordParamPayloadSchema>;
