import type { LogBindings } from '../../server/logger';
import type { StorageVendor } from '../../signaling/recordParam';

/** One object to put into a store. */
export type UploadRequest = {
  /** Stable across restarts; uploaders that can resume key their resume state on it. */
  jobId: string;
  /** The recording the file belongs to, for log lines. */
  recordingId?: string;
  localPath: string;
  objectKey: string;
  size: number;
  /** Aborts the upload (manager closing). Uploaders reject promptly with an AbortError-like error. */
  signal?: AbortSignal;
};

/** What every log line about `request` carries. */
export function requestLogFields(request: UploadRequest): LogBindings {
  return { jobId: request.jobId, recordingId: request.recordingId };
}

/** Bytes the store has accepted so far, of `total`. May be called many times; never after the promise settles. */
export type UploadProgressListener = (uploadedBytes: number, totalBytes: number) => void;

export type UploadResult = {
  /** Where the object now is, for logs and status answers: never contains a secret. */
  location: string;
};

/**
 * One store. `upload()` resolves only once the store has acknowledged the complete object, and rejects
 * with a StorageError classified as 'user' or 'transient'.
 */
export interface Uploader {
  readonly vendor: StorageVendor;
  upload(request: UploadRequest, onProgress: UploadProgressListener): Promise<UploadResult>;
  close(): Promise<void>;
}
