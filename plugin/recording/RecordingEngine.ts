import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Logger, MAX_HELD_SECRETS, tryHoldSecret } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { sanitizeFileName, type StorageTarget } from '../../signaling/recordParam';
import type { ChannelHandle } from '../../server/plugins/contract';
import type { UploadManager } from '../storage/UploadManager';
import type { UploadJobStatus } from '../storage/UploadJob';
import { ChannelRecording, RecordingPhase } from './ChannelRecording';
import type { ResolvedRecordingConfig } from './recordingConfig';
import type { RecorderProcessOptions } from './recorder/RecorderProcess';
import type { RecordedFile } from './recorder/protocol';
import { recordedFilesOnDisk } from './recorder/filesOnDisk';
import { readLeftoverManifests, removeManifest, writeManifest, type RecordingManifest } from './recordingManifest';
import { compactMp4 } from './mp4Compact';
import { RecordingEventLog, type RecordingEventLogOptions } from './RecordingEventLog';

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
  fatalError: [recordingId: string, channelId: string, code: RecordingErrorCode, message?: string];
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
  /**
   * Present (true) for a recording a previous server process never finished (it was killed or
   * crashed): its files were recovered from disk after the restart. Its phase is 'failed', or
   * 'stopped' when it had stopped and only its hand-off to the upload queue was cut short.
   */
  recovered?: true;
  mode: ResolvedRecordingConfig['recordingMode'];
  /** When the recorder started the file: the instant every file's startOffsetMs counts from. */
  startedAt: string;
  startedBy: string;
  /** uids whose streams went to the recorder at any time during the recording. */
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
  /** The engine's event log (durable with a `dir`); created before recovery so recovery's events are in it. */
  eventLog?: RecordingEventLogOptions;
}

/** How long HTTP start answers wait at most for the recorder's first bytes on disk. */
export const FIRST_WRITE_TIMEOUT_MS = 5000;

/** What the engine remembers of one recording, live or recovered after a restart. */
interface Entry {
  recordingId: string;
  channelId: string;
  mode: ResolvedRecordingConfig['recordingMode'];
  /** Absent for a recording recovered from a previous process. */
  recording?: ChannelRecording;
  /** Phase of a recovered recording (it has no ChannelRecording). */
  recoveredPhase?: 'failed' | 'stopped';
  manifest: RecordingManifest;
  startedBy: string;
  participants: Set<string>;
  /** Every file of the recording, keyed by object key, once handed off. */
  objectKeys: Map<string, { objectKey: string; file: RecordedFile }>;
  /** Files whose progress counts (handed to the queue); percent per object key. */
  percents: Map<string, number>;
  /** Last per-recording percentage emitted: progress never goes back. */
  progress: number;
  /** Settles once the files are in the upload queue (or failed to get there). */
  handedOff?: Promise<void>;
  /** Release(false): files of this recording are queued held (kept in backup, not uploaded). */
  uploadsHeld: boolean;
}

/**
 * Every recording of this server: starts them (one recorder process each), stops them, hands their
 * files to the upload queue and reports all of it as the seed's nine callbacks. Both the in-channel
 * surface (enableRecord) and the backend surface (CloudRecorder, HTTP) drive this one engine.
 */
export class RecordingEngine extends TypedEmitter<RecordingEngineEvents> {
  /** Every recording's numbered events (SDK catch-up, webhooks, the events API). */
  readonly eventLog: RecordingEventLog;
  readonly #options: RecordingEngineOptions;
  readonly #entries = new Map<string, Entry>();
  /** Files between their recorder and the upload queue (compaction, enqueue): close() waits for them. */
  readonly #handOffs = new Set<Promise<void>>();
  #closed = false;

  constructor(options: RecordingEngineOptions) {
    super();
    this.#options = options;
    this.eventLog = new RecordingEventLog(this, options.eventLog ?? {});
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
      if (recording?.channel.channelId === channelId && recording.active) return recording;
    }
    return undefined;
  }

  /** The live recording (undefined for unknown ids and for recordings recovered after a restart). */
  get(recordingId: string): ChannelRecording | undefined {
    return this.#entries.get(recordingId)?.recording;
  }

  activeCount(): number {
    return [...this.#entries.values()].filter((entry) => entry.recording?.active).length;
  }

  /** Starts a recording; resolves once the recorder process runs its pipeline (the channel is Running). */
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
    let recordingId: string;
    do recordingId = `rec_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${crypto.randomBytes(4).toString('hex')}`;
    while (this.#entries.has(recordingId));
    const keyStem = objectKeyStem(request.fileName, channel.channelId, recordingId, Date.now());
    // Refused now rather than after the recording: the longest key its files can get must be valid.
    sanitizeFileName(`${keyStem}/recording_in9999.webm`, 'fileName (with the stamp and id the server adds)');
    // The caller is authorised by now: from here the target's secret is in use and masked in every
    // log line, until the files are in the upload queue (whose jobs hold it on) or the start failed.
    const secretHold = tryHoldSecret(request.target.secretKey);
    if (!secretHold) {
      throw new CodedError(RecordingErrorCode.InvalidOperation, `${MAX_HELD_SECRETS} distinct storage secrets are in use by recordings and uploads on this server; start again when some have finished`);
    }
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
    const manifest: RecordingManifest = {
      version: 1,
      recordingId,
      channelId: channel.channelId,
      keyStem,
      target: request.target,
      job: { outputDir: workDir, fileBaseName: 'recording', mode: request.config.recordingMode, streamTypes: request.config.recordingStreamTypes },
      startedAt: new Date(recording.startedAt).toISOString(),
      startedBy: request.startedBy,
      participants: [],
    };
    const entry: Entry = {
      recordingId,
      channelId: channel.channelId,
      mode: request.config.recordingMode,
      recording,
      manifest,
      startedBy: request.startedBy,
      participants: new Set(),
      objectKeys: new Map(),
      percents: new Map(),
      progress: 0,
      uploadsHeld: false,
    };
    this.#entries.set(recordingId, entry);
    writeManifest(manifest);
    recording.on('started', () => this.safeEmit('started', recordingId, channel.channelId));
    recording.on('participantRecorded', (uid) => {
      if (entry.participants.has(uid)) return;
      entry.participants.add(uid);
      this.#updateManifest(entry);
    });
    recording.on('recorderFailure', (code, message) => this.safeEmit('recorderFailure', recordingId, code, message));
    recording.on('stopped', (files, reason) => {
      this.safeEmit('stopped', recordingId, channel.channelId, reason);
      entry.handedOff = this.#handOff(this.#compact(files).then(() => this.#upload(entry, files)).finally(() => secretHold.release()));
    });
    recording.on('fatalError', (code, message, files) => {
      logger.error(`[recording:${recordingId}] fatal ${code}: ${message}`);
      this.safeEmit('fatalError', recordingId, channel.channelId, code, message);
      // What the recorder wrote before it died is still a recording: keep and upload it.
      entry.handedOff = this.#handOff(this.#upload(entry, files).finally(() => secretHold.release()));
    });
    this.safeEmit('connecting', recordingId, channel.channelId);
    logger.info(`start() | [recording:${recordingId}] channel ${channel.channelId} by ${request.startedBy} (${request.config.recordingMode}, ${request.config.recordingStreamTypes})`);
    try {
      await recording.start();
    } catch (error) {
      removeManifest(workDir);
      secretHold.release();
      // Observers heard Connecting: the recording must end in a final callback, not silence. The
      // entry stays (phase failed) so the API shows what became of it.
      const code = error instanceof CodedError ? (error.code as RecordingErrorCode) : RecordingErrorCode.RecorderInitFailed;
      logger.error(`start() | [recording:${recordingId}] failed to start (${code}): ${(error as Error).message}`);
      this.safeEmit('fatalError', recordingId, channel.channelId, code, (error as Error).message);
      throw error;
    }
    // The recorder's clock is the recording's: offsets in its files count from it.
    this.#updateManifest(entry);
    return recording;
  }

  /**
   * Resolves once the recording's recorder has written its first bytes to disk: the composite file,
   * or (per participant) the first stream file; at once for a per-participant recording nobody
   * publishes to, and after `timeoutMs` at most. Streams being wired at the call are wired first, so
   * the answer's participants list them. True when bytes were seen.
   */
  async firstWrite(recordingId: string, timeoutMs = FIRST_WRITE_TIMEOUT_MS): Promise<boolean> {
    const entry = this.#entries.get(recordingId);
    const recording = entry?.recording;
    if (!entry || !recording) return false;
    const deadline = Date.now() + timeoutMs;
    await Promise.race([recording.inputsWired(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    if (entry.mode === 'individual' && entry.participants.size === 0) return false;
    for (;;) {
      if (recordedFilesOnDisk(entry.manifest.job).some((file) => file.kind !== 'metadata')) return true;
      if (!recording.active || Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The manifest follows what a recovery would need: the recorder's start time, who was recorded. */
  #updateManifest(entry: Entry): void {
    if (!entry.recording?.active || entry.handedOff) return;
    entry.manifest.startedAt = new Date(entry.recording.startedAt).toISOString();
    entry.manifest.participants = [...entry.participants];
    try {
      writeManifest(entry.manifest);
    } catch (error) {
      logger.warn(`[recording:${entry.recordingId}] manifest not updated: ${String(error)}`);
    }
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

  /** Stops and finalizes; the files then go to the upload queue (see handedOff()). */
  async stop(recordingId: string, reason = 'stopped'): Promise<RecordedFile[]> {
    const recording = this.get(recordingId);
    if (!this.#entries.has(recordingId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId}`);
    if (!recording?.active) throw new CodedError(RecordingErrorCode.InvalidOperation, `recording ${recordingId} is not running`);
    return recording.stop(reason);
  }

  /**
   * Resolves once a stopped or failed recording's files are in the upload queue (compacted, keyed,
   * enqueued): status() then lists every file and its upload. At once for one still running.
   */
  async handedOff(recordingId: string): Promise<void> {
    await this.#entries.get(recordingId)?.handedOff;
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
    if (entry?.recording?.active) await entry.recording.stop(reason);
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
      channelId: entry.channelId,
      phase: recording?.phase ?? entry.recoveredPhase ?? 'failed',
      ...(recording ? {} : { recovered: true as const }),
      mode: entry.mode,
      startedAt: recording ? new Date(recording.startedAt).toISOString() : entry.manifest.startedAt,
      startedBy: entry.startedBy,
      participants: [...entry.participants],
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
    await Promise.allSettled([...this.#entries.values()].flatMap(({ recording }) => (recording?.active ? [recording.stop('server shutting down')] : [])));
    // Shutting down with a file still being compacted would leave it to the next start's recovery.
    await Promise.allSettled([...this.#handOffs]);
  }

  #handOff(work: Promise<void>): Promise<void> {
    const tracked = work.catch((error) => logger.error(`handOff() | a recorded file did not reach the upload queue: ${String(error)}`));
    this.#handOffs.add(tracked);
    void tracked.finally(() => this.#handOffs.delete(tracked));
    return tracked;
  }

  async #upload(entry: Entry, files: RecordedFile[]): Promise<void> {
    if (files.length === 0) {
      this.safeEmit('recorderFailure', entry.recordingId, RecordingErrorCode.NoRecordedData, 'the recorder produced no file');
    }
    await this.#enqueueFiles(entry, files);
    removeManifest(entry.manifest.job.outputDir);
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

  async #enqueueFiles(entry: Entry, files: RecordedFile[]): Promise<void> {
    const { recordingId, channelId, manifest } = entry;
    const { keyStem, target } = manifest;
    const composite = files.length === 1 && files[0]!.kind === 'composite';
    // Every file is known before the first upload starts, so the recording's progress is a mean
    // over all of them from its first figure on.
    const keyed = files.map((file) => {
      const name = path.basename(file.path);
      const objectKey = composite ? `${keyStem}${path.extname(name)}` : `${keyStem}/${name}`;
      entry.objectKeys.set(objectKey, { objectKey, file });
      entry.percents.set(objectKey, 0);
      return { objectKey, file };
    });
    for (const { objectKey, file } of keyed) {
      try {
        await this.#options.uploads.enqueue({ recordingId, channelId, localPath: file.path, objectKey, target, ...(entry.uploadsHeld ? { held: true } : {}) });
      } catch (error) {
        entry.percents.delete(objectKey);
        const coded = error instanceof CodedError ? error : new CodedError(RecordingErrorCode.UploaderInitFailed, String(error));
        this.safeEmit('uploaderFailure', recordingId, coded.code as RecordingErrorCode, `${objectKey}: ${coded.message}`);
      }
    }
  }

  /**
   * Takes over the recordings a previous process started but never finished (it died or was killed
   * mid-recording): each is listed again (status(), list()) as recovered, its event log gets its
   * final event (fatalError RecorderFailed, unless it had already stopped), and its files, as the
   * recorder left them, are queued for upload under the keys the manifest names. Returns how many.
   */
  async recoverInterrupted(): Promise<number> {
    const manifests = readLeftoverManifests(this.#options.workDir).filter((manifest) => !this.#entries.has(manifest.recordingId));
    for (const manifest of manifests) {
      const { recordingId, channelId } = manifest;
      const files = recordedFilesOnDisk(manifest.job);
      // Killed after the recording had already ended (while its files went to the queue): its end is logged.
      const ended = [...this.eventLog.since(recordingId).entries].reverse().find((entry) => entry.event === 'stopped' || entry.event === 'fatalError');
      const entry: Entry = {
        recordingId,
        channelId,
        mode: manifest.job.mode,
        recoveredPhase: ended?.event === 'stopped' ? 'stopped' : 'failed',
        manifest,
        startedBy: manifest.startedBy ?? 'unknown',
        participants: new Set(manifest.participants ?? []),
        objectKeys: new Map(),
        percents: new Map(),
        progress: 0,
        uploadsHeld: false,
      };
      this.#entries.set(recordingId, entry);
      logger.warn(`recoverInterrupted() | [recording:${recordingId}] interrupted by a server stop: queueing ${files.length} file(s)`);
      if (!ended) {
        this.safeEmit('fatalError', recordingId, channelId, RecordingErrorCode.RecorderFailed, `the server stopped during the recording; ${files.length} file(s) recovered from disk after its restart`);
      }
      entry.handedOff = this.#handOff(this.#upload(entry, files));
      await entry.handedOff;
    }
    return manifests.length;
  }

  #onUploadProgress(job: UploadJobStatus, percent: number): void {
    const entry = this.#entries.get(job.recordingId);
    if (!entry?.percents.has(job.objectKey)) {
      this.safeEmit('uploadingProgress', job.recordingId, percent, job.objectKey);
      return;
    }
    entry.percents.set(job.objectKey, Math.max(percent, entry.percents.get(job.objectKey)!));
    // One figure per recording, as the seed reports it: the mean over all its files, never lower than before.
    const total = [...entry.percents.values()].reduce((sum, value) => sum + value, 0);
    const mean = Math.floor(total / entry.percents.size);
    if (mean <= entry.progress) return;
    entry.progress = mean;
    this.safeEmit('uploadingProgress', job.recordingId, mean, job.objectKey);
  }
}

/**
 * The object key stem of a recording's files. With a fileName: `dir/name.mp4` →
 * `dir/name_20261122-020304_1a2b3c4d` (start stamp, then the recording id's random part): readable,
 * and never the same for two recordings, even started in the same second. Without one:
 * `<channel>/<recordingId>`.
 */
function objectKeyStem(fileName: string | undefined, channelId: string, recordingId: string, startedAt: number): string {
  if (!fileName) return `${channelId}/${recordingId}`;
  const extension = path.posix.extname(fileName);
  const stem = extension ? fileName.slice(0, -extension.length) : fileName;
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const uniquePart = recordingId.slice(recordingId.lastIndexOf('_') + 1);
  return `${stem}_${stamp}_${uniquePart}`;
}
