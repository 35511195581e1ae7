import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CodedError } from '../../signaling/errors';
import { Logger } from '../../server/logger';
import type { Uploader, UploadProgressListener, UploadRequest, UploadResult } from './Uploader';
import { StorageError, firstLine } from './StorageError';
import { copyFileAtomic } from './atomicFile';
import { resolveInside } from './resolveInside';

const logger = new Logger('LocalUploader');

export type LocalUploaderOptions = {
  /** The local recordings directory; objects land at <recordingsDir>/<objectKey>. */
  recordingsDir: string;
};

/** The embedded default store: an atomic copy into the recordings directory. */
export class LocalUploader implements Uploader {
  readonly vendor = 'local' as const;
  readonly #recordingsDir: string;

  constructor({ recordingsDir }: LocalUploaderOptions) {
    if (typeof recordingsDir !== 'string' || !path.isAbsolute(recordingsDir)) {
      throw new TypeError('recordingsDir must be an absolute path');
    }
    this.#recordingsDir = recordingsDir;
  }

  async upload(request: UploadRequest, onProgress: UploadProgressListener): Promise<UploadResult> {
    let target: string;
    try {
      await fsp.mkdir(this.#recordingsDir, { recursive: true, mode: 0o750 });
      target = await resolveInside(this.#recordingsDir, request.objectKey, 'objectKey');
    } catch (error) {
      if (error instanceof CodedError) throw StorageError.user(error.message);
      throw StorageError.transient(`cannot prepare ${request.objectKey}: ${firstLine(String(error))}`);
    }
    // The recorder may have written straight into the recordings dir: then the file is already home.
    const source = await fsp.realpath(request.localPath).catch(() => path.resolve(request.localPath));
    if (source === target) {
      onProgress(request.size, request.size);
      return { location: `local:${request.objectKey}` };
    }
    try {
      await copyFileAtomic(source, target, (copied) => onProgress(copied, request.size), request.signal);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message = `copy to recordings dir failed: ${firstLine(String((error as Error).message ?? error))}`;
      logger.warn(`upload() | ${message} [job:${request.jobId}]`);
      // A full or read-only disk will not heal on its own within a retry window.
      if (code === 'ENOSPC' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') throw StorageError.user(message);
      throw StorageError.transient(message);
    }
    return { location: `local:${request.objectKey}` };
  }

  async close(): Promise<void> {
    // Nothing held between uploads.
  }
}
