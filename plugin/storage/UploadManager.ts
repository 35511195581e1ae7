import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { isValidatedStorageTarget, sanitizeFileName, validateStorageTarget, type StorageTarget } from '../../signaling/recordParam';
import { Logger, maskSecrets, registerSecret, type SecretHold } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import type { Uploader, UploadResult } from './Uploader';
import { StorageError, toStorageError, firstLine } from './StorageError';
import { createUploader, RESUME_DIRS, type UploaderTuning } from './createUploader';
import { JobStore } from './JobStore';
import { UploadJob, type UploadJobRecord, type UploadJobStatus } from './UploadJob';
import { copyFileAtomic } from './atomicFile';
import { holdTargetSecret } from './secrets';
import {
  DEFAULT_BACKGROUND_RETRY,
  DEFAULT_RETRY,
  backoffDelay,
  sleep,
  validateRetryOptions,
  type RetryOptions,
} from './backoff';

const logger = new Logger('UploadManager');
const jobLoggers = new WeakMap<UploadJob, Logger>();

/** Lines about one job carry its id and its recording's. */
function logOf(job: UploadJob): Logger {
  let log = jobLoggers.get(job);
  if (!log) jobLoggers.set(job, (log = logger.child({ jobId: job.id, recordingId: job.record.recordingId })));
  return log;
}

export type UploadManagerOptions = {
  /** Durable queue and resume state. Holds storage keys: keep it private to the server (files are 0600). */
  stateDir: string;
  /** Local backup storage: files whose upload failed wait here for the background re-upload. */
  backupDir: string;
  /** Root of the 'local' vendor: objects land at <recordingsDir>/<objectKey>. */
  recordingsDir: string;
  /** Attempts at the primary store before backup. Default 5 attempts, 500 ms doubling to 30 s. */
  retry?: Partial<RetryOptions>;
  /** Cadence of background re-uploads from backup. Default 5 s doubling to 5 min, forever. */
  backgroundRetry?: Partial<Omit<RetryOptions, 'attempts'>>;
  /** Optional second bucket that also receives the file when the primary gives up. */
  backupTarget?: StorageTarget;
  /** Uploads running at once. Default 2. */
  concurrency?: number;
  /** Delete the recorder's file once the primary store acknowledged it. Default false. */
  deleteLocalAfterUpload?: boolean;
  /** Up host for Qiniu targets that name none (private deployments, the test server), e.g. 'http://127.0.0.1:9000'. */
  qiniuUpHost?: string;
  /** Part sizes etc. (tests shrink them). */
  tuning?: UploaderTuning;
  /** Jitter source; tests may pin it. */
  random?: () => number;
};

export type EnqueueRequest = {
  recordingId: string;
  channelId: string;
  /** Absolute path of the finished recording. */
  localPath: string;
  /** Name in the store (bucket key / path under recordingsDir); validated like a record param's fileName. */
  objectKey: string;
  target: StorageTarget;
  /** Queued held (Release(false) came first): copied to backup, not uploaded until resume(). */
  held?: boolean;
};

export type UploadManagerEvents = {
  /** 0..100, monotonic per job; 100 only after the store acknowledged (just before 'uploaded'). */
  progress: [job: UploadJobStatus, percent: number];
  /** The primary store acknowledged the object (Agora's onRecordingUploaded). */
  uploaded: [job: UploadJobStatus, fileName: string];
  /** The file is safe in backup storage (Agora's onRecordingBackuped). */
  backuped: [job: UploadJobStatus, fileName: string];
  /** The primary store gave up (UploaderFailed, UploaderInitFailed) or the backup failed too (BackupFailed). */
  uploaderFailure: [job: UploadJobStatus, code: RecordingErrorCode, message: string];
};

type RunMode = 'primary' | 'background';

const ID_FIELD = /^[\x20-\x7e]{1,256}$/;
/** Finished jobs list() keeps answering for; older ones are forgotten (their outcome was emitted). */
const MAX_FINISHED_JOBS = 100;

/**
 * The upload stage of the recording plugin: a durable queue of uploads, each retried with backoff,
 * sent to backup when the store stays unreachable or refuses, and re-uploaded from backup in the
 * background until the store takes it. Nothing local is deleted before a store acknowledged it.
 */
export class UploadManager extends TypedEmitter<UploadManagerEvents> {
  readonly #store: JobStore;
  readonly #stateDir: string;
  readonly #backupDir: string;
  readonly #recordingsDir: string;
  readonly #retry: RetryOptions;
  readonly #backgroundRetry: Omit<RetryOptions, 'attempts'>;
  readonly #backupTarget: StorageTarget | undefined;
  readonly #concurrency: number;
  readonly #deleteLocalAfterUpload: boolean;
  readonly #qiniuUpHost: string | undefined;
  readonly #tuning: UploaderTuning | undefined;
  readonly #random: () => number;
  readonly #jobs = new Map<string, UploadJob>();
  /** Each unfinished job keeps its target's secret masked until it is stored or given up. */
  readonly #secretHolds = new Map<string, SecretHold>();
  readonly #queue: Array<{ job: UploadJob; mode: RunMode }> = [];
  readonly #running = new Set<Promise<void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #abort = new AbortController();
  #closed = false;

  private constructor(store: JobStore, options: Required<Pick<UploadManagerOptions, 'stateDir' | 'backupDir' | 'recordingsDir'>> & UploadManagerOptions) {
    super();
    this.#store = store;
    this.#stateDir = options.stateDir;
    this.#backupDir = options.backupDir;
    this.#recordingsDir = options.recordingsDir;
    this.#retry = validateRetryOptions(options.retry, DEFAULT_RETRY, 'retry');
    this.#backgroundRetry = validateRetryOptions({ attempts: 1, ...DEFAULT_BACKGROUND_RETRY, ...(options.backgroundRetry ?? {}) }, { attempts: 1, ...DEFAULT_BACKGROUND_RETRY }, 'backgroundRetry');
    this.#backupTarget = options.backupTarget;
    this.#concurrency = options.concurrency ?? 2;
    this.#deleteLocalAfterUpload = options.deleteLocalAfterUpload ?? false;
    this.#qiniuUpHost = options.qiniuUpHost;
    this.#tuning = options.tuning;
    this.#random = options.random ?? Math.random;
  }

  /** Opens the queue in `stateDir` and resumes every upload a previous process left unfinished. */
  static async open(options: UploadManagerOptions): Promise<UploadManager> {
    const { stateDir, backupDir, recordingsDir } = options ?? ({} as UploadManagerOptions);
    for (const [field, value] of Object.entries({ stateDir, backupDir, recordingsDir })) {
      if (typeof value !== 'string' || !path.isAbsolute(value)) throw new TypeError(`${field} must be an absolute path`);
    }
    if (options.concurrency !== undefined && (!Number.isInteger(options.concurrency) || options.concurrency < 1)) {
      throw new TypeError('concurrency must be an integer >= 1');
    }
    const backupTarget = options.backupTarget ? validateStorageTarget(options.backupTarget, 'backupTarget') : undefined;
    registerSecret(backupTarget?.secretKey);
    let qiniuUpHost: string | undefined;
    if (options.qiniuUpHost !== undefined) {
      qiniuUpHost = validateStorageTarget({ vendor: 'qiniu', bucket: 'probe', accessKey: 'probe', secretKey: 'probe', endpoint: options.qiniuUpHost }, 'qiniuUpHost').endpoint;
    }
    await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(backupDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(recordingsDir, { recursive: true, mode: 0o750 });
    const store = await JobStore.open(stateDir);
    const manager = new UploadManager(store, { ...options, backupTarget, qiniuUpHost });
    const records = await store.loadAll();
    for (const record of records) {
      const job = new UploadJob(record);
      manager.#jobs.set(job.id, job);
      manager.#secretHolds.set(job.id, holdTargetSecret(record.target));
    }
    if (records.length > 0) logger.info(`open() | resuming ${records.length} unfinished upload(s)`);
    // Start once the caller has had the chance to attach listeners (it resumes in a microtask; this runs after).
    setImmediate(() => {
      for (const job of manager.#jobs.values()) {
        if (job.record.held) void manager.#park(job);
        else manager.#schedule(job, job.record.phase === 'backedUp' ? 'background' : 'primary');
      }
    });
    return manager;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Validates, persists (before resolving) and queues one upload. */
  async enqueue(request: EnqueueRequest): Promise<UploadJobStatus> {
    if (this.#closed) throw new CodedError(RecordingErrorCode.InvalidOperation, 'upload manager is closed');
    if (typeof request !== 'object' || request === null) throw invalid('request', 'must be an object');
    const { recordingId, channelId, localPath, objectKey: rawKey, target: rawTarget } = request;
    if (typeof recordingId !== 'string' || !ID_FIELD.test(recordingId)) throw invalid('recordingId', 'must be 1-256 printable ASCII characters');
    if (typeof channelId !== 'string' || !ID_FIELD.test(channelId)) throw invalid('channelId', 'must be 1-256 printable ASCII characters');
    const objectKey = sanitizeFileName(rawKey, 'objectKey');
    // A recording's target was validated where it entered (record param, API, SDK): not again here.
    const target = isValidatedStorageTarget(rawTarget) ? rawTarget : validateStorageTarget(rawTarget, 'target');
    if (typeof localPath !== 'string' || !path.isAbsolute(localPath)) throw invalid('localPath', 'must be an absolute path');
    const stat = await fsp.stat(localPath).catch(() => undefined);
    if (!stat?.isFile()) throw invalid('localPath', 'is not a readable file');
    const sha256 = await fileSha256(localPath).catch(() => undefined);
    if (!sha256) throw invalid('localPath', 'is not a readable file');

    const record: UploadJobRecord = {
      format: 1,
      id: randomUUID(),
      recordingId,
      channelId,
      localPath,
      objectKey,
      target,
      size: stat.size,
      sha256,
      createdAt: new Date().toISOString(),
      phase: 'pending',
      ...(request.held ? { held: true as const } : {}),
    };
    await this.#store.save(record);
    // close() may have run while we were writing: the record stays on disk for the next process.
    const job = new UploadJob(record);
    this.#jobs.set(job.id, job);
    this.#secretHolds.set(job.id, holdTargetSecret(target));
    logOf(job).info('enqueue() | queued', { vendor: target.vendor, bucket: target.bucket ?? '-', objectKey, bytes: stat.size });
    if (!this.#closed) {
      if (job.record.held) await this.#park(job);
      else this.#schedule(job, 'primary');
    }
    return job.status();
  }

  /**
   * Release(false) of the seed — stop uploading: every unfinished upload of the recording stops
   * (a running attempt is aborted; S3/Qiniu keep their resume state) and its file waits in the
   * backup dir, never deleted, shown as 'held', until resume(). Persisted: a restart keeps it held.
   */
  async hold(recordingId: string): Promise<UploadJobStatus[]> {
    const jobs = [...this.#jobs.values()].filter((job) => job.record.recordingId === recordingId && !job.finished && !job.record.held);
    for (const job of jobs) {
      job.hold();
      clearTimeout(this.#timers.get(job.id));
      this.#timers.delete(job.id);
      const queued = this.#queue.findIndex((entry) => entry.job === job);
      if (queued >= 0) this.#queue.splice(queued, 1);
      await this.#store.save(job.record).catch((error) => logOf(job).error(`hold() | cannot persist: ${firstLine(String(error))}`));
      logOf(job).info(`hold() | uploading stopped; the file stays in backup`);
    }
    // A running job is parked by its run loop once the aborted attempt returns.
    await Promise.all(jobs.filter((job) => !job.running).map((job) => this.#park(job)));
    return jobs.map((job) => job.status());
  }

  /** Uploads what hold() stopped, from the backup copy (with the usual retries and backup loop). */
  async resume(recordingId: string): Promise<UploadJobStatus[]> {
    if (this.#closed) throw new CodedError(RecordingErrorCode.InvalidOperation, 'upload manager is closed');
    const jobs = [...this.#jobs.values()].filter((job) => job.record.recordingId === recordingId && job.record.held);
    for (const job of jobs) {
      job.release();
      await this.#store.save(job.record).catch((error) => logOf(job).error(`resume() | cannot persist: ${firstLine(String(error))}`));
      logOf(job).info(`resume() | uploading resumed`);
      if (!job.running) this.#schedule(job, 'primary');
    }
    return jobs.map((job) => job.status());
  }

  /** Every job this process knows (unfinished ones from disk included). No secrets. */
  list(): UploadJobStatus[] {
    return [...this.#jobs.values()].map((job) => job.status());
  }

  get(jobId: string): UploadJobStatus | undefined {
    return this.#jobs.get(jobId)?.status();
  }

  /** Stops all work. Unfinished jobs stay on disk and resume in the next open(). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queue.length = 0;
    await Promise.allSettled([...this.#running]);
    for (const hold of this.#secretHolds.values()) hold.release();
    this.#secretHolds.clear();
    logger.debug('close() | closed');
  }

  // ------------------------------------------------------------------------------------------------

  #schedule(job: UploadJob, mode: RunMode): void {
    if (this.#closed || job.finished || job.record.held) return;
    if (mode === 'primary') job.state = 'queued';
    this.#queue.push({ job, mode });
    this.#pump();
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.#concurrency && this.#queue.length > 0) {
      const { job, mode } = this.#queue.shift()!;
      job.running = true;
      const run = (mode === 'primary' ? this.#runPrimary(job) : this.#runBackground(job))
        .then(async () => {
          if (job.record.held && !this.#closed) await this.#park(job);
        })
        .catch((error) => {
          logOf(job).error(`pump() | unexpected: ${firstLine(String(error))}`);
        });
      this.#running.add(run);
      void run.finally(() => {
        job.running = false;
        this.#running.delete(run);
        // resume() during the run: the loop above returned because of the hold; go on now.
        if (!job.record.held && !job.finished && job.state === 'held') this.#schedule(job, 'primary');
        this.#pump();
      });
    }
  }

  /** Attempts with backoff; then backup, failure events and the background loop. */
  async #runPrimary(job: UploadJob): Promise<void> {
    if (!(await this.#checkSource(job))) return;
    let failure: StorageError | undefined;
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      const outcome = await this.#attempt(job, job.record.target);
      if (this.#closed) return;
      if ('result' in outcome) {
        await this.#finish(job, outcome.result);
        return;
      }
      if (job.record.held) return;
      failure = outcome.error;
      if (failure.kind === 'user' || attempt === this.#retry.attempts) break;
      job.state = 'retrying';
      const delay = backoffDelay(attempt, this.#retry, this.#random);
      logOf(job).debug(`runPrimary() | retry ${attempt + 1}/${this.#retry.attempts} in ${delay} ms`);
      try {
        await sleep(delay, AbortSignal.any([this.#abort.signal, job.signal]));
      } catch {
        return; // closing, or held
      }
    }
    const error = failure ?? StorageError.transient('upload failed');
    logOf(job).warn(`runPrimary() | giving up on the primary store after ${job.attempts} attempt(s) (${error.kind} error): ${error.message}`);
    this.safeEmit('uploaderFailure', job.status(), error.code as RecordingErrorCode, error.message);
    await this.#backup(job);
    if (this.#closed) return;
    this.#scheduleBackground(job);
  }

  /** One re-upload attempt from backup; reschedules itself until the store takes the file. */
  async #runBackground(job: UploadJob): Promise<void> {
    if (!(await this.#checkSource(job))) return;
    if (job.record.phase !== 'backedUp') {
      // The backup itself failed last time; try it again before anything else.
      await this.#backup(job);
      if (this.#closed) return;
    }
    const outcome = await this.#attempt(job, job.record.target);
    if (this.#closed) return;
    if ('result' in outcome) {
      await this.#finish(job, outcome.result);
      return;
    }
    if (job.record.held) return;
    job.state = job.record.phase === 'backedUp' ? 'backedUp' : 'retrying';
    this.#scheduleBackground(job);
  }

  #scheduleBackground(job: UploadJob): void {
    if (this.#closed || job.finished) return;
    job.backgroundAttempts += 1;
    const delay = backoffDelay(job.backgroundAttempts, this.#backgroundRetry, this.#random);
    logOf(job).debug(`scheduleBackground() | re-upload in ${delay} ms`);
    const timer = setTimeout(() => {
      this.#timers.delete(job.id);
      this.#schedule(job, 'background');
    }, delay);
    this.#timers.set(job.id, timer);
  }

  /** False (and the job failed) when there is nothing left to upload. */
  async #checkSource(job: UploadJob): Promise<boolean> {
    const candidates = [job.record.backup?.localPath, job.record.localPath].filter((p): p is string => !!p);
    for (const candidate of candidates) {
      if (await fsp.stat(candidate).then((s) => s.isFile(), () => false)) return true;
    }
    const message = 'the local file and its backup are both gone; nothing to upload';
    logOf(job).error(`checkSource() | ${message}`);
    job.state = 'failed';
    job.record.lastError = { code: RecordingErrorCode.UploaderFailed, kind: 'user', message };
    await this.#store.remove(job.id);
    this.#releaseSecret(job);
    this.#pruneFinished();
    this.safeEmit('uploaderFailure', job.status(), RecordingErrorCode.UploaderFailed, message);
    return false;
  }

  #effectiveTarget(target: StorageTarget): StorageTarget {
    if (target.vendor === 'qiniu' && !target.endpoint && this.#qiniuUpHost) return { ...target, endpoint: this.#qiniuUpHost };
    return target;
  }

  /**
   * One upload of the job's file to `target`. Attempts at the backup bucket (`primary` false) neither
   * move the job's progress nor share its resume state.
   */
  async #attempt(job: UploadJob, target: StorageTarget, primary = true): Promise<{ result: UploadResult } | { error: StorageError }> {
    let uploader: Uploader;
    try {
      uploader = createUploader(this.#effectiveTarget(target), { stateDir: this.#stateDir, recordingsDir: this.#recordingsDir, tuning: this.#tuning });
    } catch (error) {
      const message = `cannot create ${target.vendor} uploader: ${firstLine(String((error as Error).message ?? error))}`;
      return { error: new StorageError(RecordingErrorCode.UploaderInitFailed, 'user', message) };
    }
    if (primary) {
      job.attempts += 1;
      if (job.state !== 'backedUp') job.state = 'uploading';
    }
    try {
      const result = await uploader.upload(
        {
          jobId: primary ? job.id : `${job.id}-backup`,
          recordingId: job.record.recordingId,
          localPath: job.sourcePath,
          objectKey: job.record.objectKey,
          size: job.record.size,
          signal: AbortSignal.any([this.#abort.signal, job.signal]),
        },
        primary ? (uploaded, total) => this.#onProgress(job, uploaded, total) : () => undefined,
      );
      return { result };
    } catch (error) {
      const storageError = toStorageError(error);
      if (!this.#closed && primary && !job.record.held) {
        logOf(job).warn(`attempt() | attempt ${job.attempts} failed (${storageError.kind}): ${storageError.message}`);
        job.record.lastError = {
          code: storageError.code as RecordingErrorCode,
          kind: storageError.kind,
          message: storageError.message,
          ...(storageError.status !== undefined ? { status: storageError.status } : {}),
        };
      }
      return { error: storageError };
    } finally {
      await uploader.close().catch(() => undefined);
    }
  }

  #onProgress(job: UploadJob, uploaded: number, total: number): void {
    if (this.#closed || total <= 0) return;
    // 100 is kept for the acknowledgement: the last part sent is not yet the object stored.
    const percent = Math.min(99, Math.floor((uploaded * 100) / total));
    if (job.raisePercent(percent)) this.safeEmit('progress', job.status(), job.percent);
  }

  /** A held job: its file into backup (if not there yet), then it waits for resume(). */
  async #park(job: UploadJob): Promise<void> {
    if (job.finished || !job.record.held) return;
    job.running = true;
    try {
      await this.#backup(job);
    } finally {
      job.running = false;
    }
    if (this.#closed || job.finished) return;
    if (job.record.held) job.state = 'held';
    else this.#schedule(job, 'primary');
  }

  /** Copies the file to the backup dir (and the optional backup bucket); emits 'backuped' or BackupFailed. */
  async #backup(job: UploadJob): Promise<void> {
    if (job.record.phase === 'backedUp') return;
    job.state = 'backingUp';
    const backup = { ...(job.record.backup ?? {}) };
    const errors: string[] = [];
    if (!backup.localPath) {
      const file = path.join(this.#backupDir, `${job.id}-${path.basename(job.record.objectKey)}`);
      try {
        await copyFileAtomic(job.record.localPath, file, undefined, this.#abort.signal);
        backup.localPath = file;
      } catch (error) {
        errors.push(`local backup failed: ${firstLine(String((error as Error).message ?? error))}`);
      }
    }
    if (this.#closed) return;
    if (this.#backupTarget && !backup.bucketLocation) {
      const outcome = await this.#attempt(job, this.#backupTarget, false);
      if ('result' in outcome) backup.bucketLocation = outcome.result.location;
      else errors.push(`backup bucket failed: ${outcome.error.message}`);
    }
    if (this.#closed) return;
    if (!backup.localPath && !backup.bucketLocation) {
      const message = maskSecrets(errors.join('; '));
      logOf(job).error(`backup() | ${message}`);
      job.state = 'retrying';
      job.record.lastError = { code: RecordingErrorCode.BackupFailed, kind: 'transient', message };
      this.safeEmit('uploaderFailure', job.status(), RecordingErrorCode.BackupFailed, message);
      return;
    }
    job.record.backup = backup;
    job.record.phase = 'backedUp';
    job.state = 'backedUp';
    try {
      await this.#store.save(job.record);
    } catch (error) {
      logOf(job).error(`backup() | cannot persist backup state: ${firstLine(String(error))}`);
    }
    logOf(job).info(`backup() | backed up [local:${backup.localPath ? 'yes' : 'no'}] [bucket:${backup.bucketLocation ?? 'no'}]`);
    this.safeEmit('backuped', job.status(), job.record.objectKey);
  }

  /** The store acknowledged: clean up what only existed to get the file there, then tell everyone. */
  async #finish(job: UploadJob, result: UploadResult): Promise<void> {
    job.location = result.location;
    job.state = 'uploaded';
    if (job.raisePercent(100)) this.safeEmit('progress', job.status(), 100);
    const backupCopy = job.record.backup?.localPath;
    if (backupCopy) await fsp.rm(backupCopy, { force: true }).catch(() => undefined);
    if (this.#deleteLocalAfterUpload && !(await this.#isStoredCopy(job))) {
      await fsp.rm(job.record.localPath, { force: true }).catch(() => undefined);
    }
    for (const resumeDir of Object.values(RESUME_DIRS)) await fsp.rm(path.join(this.#stateDir, resumeDir, `${job.id}.json`), { force: true }).catch(() => undefined);
    await this.#store.remove(job.id);
    logOf(job).info(`finish() | uploaded [to:${result.location}] after ${job.attempts} attempt(s)`);
    this.#releaseSecret(job);
    this.#pruneFinished();
    this.safeEmit('uploaded', job.status(), job.record.objectKey);
  }

  #releaseSecret(job: UploadJob): void {
    this.#secretHolds.get(job.id)?.release();
    this.#secretHolds.delete(job.id);
  }

  #pruneFinished(): void {
    const finished = [...this.#jobs.values()].filter((job) => job.finished);
    // Map iteration is insertion order, so the first ones are the oldest.
    for (const job of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_JOBS))) this.#jobs.delete(job.id);
  }

  /** For the local vendor the recorder's file may already be the stored object; never delete that. */
  async #isStoredCopy(job: UploadJob): Promise<boolean> {
    if (job.record.target.vendor !== 'local') return false;
    const stored = path.resolve(this.#recordingsDir, ...job.record.objectKey.split('/'));
    const [a, b] = await Promise.all([fsp.realpath(stored).catch(() => stored), fsp.realpath(job.record.localPath).catch(() => job.record.localPath)]);
    return a === b;
  }
}

function invalid(field: string, why: string): CodedError {
  return new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${field}: ${why}`);
}

/** The file's SHA-256 (hex), read as a stream. */
function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}
