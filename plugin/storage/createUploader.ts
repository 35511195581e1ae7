import * as path from 'node:path';
import type { StorageTarget } from '../../signaling/recordParam';
import type { Uploader } from './Uploader';
import { LocalUploader } from './LocalUploader';
import { QiniuUploader } from './QiniuUploader';
import { S3Uploader } from './S3Uploader';

/** Tuning shared by every uploader the manager creates (tests shrink part sizes; deployments rarely touch these). */
export type UploaderTuning = {
  qiniu?: { formUploadLimit?: number; partSize?: number; tokenTtlSeconds?: number; requestTimeoutMs?: number };
  s3?: { partSize?: number; queueSize?: number; maxAttempts?: number; requestTimeoutMs?: number };
};

export type UploaderContext = {
  stateDir: string;
  recordingsDir: string;
  tuning?: UploaderTuning;
};

/** Per-job resume state of the uploaders that can continue an upload across restarts, under stateDir. */
export const RESUME_DIRS = { qiniu: 'qiniu-resume', s3: 's3-resume' } as const;

/** The one place that knows which class serves which vendor. */
export function createUploader(target: StorageTarget, context: UploaderContext): Uploader {
  switch (target.vendor) {
    case 'qiniu':
      return new QiniuUploader({ target, resumeDir: path.join(context.stateDir, RESUME_DIRS.qiniu), ...(context.tuning?.qiniu ?? {}) });
    case 's3':
      return new S3Uploader({ target, resumeDir: path.join(context.stateDir, RESUME_DIRS.s3), ...(context.tuning?.s3 ?? {}) });
    case 'local':
      return new LocalUploader({ recordingsDir: context.recordingsDir });
  }
}
