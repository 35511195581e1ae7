import fs from 'node:fs';
import path from 'node:path';
import { isId } from '../../../signaling/schemas/common';
import type { RecordingEngine } from '../RecordingEngine';

/** One finished (or finishing) recording file of a channel, as the page lists it. */
export interface RecordingEntry {
  objectKey: string;
  recordingId: string | null;
  /** stored: the file is in the local recordings directory and can be played from this server. */
  state: 'recording' | 'uploading' | 'stored' | 'elsewhere' | 'failed';
  /** Upload percent while uploading. */
  percent: number;
  size: number;
  /** ISO time the file was stored or the recording started. */
  time: string;
  /** Storage vendor the file went to (local, qiniu, s3). */
  vendor: string;
}

const PLAYABLE = /\.(mp4|m4a|webm|mkv|ogg)$/i;
const MAX_SCAN_DEPTH = 4;

/**
 * What a channel has recorded, for the page: the recording engine's view (this process: running
 * recordings, uploads and their states, any storage) merged with the files already in the local
 * recordings directory under `<channel>/` (the default record param's prefix; they outlive
 * restarts). A file can only be served if it is in this list, which is what keeps one channel's
 * token from reading another channel's files.
 */
export class RecordingCatalog {
  readonly #recordingsDir: string;
  readonly #engine: RecordingEngine;

  constructor(options: { recordingsDir: string; engine: RecordingEngine }) {
    this.#recordingsDir = path.resolve(options.recordingsDir);
    this.#engine = options.engine;
  }

  async list(channelId: string): Promise<RecordingEntry[]> {
    if (!isSafeChannelId(channelId)) return [];
    const entries = new Map<string, RecordingEntry>();
    for (const entry of await this.#scan(channelId)) entries.set(entry.objectKey, entry);
    for (const status of this.#engine.list()) {
      if (status.channelId !== channelId) continue;
      if (status.phase !== 'stopped' && status.phase !== 'failed' && status.files.length === 0) {
        entries.set(`(${status.recordingId})`, {
          objectKey: `(${status.recordingId})`,
          recordingId: status.recordingId,
          state: 'recording',
          percent: 0,
          size: 0,
          time: status.startedAt,
          vendor: '',
        });
      }
      for (const upload of status.uploads) {
        const local = upload.target.vendor === 'local';
        const state: RecordingEntry['state'] =
          upload.state === 'uploaded' ? (local ? 'stored' : 'elsewhere') : upload.state === 'failed' ? 'failed' : 'uploading';
        const scanned = entries.get(upload.objectKey);
        entries.set(upload.objectKey, {
          objectKey: upload.objectKey,
          recordingId: status.recordingId,
          // A local file already on disk but whose job is not acknowledged yet is not complete.
          state,
          percent: upload.percent,
          size: scanned?.size ?? upload.size,
          time: scanned?.time ?? upload.createdAt,
          vendor: upload.target.vendor,
        });
      }
    }
    return [...entries.values()].sort((a, b) => b.time.localeCompare(a.time));
  }

  /** The local path of a stored file of this channel, or undefined (not listed, not local, outside the directory). */
  async resolve(channelId: string, objectKey: string): Promise<string | undefined> {
    const entry = (await this.list(channelId)).find((candidate) => candidate.objectKey === objectKey);
    if (!entry || entry.state !== 'stored') return undefined;
    const realRoot = await fs.promises.realpath(this.#recordingsDir).catch(() => undefined);
    if (!realRoot) return undefined;
    const file = await fs.promises.realpath(path.join(realRoot, ...objectKey.split('/'))).catch(() => undefined);
    // Symlinks and '..' resolved: the real file must still lie inside the real recordings directory.
    if (!file || !file.startsWith(realRoot + path.sep)) return undefined;
    return file;
  }

  async #scan(channelId: string): Promise<RecordingEntry[]> {
    const found: RecordingEntry[] = [];
    const walk = async (relative: string, depth: number): Promise<void> => {
      const dirents = await fs.promises.readdir(path.join(this.#recordingsDir, relative), { withFileTypes: true }).catch(() => []);
      for (const dirent of dirents) {
        // Dot files are temp files of atomic writes (.name.xxxx.tmp) or hidden: never listed.
        if (dirent.name.startsWith('.')) continue;
        const key = `${relative}/${dirent.name}`;
        if (dirent.isDirectory() && depth < MAX_SCAN_DEPTH) await walk(key, depth + 1);
        else if (dirent.isFile() && PLAYABLE.test(dirent.name)) {
          const stat = await fs.promises.stat(path.join(this.#recordingsDir, key)).catch(() => undefined);
          if (!stat) continue;
          found.push({ objectKey: key, recordingId: null, state: 'stored', percent: 100, size: stat.size, time: stat.mtime.toISOString(), vendor: 'local' });
        }
      }
    };
    await walk(channelId, 1);
    return found;
  }
}

/** Channel ids are path segments here: '.', '..' (allowed by the signaling pattern) must not be. */
export function isSafeChannelId(channelId: string): boolean {
  return isId(channelId) && !/^\.+$/.test(channelId);
}
