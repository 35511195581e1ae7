import path from 'node:path';
import { Logger } from '../../server/logger';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { RecordingEventBody } from '../../signaling/recordingEvent';
import type { UploadJobStatus } from '../storage/UploadJob';
import type { UploadManager } from '../storage/UploadManager';
import type { RecordedFile } from './recorder/protocol';
import { removeManifest } from './recordingManifest';
import { compactMp4 } from './mp4Compact';
import { objectKeysOf } from './recordingKeys';
import type { RecordingEntry } from './RecordingRegistry';

const logger = new Logger('RecordingDelivery');

export interface RecordingDeliveryOptions {
  uploads: UploadManager;
  /** Where the events of delivery go (the event log). */
  emit(event: RecordingEventBody): void;
  /** The recording an upload belongs to, while memory still holds it (its progress is averaged). */
  entryOf(recordingId: string): RecordingEntry | undefined;
}

/**
 * From a recorder's finished files to the upload queue: MP4 compaction, object key naming, enqueue;
 * then the queue's progress and outcomes as the recording's events (one progress figure per
 * recording, the mean over its files, never going back).
 */
export class RecordingDelivery {
  readonly #options: RecordingDeliveryOptions;
  /** Files between their recorder and the upload queue: idle() waits for them. */
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: RecordingDeliveryOptions) {
    this.#options = options;
    const { uploads, emit } = options;
    uploads.on('progress', (job, percent) => this.#onProgress(job, percent));
    uploads.on('uploaded', (job, fileName) => emit({ type: 'uploaded', recordingId: job.recordingId, fileName }));
    uploads.on('backuped', (job, fileName) => emit({ type: 'backuped', recordingId: job.recordingId, fileName }));
    uploads.on('uploaderFailure', (job, code, message) => emit({ type: 'uploaderFailure', recordingId: job.recordingId, code, message }));
  }

  /**
   * Hands a recording's files to the upload queue (compacted first when `compact`: a normally
   * finalized MP4), then drops its manifest. Never rejects: a file that cannot be queued is an
   * uploaderFailure event.
   */
  deliver(entry: RecordingEntry, files: RecordedFile[], { compact }: { compact: boolean }): Promise<void> {
    const log = logger.child({ recordingId: entry.recordingId, channelId: entry.channelId });
    const work = (compact ? compactAll(log, files) : Promise.resolve())
      .then(() => this.#enqueue(entry, files))
      .then(() => removeManifest(entry.manifest.job.outputDir));
    const tracked = work.catch((error) => log.error(`deliver() | a recorded file did not reach the upload queue: ${String(error)}`));
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return tracked;
  }

  /** Resolves once every delivery under way reached the queue. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async #enqueue(entry: RecordingEntry, files: RecordedFile[]): Promise<void> {
    const { recordingId, channelId, manifest } = entry;
    if (files.length === 0) this.#options.emit({ type: 'recorderFailure', recordingId, code: RecordingErrorCode.NoRecordedData, message: 'the recorder produced no file' });
    // Every file is known before the first upload starts, so the recording's progress is a mean
    // over all of them from its first figure on.
    const keyed = objectKeysOf(manifest.keyStem, files);
    for (const keyedFile of keyed) {
      entry.objectKeys.set(keyedFile.objectKey, keyedFile);
      entry.percents.set(keyedFile.objectKey, 0);
    }
    for (const { objectKey, file } of keyed) {
      try {
        await this.#options.uploads.enqueue({ recordingId, channelId, localPath: file.path, objectKey, target: manifest.target, ...(entry.uploadsHeld ? { held: true } : {}) });
      } catch (error) {
        entry.percents.delete(objectKey);
        const coded = error instanceof CodedError ? error : new CodedError(RecordingErrorCode.UploaderInitFailed, String(error));
        this.#options.emit({ type: 'uploaderFailure', recordingId, code: coded.code as RecordingErrorCode, message: `${objectKey}: ${coded.message}` });
      }
    }
  }

  #onProgress(job: UploadJobStatus, percent: number): void {
    const entry = this.#options.entryOf(job.recordingId);
    if (!entry?.percents.has(job.objectKey)) {
      this.#options.emit({ type: 'uploadingProgress', recordingId: job.recordingId, progress: percent, fileName: job.objectKey });
      return;
    }
    entry.percents.set(job.objectKey, Math.max(percent, entry.percents.get(job.objectKey)!));
    // One figure per recording, as the seed reports it: the mean over all its files, never lower than before.
    const total = [...entry.percents.values()].reduce((sum, value) => sum + value, 0);
    const mean = Math.floor(total / entry.percents.size);
    if (mean <= entry.progress) return;
    entry.progress = mean;
    this.#options.emit({ type: 'uploadingProgress', recordingId: job.recordingId, progress: mean, fileName: job.objectKey });
  }
}

/** Normally finalized MP4s lose their crash-safety padding before upload (see mp4Compact). */
async function compactAll(log: Logger, files: RecordedFile[]): Promise<void> {
  for (const file of files) {
    if (!/\.(mp4|m4a)$/.test(file.path)) continue;
    try {
      const result = await compactMp4(file.path);
      if (result.compacted) log.debug(`compact() | ${path.basename(file.path)} ${result.bytesBefore} → ${result.bytesAfter} bytes`);
    } catch (error) {
      // The file is still valid as it was; only its padding stays.
      log.warn(`compact() | ${path.basename(file.path)} left as is: ${String(error)}`);
    }
  }
}
