import { registerSecret } from '../../server/logger';
import type { StorageTarget } from '../../signaling/recordParam';

/** Registers a target's secret with the log masker (must happen before anything about the target is logged). */
export function registerTargetSecrets(target: StorageTarget | undefined): void {
  if (!target) return;
  registerSecret(target.secretKey);
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
