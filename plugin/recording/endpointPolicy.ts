import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { StorageTarget } from '../../signaling/recordParam';

/** Refuses (InvalidParameter) a storage target whose endpoint this server does not allow. */
export type EndpointPolicy = (target: StorageTarget) => void;

/**
 * The recording.allowedStorageEndpoints policy: a target naming an endpoint must name one of
 * `allowed` (host or host:port; '*' allows any), so a record param cannot make this server send
 * files (and their keys) to a host of the sender's choosing. Targets without one use the vendor's.
 */
export function endpointPolicy(allowed: readonly string[]): EndpointPolicy {
  return (target) => {
    if (!target.endpoint) return;
    let host: string;
    try {
      const url = new URL(target.endpoint.includes('://') ? target.endpoint : `http://${target.endpoint}`);
      host = url.host;
      if (allowed.includes('*') || allowed.includes(host) || allowed.includes(url.hostname)) return;
    } catch {
      throw new CodedError(RecordingErrorCode.InvalidParameter, 'storage.endpoint is not a valid URL');
    }
    throw new CodedError(RecordingErrorCode.InvalidParameter, `storage.endpoint ${host} is not in this server's recording.allowedStorageEndpoints`);
  };
}
