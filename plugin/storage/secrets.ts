import { holdSecret, type SecretHold } from '../../server/logger';
import type { StorageTarget } from '../../signaling/recordParam';

/**
 * Masks a target's secret in every log line until the hold is released. Taken only for a target in
 * use (an authorised recording, a queued upload, a running uploader), never for one merely received.
 */
export function holdTargetSecret(target: StorageTarget | undefined): SecretHold {
  return holdSecret(target?.secretKey);
}

/** A target as it may be shown: vendor, bucket, region, endpoint — never keys. */
export type PublicStorageTarget = Omit<StorageTarget, 'accessKey' | 'secretKey'>;

export function publicTarget(target: StorageTarget): PublicStorageTarget {
  const { vendor, bucket, region, endpoint } = target;
  const shown: PublicStorageTarget = { vendor };
  if (bucket !== undefined) shown.bucket = bucket;
  if (region !== undefined) shown.region = region;
  if (endpoint !== undefined) shown.endpoint = endpoint;
  return shown;
}
