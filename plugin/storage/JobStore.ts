import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Logger } from '../../server/logger';
import { isTempFile, writeFileAtomic } from './atomicFile';
import type { UploadJobRecord } from './UploadJob';

const logger = new Logger('JobStore');
const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The durable upload queue: one JSON file per job in <stateDir>/jobs, each written atomically (temp +
 * fsync + rename), so a crash leaves every job either at its previous state or its new one.
 */
export class JobStore {
  readonly #dir: string;
  /** Writes to one job are chained so an older state can never be renamed over a newer one. */
  readonly #pending = new Map<string, Promise<void>>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(stateDir: string): Promise<JobStore> {
    const dir = path.join(stateDir, 'jobs');
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    return new JobStore(dir);
  }

  #file(id: string): string {
    if (!JOB_ID.test(id)) throw new TypeError('invalid job id');
    return path.join(this.#dir, `${id}.json`);
  }

  #chain(id: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#pending.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#pending.set(id, next);
    const cleanup = (): void => {
      if (this.#pending.get(id) === next) this.#pending.delete(id);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  save(record: UploadJobRecord): Promise<void> {
    const file = this.#file(record.id);
    const json = JSON.stringify(record);
    return this.#chain(record.id, () => writeFileAtomic(file, json, 0o600));
  }

  remove(id: string): Promise<void> {
    const file = this.#file(id);
    return this.#chain(id, () => fsp.rm(file, { force: true }));
  }

  /** Every stored job; unreadable files are moved aside (never deleted: they may be a user's only trace of a recording). */
  async loadAll(): Promise<UploadJobRecord[]> {
    const records: UploadJobRecord[] = [];
    for (const name of (await fsp.readdir(this.#dir)).sort()) {
      const file = path.join(this.#dir, name);
      if (isTempFile(name)) {
        await fsp.rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const record = JSON.parse(await fsp.readFile(file, 'utf8')) as UploadJobRecord;
        if (record.format !== 1 || record.id !== name.slice(0, -'.json'.length) || !JOB_ID.test(record.id)) {
          throw new Error('not a job record');
        }
        records.push(record);
      } catch (error) {
        logger.error(`loadAll() | unreadable job file moved aside [file:${name}]: ${String((error as Error).message)}`);
        await fsp.rename(file, `${file}.corrupt`).catch(() => undefined);
      }
    }
    return records;
  }
}
