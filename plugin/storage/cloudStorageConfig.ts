import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { validateStorageTarget, type StorageTarget } from '../../signaling/recordParam';
import { CloudStorageConfigSchema, type CloudStorageConfig } from '../../signaling/schemas/recordingConfig';
import { checker, SchemaError } from '../../signaling/schemas/validate';
import { AGORA_VENDOR_NUMBERS, AWS_REGION_NUMBERS, QINIU_REGION_NUMBERS } from './agoraRegions';

/** The Agora seed's storage vendors, plus S3-compatible endpoints and the embedded local directory. */
export type CloudStorageVendor = 'Qiniu' | 'AWS' | 'S3' | 'Local';

/**
 * Agora-style CloudStorageConfig (StartCloudRecording's last argument; schema:
 * signaling/schemas/recordingConfig.ts). `vender` is the seed's spelling of `vendor` (either may be
 * given; both only if they agree); vendors may also be Agora's numbers (0 Qiniu, 1 AWS) and `region`
 * Agora's region number of that vendor (see agoraRegions.ts).
 */
export type { CloudStorageConfig } from '../../signaling/schemas/recordingConfig';

const cloudStorageConfigChecker = checker(CloudStorageConfigSchema);
const VENDOR_MAP: Record<CloudStorageVendor, StorageTarget['vendor']> = { Qiniu: 'qiniu', AWS: 's3', S3: 's3', Local: 'local' };
const FIELDS = ['region', 'bucket', 'accessKey', 'secretKey', 'endpoint'] as const;
const FIELD = 'cloudStorageConfig';

/** Checks a CloudStorageConfig from an untyped source against its schema (errors name `cloudStorageConfig.<field>`). */
export function parseCloudStorageConfig(config: unknown): CloudStorageConfig {
  try {
    return cloudStorageConfigChecker.parse(config, FIELD);
  } catch (error) {
    throw error instanceof SchemaError ? new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${error.message}`) : error;
  }
}

/** parseCloudStorageConfig, then cloudStorageTarget: for callers holding an unchecked config (the in-process API). */
export function cloudStorageConfigToTarget(config: unknown): StorageTarget {
  return cloudStorageTarget(parseCloudStorageConfig(config));
}

/**
 * Maps a CloudStorageConfig already checked against its schema onto a StorageTarget, validated by the
 * same rules as record params (errors name `cloudStorageConfig.<field>`). Its secret is masked once a
 * recording uses it (the engine holds it), not here: this runs before the caller is authorised.
 */
export function cloudStorageTarget(raw: CloudStorageConfig): StorageTarget {
  const vendorName = vendorOf(raw);
  const vendor = VENDOR_MAP[vendorName];
  if (vendorName === 'S3' && (typeof raw.endpoint !== 'string' || raw.endpoint === '')) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.endpoint: required for S3-compatible stores (use vendor AWS for Amazon S3)`);
  }
  const candidate: Record<string, unknown> = { vendor };
  for (const key of FIELDS) {
    // Agora configs carry empty strings for fields a vendor does not use; treat them as absent.
    if (raw[key] !== undefined && raw[key] !== '') candidate[key] = raw[key];
  }
  const region = regionName(vendorName, raw.region);
  if (region === undefined) delete candidate.region;
  else candidate.region = region;
  return validateStorageTarget(candidate, FIELD);
}

/** `vendor` or the seed's `vender`, by name or Agora number; both given must name the same vendor. */
function vendorOf(raw: Record<string, unknown>): CloudStorageVendor {
  const given = (['vendor', 'vender'] as const).filter((key) => raw[key] !== undefined);
  if (given.length === 0) throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.vendor: required (or its seed spelling vender)`);
  const names = given.map((key) => {
    const value = raw[key];
    const name = typeof value === 'number' ? AGORA_VENDOR_NUMBERS[value] : value;
    if (typeof name !== 'string' || !Object.hasOwn(VENDOR_MAP, name)) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.${key}: must be one of ${Object.keys(VENDOR_MAP).join(', ')} (or Agora's 0 Qiniu, 1 AWS)`);
    }
    return name as CloudStorageVendor;
  });
  if (names.length === 2 && names[0] !== names[1]) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.vender: says ${names[1]} but vendor says ${names[0]}; give one of them`);
  }
  return names[0]!;
}

/** A region name as given, or Agora's region number of the vendor turned into the name. */
function regionName(vendor: CloudStorageVendor, region: unknown): unknown {
  if (region === undefined || region === '') return undefined;
  if (typeof region !== 'number') return region;
  // The seed's struct always carries a region; 0 on a store without regions is its default, not a choice.
  if (vendor === 'Local' && region === 0) return undefined;
  const table = vendor === 'Qiniu' ? QINIU_REGION_NUMBERS : vendor === 'Local' ? {} : AWS_REGION_NUMBERS;
  const name = Number.isInteger(region) ? table[region] : undefined;
  if (name === undefined) {
    const known = Object.keys(table).join(', ');
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${FIELD}.region: ${region} is not an Agora region number of ${vendor}${known ? ` (known: ${known})` : ''}`);
  }
  return name;
}
