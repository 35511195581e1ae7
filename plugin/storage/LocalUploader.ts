import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { CodedError } from '../../signaling/errors';
import { Logger } from '../../server/logger';
import { requestLogFields, type Uploader, type UploadProgressListener, type UploadRequest, type UploadResult } from './Uploader';
import { StorageError, firstLine } from './StorageError';
import { copyFileAtomic } from './atomicFile';
import { resolveInside } from './resolveInside';

const logger = new Logger('LocalUploader');

export type LocalUploaderOptions = {
  /** The local recordings directory; objects land at <recordingsDir>/<objectKey>. */
  recordingsDir: string;
};

/**
 * The embedded default store: an atomic copy into the recordings directory that never replaces an
 * existing file (a file there with other content is a conflict, reported as a user error).
 */
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
      await copyFileAtomic(source, target, (copied) => onProgress(copied, request.size), request.signal, { exclusive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // Ours when an earlier attempt of this job got the file home and the answer was lost.
        if (await sameContent(source, target)) return { location: `local:${request.objectKey}` };
        throw StorageError.user(`the recordings dir already holds ${request.objectKey} with other content: refusing to overwrite it`);
      }
      const message = `copy to recordings dir failed: ${firstLine(String((error as Error).message ?? error))}`;
      logger.warn(`upload() | ${message}`, requestLogFields(request));
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

async function sameContent(a: string, b: string): Promise<boolean> {
  const [statA, statB] = await Promise.all([fsp.stat(a), fsp.stat(b).catch(() => undefined)]);
  if (!statB?.isFile() || statA.size !== statB.size) return false;
  const [hashA, hashB] = await Promise.all([sha256Of(a), sha256Of(b)]);
  return hashA === hashB;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
