import type { RecordingErrorCode } from '../../signaling/errors';
import type { StorageTarget } from '../../signaling/recordParam';
import type { FailureKind } from './StorageError';
import { publicTarget, type PublicStorageTarget } from './secrets';

/** What the durable queue stores per job (one JSON file each; contains the target's keys, mode 0600). */
export type UploadJobRecord = {
  format: 1;
  id: string;
  recordingId: string;
  channelId: string;
  localPath: string;
  objectKey: string;
  target: StorageTarget;
  size: number;
  /** Hex SHA-256 of the file as it was queued: what the store must end up holding (absent in records of older versions). */
  sha256?: string;
  createdAt: string;
  /** 'pending': not yet in any store. 'backedUp': safe in backup, waiting for the primary store. */
  phase: 'pending' | 'backedUp';
  backup?: UploadJobBackup;
  lastError?: UploadJobError;
  /** Release(false) of the seed: no upload is attempted until someone resumes it (the file waits in backup). */
  held?: true;
};

export type UploadJobBackup = {
  /** Local copy in the backup dir: the source for re-uploads (absent only if the copy itself failed). */
  localPath?: string;
  /** Set when the optional backup bucket acknowledged the object too. */
  bucketLocation?: string;
};

export type UploadJobError = { code: RecordingErrorCode; kind: FailureKind; message: string; status?: number };

export type UploadJobState =
  | 'queued' // waiting for an upload slot
  | 'uploading' // an attempt at the primary store is running
  | 'retrying' // waiting out a backoff delay before the next attempt
  | 'backingUp' // primary gave up; copying to backup
  | 'backedUp' // safe in backup; the background loop re-uploads to the primary
  | 'held' // uploading stopped by Release(false): kept in backup, never deleted, until resumed
  | 'uploaded' // the primary store acknowledged the object
  | 'failed'; // nothing left to upload (the local file vanished before any store had it)

/** A job as shown to anyone: no keys, no tokens. */
export type UploadJobStatus = {
  id: string;
  recordingId: string;
  channelId: string;
  objectKey: string;
  target: PublicStorageTarget;
  size: number;
  /** Hex SHA-256 of the file as it was queued. */
  sha256?: string;
  state: UploadJobState;
  /** 0..100, monotonic; 100 only once the store has acknowledged the object. */
  percent: number;
  /** Attempts at the primary store made by this process. */
  attempts: number;
  createdAt: string;
  backup?: { localPath?: string; bucketLocation?: string };
  location?: string;
  lastError?: UploadJobError;
};

/** One upload: its durable record plus what only this process knows (state, progress, attempts). */
export class UploadJob {
  readonly record: UploadJobRecord;
  state: UploadJobState;
  attempts = 0;
  /** Re-upload attempts made by the background loop since the backup (drives its backoff). */
  backgroundAttempts = 0;
  location: string | undefined;
  /** True while an attempt or backup of this job runs (the run loop, not hold(), then parks it). */
  running = false;
  #percent = 0;
  #abort = new AbortController();

  constructor(record: UploadJobRecord) {
    this.record = record;
    this.state = record.held ? 'held' : record.phase === 'backedUp' ? 'backedUp' : 'queued';
  }

  /** Aborted when the job is held: cuts its running attempt or backoff wait. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  hold(): void {
    this.record.held = true;
    this.#abort.abort();
  }

  release(): void {
    delete this.record.held;
    this.#abort = new AbortController();
  }

  get id(): string {
    return this.record.id;
  }

  get percent(): number {
    return this.#percent;
  }

  /** Raises the percentage; returns false when `percent` is not above the current one (keeps it monotonic). */
  raisePercent(percent: number): boolean {
    const clamped = Math.max(0, Math.min(100, Math.floor(percent)));
    if (clamped <= this.#percent) return false;
    this.#percent = clamped;
    return true;
  }

  /** Where the next attempt reads from: our backup copy once there is one (nobody else deletes it). */
  get sourcePath(): string {
    return this.record.backup?.localPath ?? this.record.localPath;
  }

  get finished(): boolean {
    return this.state === 'uploaded' || this.state === 'failed';
  }

  status(): UploadJobStatus {
    const { id, recordingId, channelId, objectKey, target, size, sha256, createdAt, backup, lastError } = this.record;
    const status: UploadJobStatus = {
      id,
      recordingId,
      channelId,
      objectKey,
      target: publicTarget(target),
      size,
      ...(sha256 ? { sha256 } : {}),
      state: this.state,
      percent: this.#percent,
      attempts: this.attempts,
      createdAt,
    };
    if (backup) status.backup = { ...backup };
    if (this.location) status.location = this.location;
    if (lastError) status.lastError = { ...lastError };
    return status;
  }
}
