import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { StorageTarget } from '../../signaling/recordParam';
import type { ChannelHandle } from '../PluginHost';
import type { UploadManager } from '../storage/UploadManager';
import type { UploadJobStatus } from '../storage/UploadJob';
import { ChannelRecording, RecordingPhase } from './ChannelRecording';
import type { ResolvedRecordingConfig } from './recordingConfig';
import type { RecorderProcessOptions } from './recorder/RecorderProcess';
import type { RecordedFile } from './recorder/protocol';
import { recordedFilesOnDisk } from './recorder/filesOnDisk';
import { readLeftoverManifests, removeManifest, writeManifest } from './recordingManifest';
import { compactMp4 } from './mp4Compact';

const logger = new Logger('RecordingEngine');

/** The nine observer callbacks of the Agora seed, as events carrying the recording id. */
export type RecordingEngineEvents = {
  connecting: [recordingId: string, channelId: string];
  started: [recordingId: string, channelId: string];
  stopped: [recordingId: string, channelId: string, reason: string];
  recorderFailure: [recordingId: string, code: RecordingErrorCode, message: string];
  uploaded: [recordingId: string, fileName: string];
  backuped: [recordingId: string, fileName: string];
  uploadingProgress: [recordingId: string, progress: number, fileName: string];
  uploaderFailure: [recordingId: string, code: RecordingErrorCode, message: string];
  fatalError: [recordingId: string, channelId: string, code: RecordingErrorCode];
};

export interface StartRecordingRequest {
  channel: ChannelHandle;
  config: ResolvedRecordingConfig;
  target: StorageTarget;
  /** Object key stem from the record param; absent → <channel>/<recordingId>. */
  fileName?: string;
  /** Who started it, for logs and status ('peer:<uid>', 'backend:<uid>'). */
  startedBy: string;
}

export interface RecordingStatus {
  recordingId: string;
  channelId: string;
  phase: RecordingPhase;
  mode: ResolvedRecordingConfig['recordingMode'];
  startedAt: string;
  startedBy: string;
  participants: string[];
  files: Array<{ objectKey: string; kind: RecordedFile['kind']; uid?: string; startOffsetMs: number }>;
  uploads: UploadJobStatus[];
}

export interface RecordingEngineOptions {
  uploads: UploadManager;
  /** Recorders' working files: <workDir>/<recordingId>/. */
  workDir: string;
  maxConcurrentRecordings: number;
  /** Hosts (host or host:port) a storage target's endpoint may name; '*' allows any. */
  allowedStorageEndpoints?: readonly string[];
  recorderIp?: string;
  recorderOptions?: RecorderProcessOptions;
}

interface Entry {
  recording: ChannelRecording;
  workDir: string;
  startedBy: string;
  objectKeys: Map<string, { objectKey: string; file: RecordedFile }>;
  percents: Map<string, number>;
  /** Release(false): files of this recording are queued held (kept in backup, not uploaded). */
  uploadsHeld: boolean;
}

/**
 * Every recording of this server: starts them (one recorder process each), stops them, hands their
 * files to the upload queue and reports all of it as the seed's nine callbacks. Both the in-channel
 * surface (enableRecord) and the backend surface (CloudRecorder, HTTP) drive this one engine.
 */
export class RecordingEngine extends TypedEmitter<RecordingEngineEvents> {
  readonly #options: RecordingEngineOptions;
  readonly #entries = new Map<string, Entry>();
  /** Files between their recorder and the upload queue (compaction, enqueue): close() waits for them. */
  readonly #handOffs = new Set<Promise<void>>();
  #closed = false;

  constructor(options: RecordingEngineOptions) {
    super();
    this.#options = options;
    const { uploads } = options;
    uploads.on('progress', (job, percent) => this.#onUploadProgress(job, percent));
    uploads.on('uploaded', (job, fileName) => this.safeEmit('uploaded', job.recordingId, fileName));
    uploads.on('backuped', (job, fileName) => this.safeEmit('backuped', job.recordingId, fileName));
    uploads.on('uploaderFailure', (job, code, message) => this.safeEmit('uploaderFailure', job.recordingId, code, message));
  }

  get uploads(): UploadManager {
    return this.#options.uploads;
  }

  activeRecording(channelId: string): ChannelRecording | undefined {
    for (const { recording } of this.#entries.values()) {
      if (recording.channel.channelId === channelId && recording.active) return recording;
    }
    return undefined;
  }

  get(recordingId: string): ChannelRecording | undefined {
    return this.#entries.get(recordingId)?.recording;
  }

  activeCount(): number {
    return [...this.#entries.values()].filter((entry) => entry.recording.active).length;
  }

  /** Starts a recording; resolves once the recorder writes the file (the channel is Running). */
  async start(request: StartRecordingRequest): Promise<ChannelRecording> {
    if (this.#closed) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the recording engine is shutting down');
    const { channel } = request;
    if (channel.closed) throw new CodedError(RecordingErrorCode.InvalidOperation, `channel ${channel.channelId} is closed`);
    if (this.activeRecording(channel.channelId)) {
      throw new CodedError(RecordingErrorCode.InvalidOperation, `channel ${channel.channelId} is already being recorded`);
    }
    if (this.activeCount() >= this.#options.maxConcurrentRecordings) {
      throw new CodedError(RecordingErrorCode.InvalidOperation, `this server already runs ${this.#options.maxConcurrentRecordings} recordings, its configured maximum`);
    }
    this.assertTargetAllowed(request.target);
    const recordingId = `rec_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${crypto.randomBytes(4).toString('hex')}`;
    const workDir = path.join(this.#options.workDir, recordingId);
    fs.mkdirSync(workDir, { recursive: true });
    const recording = new ChannelRecording({
      recordingId,
      channel,
      config: structuredClone(request.config),
      workDir,
      fileBaseName: 'recording',
      recorderIp: this.#options.recorderIp ?? '127.0.0.1',
      ...(this.#options.recorderOptions ? { recorderOptions: this.#options.recorderOptions } : {}),
    });
    const entry: Entry = { recording, workDir, startedBy: request.startedBy, objectKeys: new Map(), percents: new Map(), uploadsHeld: false };
    this.#entries.set(recordingId, entry);
    const keyStem = objectKeyStem(request.fileName, channel.channelId, recordingId);
    writeManifest({
      version: 1,
      recordingId,
      channelId: channel.channelId,
      keyStem,
      target: request.target,
      job: { outputDir: workDir, fileBaseName: 'recording', mode: request.config.recordingMode, streamTypes: request.config.recordingStreamTypes },
      startedAt: new Date(recording.startedAt).toISOString(),
    });
    recording.on('started', () => this.safeEmit('started', recordingId, channel.channelId));
    recording.on('recorderFailure', (code, message) => this.safeEmit('recorderFailure', recordingId, code, message));
    recording.on('stopped', (files, reason) => {
      this.safeEmit('stopped', recordingId, channel.channelId, reason);
      this.#handOff(this.#compact(files).then(() => this.#upload(entry, files, keyStem, request.target)));
    });
    recording.on('fatalError', (code, message, files) => {
      logger.error(`[recording:${recordingId}] fatal ${code}: ${message}`);
      this.safeEmit('fatalError', recordingId, channel.channelId, code);
      // What the recorder wrote before it died is still a recording: keep and upload it.
      this.#handOff(this.#upload(entry, files, keyStem, request.target));
    });
    this.safeEmit('connecting', recordingId, channel.channelId);
    logger.info(`start() | [recording:${recordingId}] channel ${channel.channelId} by ${request.startedBy} (${request.config.recordingMode}, ${request.config.recordingStreamTypes})`);
    try {
      await recording.start();
    } catch (error) {
      removeManifest(workDir);
      // Observers heard Connecting: the recording must end in a final callback, not silence. The
      // entry stays (phase failed) so the API shows what became of it.
      const code = error instanceof CodedError ? (error.code as RecordingErrorCode) : RecordingErrorCode.RecorderInitFailed;
      logger.error(`start() | [recording:${recordingId}] failed to start (${code}): ${(error as Error).message}`);
      this.safeEmit('fatalError', recordingId, channel.channelId, code);
      throw error;
    }
    return recording;
  }

  /** Refuses (InvalidParameter) a target whose endpoint this server does not allow. */
  assertTargetAllowed(target: StorageTarget): void {
    if (!target.endpoint) return;
    const allowed = this.#options.allowedStorageEndpoints ?? [];
    let host: string;
    try {
      const url = new URL(target.endpoint.includes('://') ? target.endpoint : `http://${target.endpoint}`);
      host = url.host;
      if (allowed.includes('*') || allowed.includes(host) || allowed.includes(url.hostname)) return;
    } catch {
      throw new CodedError(RecordingErrorCode.InvalidParameter, 'storage.endpoint is not a valid URL');
    }
    throw new CodedError(RecordingErrorCode.InvalidParameter, `storage.endpoint ${host} is not in this server's recording.allowedStorageEndpoints`);
  }

  async stop(recordingId: string, reason = 'stopped'): Promise<RecordedFile[]> {
    const recording = this.get(recordingId);
    if (!recording) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId}`);
    if (!recording.active) throw new CodedError(RecordingErrorCode.InvalidOperation, `recording ${recordingId} is not running`);
    return recording.stop(reason);
  }

  /**
   * Release(false) of the seed, 停止录制与上传: stops the recording if it runs and stops uploading
   * its files — those not yet stored stay in the backup dir (listed, never deleted) until
   * resumeUploads(). Files the stop hands over later are queued held too.
   */
  async release(recordingId: string, reason = 'released by backend'): Promise<void> {
    // A recording of a previous run is known to the upload queue only: its uploads are held all the same.
    const entry = this.#entries.get(recordingId);
    if (entry) entry.uploadsHeld = true;
    if (entry?.recording.active) await entry.recording.stop(reason);
    await this.#options.uploads.hold(recordingId);
    logger.info(`release() | [recording:${recordingId}] released: recording and uploading stopped`);
  }

  /** Uploads again what release() held (also for recordings of a previous run, known only to the queue). */
  async resumeUploads(recordingId: string): Promise<UploadJobStatus[]> {
    const entry = this.#entries.get(recordingId);
    if (entry) entry.uploadsHeld = false;
    return this.#options.uploads.resume(recordingId);
  }

  status(recordingId: string): RecordingStatus | undefined {
    const entry = this.#entries.get(recordingId);
    if (!entry) return undefined;
    const { recording } = entry;
    return {
      recordingId,
      channelId: recording.channel.channelId,
      phase: recording.phase,
      mode: recording.config.recordingMode,
      startedAt: new Date(recording.startedAt).toISOString(),
      startedBy: entry.startedBy,
      participants: recording.participants(),
      files: [...entry.objectKeys.values()].map(({ objectKey, file }) => ({
        objectKey,
        kind: file.kind,
        ...(file.uid ? { uid: file.uid } : {}),
        startOffsetMs: file.startOffsetMs,
      })),
      uploads: this.#options.uploads.list().filter((job) => job.recordingId === recordingId),
    };
  }

  list(): RecordingStatus[] {
    return [...this.#entries.keys()].map((recordingId) => this.status(recordingId)!);
  }

  /** Stops every running recording (their files are finalized and queued for upload). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#entries.values()].filter((entry) => entry.recording.active).map((entry) => entry.recording.stop('server shutting down')));
    // Shutting down with a file still being compacted would leave it to the next start's recovery.
    await Promise.allSettled([...this.#handOffs]);
  }

  #handOff(work: Promise<void>): void {
    const tracked = work.catch((error) => logger.error(`handOff() | a recorded file did not reach the upload queue: ${String(error)}`));
    this.#handOffs.add(tracked);
    void tracked.finally(() => this.#handOffs.delete(tracked));
  }

  async #upload(entry: Entry, files: RecordedFile[], keyStem: string, target: StorageTarget): Promise<void> {
    const recordingId = entry.recording.recordingId;
    if (files.length === 0) {
      this.safeEmit('recorderFailure', recordingId, RecordingErrorCode.NoRecordedData, 'the recorder produced no file');
    }
    await this.#enqueueFiles(recordingId, entry.recording.channel.channelId, files, keyStem, target, (objectKey, file) => entry.objectKeys.set(objectKey, { objectKey, file }), () => entry.uploadsHeld);
    removeManifest(entry.workDir);
  }

  /** Normally finalized MP4s lose their crash-safety padding before upload (see mp4Compact). */
  async #compact(files: RecordedFile[]): Promise<void> {
    for (const file of files) {
      if (!/\.(mp4|m4a)$/.test(file.path)) continue;
      try {
        const result = await compactMp4(file.path);
        if (result.compacted) logger.debug(`compact() | ${path.basename(file.path)} ${result.bytesBefore} → ${result.bytesAfter} bytes`);
      } catch (error) {
        // The file is still valid as it was; only its padding stays.
        logger.warn(`compact() | ${path.basename(file.path)} left as is: ${String(error)}`);
      }
    }
  }

  async #enqueueFiles(
    recordingId: string,
    channelId: string,
    files: RecordedFile[],
    keyStem: string,
    target: StorageTarget,
    onKey: (objectKey: string, file: RecordedFile) => void = () => undefined,
    held: () => boolean = () => false,
  ): Promise<void> {
    const composite = files.length === 1 && files[0]!.kind === 'composite';
    for (const file of files) {
      const name = path.basename(file.path);
      const objectKey = composite ? `${keyStem}${path.extname(name)}` : `${keyStem}/${name}`;
      onKey(objectKey, file);
      try {
        await this.#options.uploads.enqueue({ recordingId, channelId, localPath: file.path, objectKey, target, ...(held() ? { held: true } : {}) });
      } catch (error) {
        const coded = error instanceof CodedError ? error : new CodedError(RecordingErrorCode.UploaderInitFailed, String(error));
        this.safeEmit('uploaderFailure', recordingId, coded.code as RecordingErrorCode, `${objectKey}: ${coded.message}`);
      }
    }
  }

  /**
   * Queues the files of recordings a previous process started but never finished (it died or was
   * killed mid-recording): their manifests say where the files go. Returns how many recordings.
   */
  async recoverInterrupted(): Promise<number> {
    const manifests = readLeftoverManifests(this.#options.workDir);
    for (const manifest of manifests) {
      const files = recordedFilesOnDisk(manifest.job);
      logger.warn(`recoverInterrupted() | [recording:${manifest.recordingId}] interrupted by a server stop: queueing ${files.length} file(s)`);
      await this.#enqueueFiles(manifest.recordingId, manifest.channelId, files, manifest.keyStem, manifest.target);
      removeManifest(manifest.job.outputDir);
    }
    return manifests.length;
  }

  #onUploadProgress(job: UploadJobStatus, percent: number): void {
    const entry = this.#entries.get(job.recordingId);
    if (!entry) {
      this.safeEmit('uploadingProgress', job.recordingId, percent, job.objectKey);
      return;
    }
    entry.percents.set(job.objectKey, percent);
    // One figure per recording, as the seed reports it: the mean over its files.
    const total = [...entry.objectKeys.keys()].reduce((sum, key) => sum + (entry.percents.get(key) ?? 0), 0);
    this.safeEmit('uploadingProgress', job.recordingId, Math.floor(total / Math.max(entry.objectKeys.size, 1)), job.objectKey);
  }
}

/** `dir/name.mp4` → `dir/name_20261122-020304`: a stamp per recording so a name never overwrites another. */
function objectKeyStem(fileName: string | undefined, channelId: string, recordingId: string): string {
  if (!fileName) return `${channelId}/${recordingId}`;
  const extension = path.posix.extname(fileName);
  const stem = extension ? fileName.slice(0, -extension.length) : fileName;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stem}_${stamp}`;
}
