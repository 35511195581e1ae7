import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as qiniu from 'qiniu';
import { Logger, type SecretHold } from '../../server/logger';
import { holdTargetSecret } from './secrets';
import type { StorageTarget } from '../../signaling/recordParam';
import type { Uploader, UploadProgressListener, UploadRequest, UploadResult } from './Uploader';
import { StorageError, firstLine } from './StorageError';

const logger = new Logger('QiniuUploader');

/** Files up to this size go in one form upload; larger ones use resumable v2 parts. */
export const DEFAULT_QINIU_FORM_UPLOAD_LIMIT = 4 * 1024 * 1024;
export const DEFAULT_QINIU_PART_SIZE = 4 * 1024 * 1024;

export type QiniuUploaderOptions = {
  target: StorageTarget;
  /** Where resumable-upload state lives (one JSON per job), so a restarted process continues from the parts already sent. */
  resumeDir: string;
  formUploadLimit?: number;
  /** 1 MiB – 1 GiB (Qiniu's limits for v2 parts). */
  partSize?: number;
  /** Lifetime of the upload token minted for each attempt. */
  tokenTtlSeconds?: number;
  /**
   * Per-request timeout (connect and response). The SDK reads it from the process-wide
   * `qiniu.conf.RPC_TIMEOUT` (default 600 s), so setting it here sets it for every Qiniu request in
   * the process; without it a stalled store holds an attempt for ten minutes.
   */
  requestTimeoutMs?: number;
};

export const DEFAULT_QINIU_REQUEST_TIMEOUT_MS = 120_000;

// Statuses Qiniu uses for refusals a retry cannot fix (developer.qiniu.com/kodo/3928/error-responses).
const USER_STATUSES = new Set([400, 401, 403, 404, 413, 614, 631]);
// 612: the uploadId is unknown or expired. The resume state is stale; drop it and start over.
const NO_SUCH_UPLOAD = 612;
const FILE_EXISTS = 614;

/**
 * Qiniu Kodo through the official SDK: form upload for small files, resumable v2 (`putFileV2` with
 * `PutExtra.create()`) for large ones. The SDK resolves HTTP error statuses instead of rejecting, so
 * every response's status is checked here; it has no backoff of its own (the manager retries).
 */
export class QiniuUploader implements Uploader {
  readonly vendor = 'qiniu' as const;
  readonly #bucket: string;
  readonly #mac: qiniu.auth.digest.Mac;
  readonly #config: qiniu.conf.Config;
  readonly #resumeDir: string;
  readonly #formUploadLimit: number;
  readonly #partSize: number;
  readonly #tokenTtlSeconds: number;
  readonly #secretHold: SecretHold;

  constructor(options: QiniuUploaderOptions) {
    const { target, resumeDir, formUploadLimit = DEFAULT_QINIU_FORM_UPLOAD_LIMIT, partSize = DEFAULT_QINIU_PART_SIZE, tokenTtlSeconds = 3600, requestTimeoutMs = DEFAULT_QINIU_REQUEST_TIMEOUT_MS } = options;
    if (target.vendor !== 'qiniu' || !target.bucket || !target.accessKey || !target.secretKey) {
      throw new TypeError('target must be a validated qiniu target');
    }
    if (!Number.isInteger(partSize) || partSize < 1024 * 1024 || partSize > 1024 * 1024 * 1024) {
      throw new TypeError('partSize must be an integer between 1 MiB and 1 GiB');
    }
    if (!(requestTimeoutMs > 0)) throw new TypeError('requestTimeoutMs must be > 0');
    this.#secretHold = holdTargetSecret(target);
    (qiniu.conf as { RPC_TIMEOUT: number }).RPC_TIMEOUT = requestTimeoutMs;
    this.#bucket = target.bucket;
    this.#mac = new qiniu.auth.digest.Mac(target.accessKey, target.secretKey);
    this.#resumeDir = resumeDir;
    this.#formUploadLimit = formUploadLimit;
    this.#partSize = partSize;
    this.#tokenTtlSeconds = tokenTtlSeconds;
    this.#config = new qiniu.conf.Config({ useHttpsDomain: target.endpoint?.startsWith('https:') ?? true });
    if (target.endpoint) {
      // A fixed up host (private deployment, test server): without it the SDK asks Qiniu's region
      // service over the internet which host serves this bucket.
      const url = new URL(target.endpoint);
      this.#config.regionsProvider = new qiniu.httpc.Region({
        services: { up: [new qiniu.httpc.Endpoint(url.host, { defaultScheme: url.protocol.replace(':', '') })] },
      });
    } else if (target.region) {
      this.#config.regionsProvider = qiniu.httpc.Region.fromRegionId(target.region, { preferredScheme: 'https' });
    }
  }

  /**
   * `insertOnly`: an existing key is never overwritten (Qiniu answers 614 "file exists"). Qiniu lets
   * an upload of identical content through, so a retry after an attempt that stored the object but
   * lost the answer still succeeds.
   */
  #uploadToken(objectKey: string): string {
    const policy = new qiniu.rs.PutPolicy({ scope: `${this.#bucket}:${objectKey}`, expires: this.#tokenTtlSeconds, insertOnly: 1 });
    return policy.uploadToken(this.#mac);
  }

  resumeFileFor(jobId: string): string {
    return path.join(this.#resumeDir, `${jobId}.json`);
  }

  async upload(request: UploadRequest, onProgress: UploadProgressListener): Promise<UploadResult> {
    const { signal } = request;
    if (signal?.aborted) throw StorageError.transient('upload aborted');
    const attempt = request.size <= this.#formUploadLimit ? this.#formUpload(request) : this.#resumableUpload(request, onProgress);
    // The SDK cannot cancel a request; on abort we stop waiting (its socket ends with the request).
    const result = signal ? await raceAbort(attempt, signal) : await attempt;
    const { data, resp } = result;
    const status = resp?.statusCode ?? -1;
    if (status === 200 && data && typeof data.hash === 'string') {
      onProgress(request.size, request.size);
      return { location: `qiniu:${this.#bucket}/${request.objectKey}` };
    }
    const reason = typeof data?.error === 'string' ? data.error : 'unexpected response';
    const message = `Qiniu answered ${status}: ${firstLine(reason)}`;
    if (status === NO_SUCH_UPLOAD) {
      await fsp.rm(this.resumeFileFor(request.jobId), { force: true });
      throw StorageError.transient(message, status);
    }
    if (status === FILE_EXISTS) throw StorageError.user(`Qiniu already holds ${request.objectKey} with other content: refusing to overwrite it (614)`, status);
    if (USER_STATUSES.has(status)) throw StorageError.user(message, status);
    throw StorageError.transient(message, status);
  }

  async #formUpload(request: UploadRequest): Promise<{ data: any; resp: { statusCode?: number } }> {
    const uploader = new qiniu.form_up.FormUploader(this.#config);
    const extra = new qiniu.form_up.PutExtra();
    try {
      return await uploader.putFile(this.#uploadToken(request.objectKey), request.objectKey, request.localPath, extra);
    } catch (error) {
      throw networkError(error);
    }
  }

  async #resumableUpload(
    request: UploadRequest,
    onProgress: UploadProgressListener,
  ): Promise<{ data: any; resp: { statusCode?: number } }> {
    await fsp.mkdir(this.#resumeDir, { recursive: true, mode: 0o700 });
    const uploader = new qiniu.resume_up.ResumeUploader(this.#config);
    const extra = qiniu.resume_up.PutExtra.create();
    extra.partSize = this.#partSize;
    // Keyed on the job id, not on the SDK's hash of host+mtime+…: the job id is what survives a restart.
    extra.resumeRecorder = qiniu.resume_up.createResumeRecorderSync(this.#resumeDir);
    extra.resumeKey = `${request.jobId}.json`;
    extra.progressCallback = (uploaded, total) => {
      if (!request.signal?.aborted) onProgress(uploaded, total);
    };
    try {
      return await uploader.putFileV2(this.#uploadToken(request.objectKey), request.objectKey, request.localPath, extra);
    } catch (error) {
      throw networkError(error);
    }
  }

  async close(): Promise<void> {
    // Stateless between uploads; resume files stay for the next attempt.
    this.#secretHold.release();
  }
}

function networkError(error: unknown): StorageError {
  const message = error instanceof Error ? error.message : String(error);
  logger.debug(`upload() | network error: ${firstLine(message)}`);
  return StorageError.transient(`Qiniu request failed: ${firstLine(message)}`);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(StorageError.transient('upload aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
