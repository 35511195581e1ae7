import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import type { RecordingEventNotification } from '../../signaling/recorder/protocol';
import type { RecordingEngine, RecordingEngineEvents } from './RecordingEngine';

/** The nine callbacks of the Agora seed, by the engine's event names. */
export type RecordingEventName = keyof RecordingEngineEvents;
export const RECORDING_EVENT_NAMES: readonly RecordingEventName[] = [
  'connecting',
  'started',
  'stopped',
  'recorderFailure',
  'uploaded',
  'backuped',
  'uploadingProgress',
  'uploaderFailure',
  'fatalError',
];

/** One event of one recording, numbered 1, 2, 3 … per recording; what the SDK receives. Never carries secrets. */
export type RecordingEventEntry = RecordingEventNotification;

export type RecordingEventLogEvents = {
  /** Every entry, in the order the engine emitted them. */
  appended: [entry: RecordingEventEntry];
};

export interface RecordingEventLogOptions {
  /** Entries kept per recording; older ones are dropped first (a resumer then sees a gap). */
  maxEntriesPerRecording?: number;
  /** Recordings whose logs are kept; the least recently active log is dropped first. */
  maxRecordings?: number;
  /**
   * A directory for one JSON-lines file per recording: the log, and with it the sequence numbers,
   * survive a restart, so an SDK or a webhook receiver catches up on events from before it.
   */
  dir?: string;
}

interface Log {
  entries: RecordingEventEntry[];
  nextSeq: number;
  channelId?: string;
  /** Lines in its file; rewritten with just the kept entries when it reaches twice maxEntries. */
  linesOnDisk: number;
}

const logger = new Logger('RecordingEventLog');

/**
 * A bounded log of every recording's events with per-recording sequence numbers, so a controller
 * that lost its connection (recorder SDK) or its receiver (webhooks) can catch up on exactly what it
 * missed, in order. Fed by the engine; one log per server. In memory, and on disk when given a `dir`.
 */
export class RecordingEventLog extends TypedEmitter<RecordingEventLogEvents> {
  readonly #logs = new Map<string, Log>();
  readonly #maxEntries: number;
  readonly #maxRecordings: number;
  readonly #dir?: string;
  readonly #unsubscribe: Array<() => void> = [];
  #closed = false;

  constructor(engine: RecordingEngine, options: RecordingEventLogOptions = {}) {
    super();
    this.#maxEntries = options.maxEntriesPerRecording ?? 2000;
    this.#maxRecordings = options.maxRecordings ?? 1000;
    if (options.dir) {
      this.#dir = options.dir;
      this.#load(options.dir);
    }
    const listen = <E extends RecordingEventName>(event: E, toEntry: (...args: RecordingEngineEvents[E]) => Omit<RecordingEventEntry, 'seq' | 'at' | 'event'>): void => {
      const listener = (...args: RecordingEngineEvents[E]): void => this.#append(event, toEntry(...args));
      engine.on(event, listener);
      this.#unsubscribe.push(() => engine.off(event, listener));
    };
    listen('connecting', (recordingId, channelId) => ({ recordingId, channelId }));
    listen('started', (recordingId, channelId) => ({ recordingId, channelId }));
    listen('stopped', (recordingId, channelId, reason) => ({ recordingId, channelId, message: reason }));
    listen('recorderFailure', (recordingId, code, message) => ({ recordingId, code, message }));
    listen('uploaded', (recordingId, fileName) => ({ recordingId, fileName }));
    listen('backuped', (recordingId, fileName) => ({ recordingId, fileName }));
    listen('uploadingProgress', (recordingId, progress, fileName) => ({ recordingId, progress, fileName }));
    listen('uploaderFailure', (recordingId, code, message) => ({ recordingId, code, message }));
    listen('fatalError', (recordingId, channelId, code, message) => ({ recordingId, channelId, code, message }));
  }

  has(recordingId: string): boolean {
    return this.#logs.has(recordingId);
  }

  channelOf(recordingId: string): string | undefined {
    return this.#logs.get(recordingId)?.channelId;
  }

  /** Highest sequence number so far (0: none). */
  lastSeq(recordingId: string): number {
    return (this.#logs.get(recordingId)?.nextSeq ?? 1) - 1;
  }

  /**
   * Entries with seq > afterSeq, oldest first. `complete` is false when some of them were already
   * dropped (the log keeps maxEntriesPerRecording) or the recording's log is gone.
   */
  since(recordingId: string, afterSeq = 0): { entries: RecordingEventEntry[]; complete: boolean } {
    const log = this.#logs.get(recordingId);
    if (!log) return { entries: [], complete: false };
    const entries = log.entries.filter((entry) => entry.seq > afterSeq);
    const first = log.entries[0]?.seq ?? log.nextSeq;
    return { entries, complete: first <= afterSeq + 1 };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.removeAllListeners();
  }

  #append(event: RecordingEventName, fields: Omit<RecordingEventEntry, 'seq' | 'at' | 'event'>): void {
    if (this.#closed) return;
    let log = this.#logs.get(fields.recordingId);
    if (log) {
      // Least recently active last: re-insert.
      this.#logs.delete(fields.recordingId);
    } else {
      log = { entries: [], nextSeq: 1, linesOnDisk: 0 };
      while (this.#logs.size >= this.#maxRecordings) this.#forget(this.#logs.keys().next().value!);
    }
    this.#logs.set(fields.recordingId, log);
    if (fields.channelId) log.channelId = fields.channelId;
    const entry: RecordingEventEntry = { ...withoutUndefined(fields), seq: log.nextSeq++, event, at: new Date().toISOString() };
    if (!entry.channelId && log.channelId) entry.channelId = log.channelId;
    log.entries.push(entry);
    if (log.entries.length > this.#maxEntries) log.entries.splice(0, log.entries.length - this.#maxEntries);
    this.#persist(fields.recordingId, log, entry);
    this.safeEmit('appended', entry);
  }

  #fileOf(recordingId: string): string {
    // base64url: any recording id is a safe file name.
    return path.join(this.#dir!, `${Buffer.from(recordingId).toString('base64url')}.jsonl`);
  }

  /** A failing disk costs durability, never the recording: logged and carried on. */
  #persist(recordingId: string, log: Log, entry: RecordingEventEntry): void {
    if (!this.#dir) return;
    const file = this.#fileOf(recordingId);
    try {
      if (log.linesOnDisk + 1 >= 2 * this.#maxEntries) {
        const temp = `${file}.tmp`;
        fs.writeFileSync(temp, log.entries.map((kept) => JSON.stringify(kept) + '\n').join(''), { mode: 0o600 });
        fs.renameSync(temp, file);
        log.linesOnDisk = log.entries.length;
      } else {
        fs.appendFileSync(file, JSON.stringify(entry) + '\n', { mode: 0o600 });
        log.linesOnDisk += 1;
      }
    } catch (error) {
      logger.warn(`persist() | event #${entry.seq} kept in memory only: ${String(error)}`, { recordingId });
    }
  }

  #forget(recordingId: string): void {
    this.#logs.delete(recordingId);
    if (this.#dir) fs.rmSync(this.#fileOf(recordingId), { force: true });
  }

  /** The newest maxRecordings logs, oldest first so the least recently active is dropped first. */
  #load(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => ({ file: path.join(dir, name), mtimeMs: fs.statSync(path.join(dir, name)).mtimeMs }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { file } of files.slice(0, Math.max(0, files.length - this.#maxRecordings))) fs.rmSync(file, { force: true });
    for (const { file } of files.slice(-this.#maxRecordings)) {
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      // A line cut short by a crash is skipped; the rest of the log still counts.
      const entries = lines.flatMap((line) => {
        try {
          const entry = JSON.parse(line) as RecordingEventEntry;
          return typeof entry?.recordingId === 'string' && Number.isInteger(entry.seq) ? [entry] : [];
        } catch {
          return [];
        }
      });
      if (entries.length === 0) continue;
      const recordingId = entries[0]!.recordingId;
      const channelId = entries.find((entry) => entry.channelId)?.channelId;
      const nextSeq = Math.max(...entries.map((entry) => entry.seq)) + 1;
      this.#logs.set(recordingId, { entries: entries.slice(-this.#maxEntries), nextSeq, linesOnDisk: lines.length, ...(channelId ? { channelId } : {}) });
    }
    if (this.#logs.size > 0) logger.info(`load() | event logs of ${this.#logs.size} recording(s) restored from ${dir}`);
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
