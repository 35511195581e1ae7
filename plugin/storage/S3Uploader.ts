import * as fs from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Logger, registerSecret } from '../../server/logger';
import type { StorageTarget } from '../../signaling/recordParam';
import type { Uploader, UploadProgressListener, UploadRequest, UploadResult } from './Uploader';
import { StorageError, firstLine } from './StorageError';

const logger = new Logger('S3Uploader');

export const DEFAULT_S3_PART_SIZE = 8 * 1024 * 1024;

export type S3UploaderOptions = {
  target: StorageTarget;
  /** >= 5 MiB (S3's minimum for all parts but the last). */
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

/**
 * AWS S3 and S3-compatible stores via client-s3 + lib-storage multipart. Checksums are WHEN_REQUIRED:
 * since 3.729 the SDK otherwise frames streamed bodies as aws-chunked, which S3-compatible servers
 * (s3rver among them) store verbatim — corrupted. Path-style addressing when an endpoint is given.
 * lib-storage cannot resume across processes: a restarted upload starts again from byte 0.
 */
export class S3Uploader implements Uploader {
  readonly vendor = 's3' as const;
  readonly #bucket: string;
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  #closed = false;

  constructor(options: S3UploaderOptions) {
    const { target, partSize = DEFAULT_S3_PART_SIZE, queueSize = 2, maxAttempts = 3, requestTimeoutMs = 120_000 } = options;
    if (target.vendor !== 's3' || !target.bucket || !target.accessKey || !target.secretKey || !target.region) {
      throw new TypeError('target must be a validated s3 target');
    }
    if (!Number.isInteger(partSize) || partSize < 5 * 1024 * 1024) throw new TypeError('partSize must be an integer >= 5 MiB');
    registerSecret(target.secretKey);
    this.#bucket = target.bucket;
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

  async upload(request: UploadRequest, onProgress: UploadProgressListener): Promise<UploadResult> {
    if (this.#closed) throw StorageError.transient('uploader closed');
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: request.objectKey, Body: fs.createReadStream(request.localPath) },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (progress) => {
      if (typeof progress.loaded === 'number') onProgress(progress.loaded, request.size);
    });
    const onAbort = (): void => {
      upload.abort().catch(() => undefined);
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (error) {
      throw classifyS3Error(error);
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
    onProgress(request.size, request.size);
    return { location: `s3:${this.#bucket}/${request.objectKey}` };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }
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
