import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { maskSecrets } from '../../server/logger';

/**
 * Why an upload failed, as far as retrying is concerned:
 * - 'user': the store refused us for a reason only the user can fix (bad keys, no such bucket, key
 *   outside the token's scope). Retrying at once is pointless; the background loop still retries
 *   slowly, because users do fix their buckets.
 * - 'transient': network errors, timeouts, 5xx. Worth retrying with backoff.
 */
export type FailureKind = 'user' | 'transient';

/** An upload failure with its recording error code, its kind and (when there was one) the store's status. */
export class StorageError extends CodedError {
  readonly kind: FailureKind;
  readonly status: number | undefined;

  constructor(code: RecordingErrorCode, kind: FailureKind, message: string, status?: number) {
    // Masked here as well as in the logger: these messages also travel in events and list() answers.
    super(code, maskSecrets(message));
    this.name = 'StorageError';
    this.kind = kind;
    this.status = status;
  }

  static transient(message: string, status?: number): StorageError {
    return new StorageError(RecordingErrorCode.UploaderFailed, 'transient', message, status);
  }

  static user(message: string, status?: number): StorageError {
    return new StorageError(RecordingErrorCode.UploaderFailed, 'user', message, status);
  }
}

/** Anything thrown by an uploader, as a StorageError (unknown errors count as transient). */
export function toStorageError(error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return StorageError.transient(firstLine(message));
}

/** SDK error messages carry request dumps after the first line; the first line is the useful part. */
export function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}
