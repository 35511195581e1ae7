import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { validateStorageTarget, type StorageTarget } from '../../signaling/recordParam';

/** The Agora seed's storage vendors, plus S3-compatible endpoints and the embedded local directory. */
export type CloudStorageVendor = 'Qiniu' | 'AWS' | 'S3' | 'Local';

/** Agora-style CloudStorageConfig (StartCloudRecording's last argument). */
export type CloudStorageConfig = {
  vendor: CloudStorageVendor;
  region?: string;
  bucket?: string;
  accessKey?: string;
  secretKey?: string;
  /** S3-compatible stores (required for vendor 'S3'), or a private Qiniu up host. */
  endpoint?: string;
};

const VENDOR_MAP: Record<CloudStorageVendor, StorageTarget['vendor']> = { Qiniu: 'qiniu', AWS: 's3', S3: 's3', Local: 'local' };
const FIELDS = ['region', 'bucket', 'accessKey', 'secretKey', 'endpoint'] as const;
const FIELD = 'cloudStorageConfig';

/**
 * Maps a CloudStorageConfig onto a StorageTarget, validated by the same rules as record params
 * (errors name `cloudStorageConfig.<field>`). Its secret is masked once a recording uses it (the
 * engine holds it), not here: this runs before the caller is authorised.
 */
export function cloudStorageConfigToTarget(config: unknown): StorageTarget {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}: must be an object`);
  }
  const raw = config as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'vendor' && !(FIELDS as readonly string[]).includes(key)) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.${key}: unknown field`);
    }
  }
  const vendor = VENDOR_MAP[raw.vendor as CloudStorageVendor];
  if (typeof raw.vendor !== 'string' || !Object.hasOwn(VENDOR_MAP, raw.vendor) || !vendor) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.vendor: must be one of ${Object.keys(VENDOR_MAP).join(', ')}`);
  }
  if (raw.vendor === 'S3' && (typeof raw.endpoint !== 'string' || raw.endpoint === '')) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.endpoint: required for S3-compatible stores (use vendor AWS for Amazon S3)`);
  }
  const candidate: Record<string, unknown> = { vendor };
  for (const key of FIELDS) {
    // Agora configs carry empty strings for fields a vendor does not use; treat them as absent.
    if (raw[key] !== undefined && raw[key] !== '') candidate[key] = raw[key];
  }
  return validateStorageTarget(candidate, FIELD);
}
