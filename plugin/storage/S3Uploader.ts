import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Logger, type SecretHold } from '../../server/logger';
import { holdTargetSecret } from './secrets';
import type { StorageTarget } from '../../signaling/recordParam';
import { writeFileAtomic } from './atomicFile';
import { requestLogFields, type Uploader, type UploadProgressListener, type UploadRequest, type UploadResult } from './Uploader';
import { StorageError, firstLine } from './StorageError';

const logger = new Logger('S3Uploader');

export const DEFAULT_S3_PART_SIZE = 8 * 1024 * 1024;

export type S3UploaderOptions = {
  target: StorageTarget;
  /** Where multipart state lives (one JSON per job), so a restarted process continues from the parts already sent. */
  resumeDir: string;
  /** >= 5 MiB (S3's minimum for all parts but the last). Files up to this size go in one PutObject. */
  partSize?: number;
  /** Parts in flight at once; memory use is about queueSize × partSize. */
  queueSize?: number;
  /** Per-request attempts inside the SDK (a lost part is retried without restarting the whole upload). */
  maxAttempts?: number;
  requestTimeoutMs?: number;
};

// Error names S3 (and S3-compatible stores) use for refusals a retry cannot fix.
const USER_ERROR_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'NoSuchBucket',
  'InvalidBucketName',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'InvalidToken',
  'ExpiredToken',
  'AccountProblem',
  'EntityTooLarge',
]);

/** What a multipart upload has had acknowledged so far; valid only for the same object, size and part size. */
type ResumeState = {
  version: 1;
  bucket: string;
  objectKey: string;
  size: number;
  partSize: number;
  uploadId: string;
  parts: Array<{ PartNumber: number; ETag: string }>;
  /** Resumed attempts in a row that the store answered with an error before taking a single part. */
  refusedResumes?: number;
};

/**
 * Real S3 answers an upload id it forgot with NoSuchUpload; S3-compatible stores may answer 500
 * (s3rver does). After this many resumed attempts refused outright, the upload starts over. Network
 * failures (no answer at all) never count: an outage must not cost the parts already stored.
 */
const MAX_REFUSED_RESUMES = 3;

/**
 * AWS S3 and S3-compatible stores via client-s3. Large files go up as a multipart upload driven here
 * rather than by lib-storage, which cannot resume across processes: the upload id and every
 * acknowledged part's ETag are kept in `resumeDir`, so an upload interrupted by a restart sends only
 * the parts the store has not acknowledged. Parts are not aborted on failure for the same reason; a
 * store that forgot the upload (NoSuchUpload: expired, aborted) makes the next attempt start over.
 * Checksums are WHEN_REQUIRED: since 3.729 the SDK otherwise frames streamed bodies as aws-chunked,
 * which S3-compatible servers (s3rver among them) store verbatim — corrupted. Path-style addressing
 * when an endpoint is given.
 *
 * An existing key is never overwritten: PutObject and CompleteMultipartUpload carry `If-None-Match: *`
 * (S3's conditional write, 412 when the key exists), and since S3-compatible stores may ignore that
 * header (s3rver 3.7.1 does) a HeadObject looks first. Each object carries its upload job's id as
 * metadata, so a retry after a write whose answer was lost recognises its own object and succeeds.
 */
export class S3Uploader implements Uploader {
  readonly vendor = 's3' as const;
  readonly #bucket: string;
  readonly #client: S3Client;
  readonly #resumeDir: string;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #secretHold: SecretHold;
  #closed = false;

  constructor(options: S3UploaderOptions) {
    const { target, resumeDir, partSize = DEFAULT_S3_PART_SIZE, queueSize = 2, maxAttempts = 3, requestTimeoutMs = 120_000 } = options;
    if (target.vendor !== 's3' || !target.bucket || !target.accessKey || !target.secretKey || !target.region) {
      throw new TypeError('target must be a validated s3 target');
    }
    if (!Number.isInteger(partSize) || partSize < 5 * 1024 * 1024) throw new TypeError('partSize must be an integer >= 5 MiB');
    if (!Number.isInteger(queueSize) || queueSize < 1) throw new TypeError('queueSize must be an integer >= 1');
    this.#secretHold = holdTargetSecret(target);
    this.#bucket = target.bucket;
    this.#resumeDir = resumeDir;
    this.#partSize = partSize;
    this.#queueSize = queueSize;
    this.#client = new S3Client({
      region: target.region,
      credentials: { accessKeyId: target.accessKey, secretAccessKey: target.secretKey },
      ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts,
      requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: Math.min(requestTimeoutMs, 30_000) },
    });
  }

  resumeFileFor(jobId: string): string {
    return path.join(this.#resumeDir, `${jobId}.json`);
  }

  async upload(request: UploadRequest, onProgress: UploadProgressListener): Promise<UploadResult> {
    if (this.#closed) throw StorageError.transient('uploader closed');
    if (request.signal?.aborted) throw StorageError.transient('upload aborted');
    try {
      // Stores that ignore If-None-Match (s3rver does) are only protected by looking first.
      if ((await this.#existing(request)) === 'ours') {
        onProgress(request.size, request.size);
        return { location: `s3:${this.#bucket}/${request.objectKey}` };
      }
      if (request.size <= this.#partSize) await this.#putObject(request);
      else await this.#multipart(request, onProgress);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      if (request.signal?.aborted) throw StorageError.transient('upload aborted');
      if (isPreconditionFailed(error)) {
        // The key exists: ours if an earlier attempt of this job stored it and lost the answer.
        if ((await this.#existing(request)) === 'ours') {
          onProgress(request.size, request.size);
          return { location: `s3:${this.#bucket}/${request.objectKey}` };
        }
        throw keyExists(request.objectKey, 412);
      }
      if ((error as { name?: string }).name === 'NoSuchUpload') {
        await fsp.rm(this.resumeFileFor(request.jobId), { force: true });
        throw StorageError.transient(`S3 NoSuchUpload: the store forgot the multipart upload; starting over`);
      }
      throw classifyS3Error(error);
    }
    onProgress(request.size, request.size);
    return { location: `s3:${this.#bucket}/${request.objectKey}` };
  }

  /**
   * 'absent', or 'ours' when the key holds what an earlier attempt of this same job stored (its job
   * id in the metadata, same size); throws the conflict when it holds anything else. A store that
   * will not tell (403 without s3:GetObject, network trouble) gives 'unknown': the conditional write
   * decides then.
   */
  async #existing(request: UploadRequest): Promise<'absent' | 'ours' | 'unknown'> {
    let head;
    try {
      head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: request.objectKey }), { abortSignal: request.signal });
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as { name?: string }).name === 'NotFound') return 'absent';
      logger.debug(`existing() | HeadObject answered ${status ?? (error as Error).message}: relying on If-None-Match`, requestLogFields(request));
      return 'unknown';
    }
    if (head.Metadata?.[JOB_METADATA] === request.jobId && head.ContentLength === request.size) {
      logger.info(`upload() | ${request.objectKey} is already stored by an earlier attempt of this job`, requestLogFields(request));
      return 'ours';
    }
    throw keyExists(request.objectKey);
  }

  async #putObject(request: UploadRequest): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.#bucket,
      Key: request.objectKey,
      Body: fs.createReadStream(request.localPath),
      ContentLength: request.size,
      IfNoneMatch: '*',
      Metadata: { [JOB_METADATA]: request.jobId },
    });
    await this.#client.send(command, { abortSignal: request.signal });
  }

  async #multipart(request: UploadRequest, onProgress: UploadProgressListener): Promise<void> {
    const resumed = await this.#loadState(request);
    const state = resumed ?? (await this.#createUpload(request));
    const storedBefore = state.parts.length;
    try {
      await this.#sendParts(request, state, onProgress);
    } catch (error) {
      const answeredByStore = typeof (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 'number';
      if (resumed && answeredByStore && state.parts.length === storedBefore) {
        state.refusedResumes = (state.refusedResumes ?? 0) + 1;
        if (state.refusedResumes >= MAX_REFUSED_RESUMES) {
          logger.warn(`upload() | the store refused upload ${state.uploadId} ${state.refusedResumes} times: starting over`, requestLogFields(request));
          await fsp.rm(this.resumeFileFor(request.jobId), { force: true });
        } else {
          await this.#saveState(request.jobId, state);
        }
      }
      throw error;
    }
    await fsp.rm(this.resumeFileFor(request.jobId), { force: true });
  }

  async #sendParts(request: UploadRequest, state: ResumeState, onProgress: UploadProgressListener): Promise<void> {
    const partCount = Math.ceil(request.size / this.#partSize);
    const done = new Set(state.parts.map((part) => part.PartNumber));
    const pending = Array.from({ length: partCount }, (_, index) => index + 1).filter((partNumber) => !done.has(partNumber));
    const bytesOf = (partNumber: number): number => Math.min(this.#partSize, request.size - (partNumber - 1) * this.#partSize);
    let acknowledged = [...done].reduce((sum, partNumber) => sum + bytesOf(partNumber), 0);
    if (done.size > 0) logger.info(`upload() | resuming: ${done.size} of ${partCount} parts already stored`, requestLogFields(request));
    onProgress(acknowledged, request.size);

    // Writes of the state file are chained so each one holds every part acknowledged before it.
    let saved = Promise.resolve();
    const sendNext = async (): Promise<void> => {
      for (let partNumber = pending.shift(); partNumber !== undefined; partNumber = pending.shift()) {
        if (request.signal?.aborted) throw StorageError.transient('upload aborted');
        const body = await readPart(request.localPath, (partNumber - 1) * this.#partSize, bytesOf(partNumber));
        const answer = await this.#client.send(
          new UploadPartCommand({ Bucket: this.#bucket, Key: request.objectKey, UploadId: state.uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }),
          { abortSignal: request.signal },
        );
        if (!answer.ETag) throw StorageError.transient(`S3 answered part ${partNumber} without an ETag`);
        state.parts.push({ PartNumber: partNumber, ETag: answer.ETag });
        state.refusedResumes = 0;
        saved = saved.then(() => this.#saveState(request.jobId, state));
        await saved;
        acknowledged += body.length;
        onProgress(acknowledged, request.size);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#queueSize, pending.length) }, () => sendNext()));
    const parts = [...state.parts].sort((a, b) => a.PartNumber - b.PartNumber);
    await this.#client.send(
      new CompleteMultipartUploadCommand({ Bucket: this.#bucket, Key: request.objectKey, UploadId: state.uploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }),
      { abortSignal: request.signal },
    );
  }

  async #createUpload(request: UploadRequest): Promise<ResumeState> {
    const answer = await this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: request.objectKey, Metadata: { [JOB_METADATA]: request.jobId } }), { abortSignal: request.signal });
    if (!answer.UploadId) throw StorageError.transient('S3 answered CreateMultipartUpload without an UploadId');
    const state: ResumeState = { version: 1, bucket: this.#bucket, objectKey: request.objectKey, size: request.size, partSize: this.#partSize, uploadId: answer.UploadId, parts: [] };
    await this.#saveState(request.jobId, state);
    return state;
  }

  /** The saved state if it describes this very upload; a stale one is dropped (and its parts aborted). */
  async #loadState(request: UploadRequest): Promise<ResumeState | undefined> {
    const file = this.resumeFileFor(request.jobId);
    let state: ResumeState;
    try {
      state = JSON.parse(await fsp.readFile(file, 'utf8')) as ResumeState;
    } catch {
      return undefined;
    }
    const valid =
      state?.version === 1 &&
      typeof state.uploadId === 'string' &&
      Array.isArray(state.parts) &&
      state.parts.every((part) => Number.isInteger(part?.PartNumber) && typeof part?.ETag === 'string');
    if (valid && state.bucket === this.#bucket && state.objectKey === request.objectKey && state.size === request.size && state.partSize === this.#partSize) return state;
    await fsp.rm(file, { force: true });
    if (valid && state.bucket === this.#bucket) {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: state.bucket, Key: state.objectKey, UploadId: state.uploadId })).catch(() => undefined);
    }
    return undefined;
  }

  async #saveState(jobId: string, state: ResumeState): Promise<void> {
    await fsp.mkdir(this.#resumeDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.resumeFileFor(jobId), JSON.stringify(state));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
    this.#secretHold.release();
  }
}

async function readPart(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    if (bytesRead !== length) throw StorageError.transient(`the local file changed while uploading (read ${bytesRead} of ${length} bytes at ${offset})`);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Object metadata naming the upload job that wrote the object: how a retry recognises its own write. */
const JOB_METADATA = 'confrec-job';

function isPreconditionFailed(error: unknown): boolean {
  const err = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'PreconditionFailed' || err.$metadata?.httpStatusCode === 412;
}

/** Never overwritten: a user error (backup, slow background retries in case the object is removed). */
function keyExists(objectKey: string, status?: number): StorageError {
  return StorageError.user(`S3 already holds ${objectKey} (not written by this upload): refusing to overwrite it`, status);
}

function classifyS3Error(error: unknown): StorageError {
  const err = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? 'Error';
  const message = `S3 ${name}${status ? ` (${status})` : ''}: ${firstLine(err.message ?? String(error))}`;
  logger.debug(`upload() | ${message}`);
  if (USER_ERROR_NAMES.has(name) || status === 401 || status === 403 || status === 404) return StorageError.user(message, status);
  return StorageError.transient(message, status);
}
