import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import type { RecordingEvent, RecordingEventBody } from '../../signaling/recordingEvent';

/** One event of one recording, numbered 1, 2, 3 … per recording. Never carries secrets. */
export type RecordingEventEntry = RecordingEvent;

export type RecordingEventLogEvents = {
  /** Every entry, in the order the engine appended them: the one fan-out of recording events. */
  appended: [entry: RecordingEventEntry];
  /** An entry numbered elsewhere (another cluster node's), taken in by receive(). */
  received: [entry: RecordingEventEntry];
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

/** A finished recording's last status, beside its log (see RecordingArchive). */
export const STATUS_SUFFIX = '.status.json';

/**
 * A bounded log of every recording's events with per-recording sequence numbers, so a controller
 * that lost its connection (recorder SDK) or its receiver (webhooks) can catch up on exactly what it
 * missed, in order. The engine appends each event once; every consumer listens to 'appended'. One
 * log per server. In memory, and on disk when given a `dir`.
 */
export class RecordingEventLog extends TypedEmitter<RecordingEventLogEvents> {
  readonly #logs = new Map<string, Log>();
  readonly #maxEntries: number;
  readonly #maxRecordings: number;
  readonly #dir?: string;
  #closed = false;

  constructor(options: RecordingEventLogOptions = {}) {
    super();
    this.#maxEntries = options.maxEntriesPerRecording ?? 2000;
    this.#maxRecordings = options.maxRecordings ?? 1000;
    if (options.dir) {
      this.#dir = options.dir;
      this.#load(options.dir);
    }
  }

  /** The directory of the durable logs (undefined: in memory only). */
  get dir(): string | undefined {
    return this.#dir;
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

  /** The recording's newest entry (undefined: none kept). */
  last(recordingId: string): RecordingEventEntry | undefined {
    return this.#logs.get(recordingId)?.entries.at(-1);
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
    this.removeAllListeners();
  }

  /** Numbers, stores and fans out one event (nothing once closed). */
  append(body: RecordingEventBody): RecordingEvent | undefined {
    if (this.#closed) return undefined;
    const log = this.#touch(body.recordingId, body.channelId);
    const entry = { ...withoutUndefined(body), seq: log.nextSeq, at: new Date().toISOString() } as RecordingEvent;
    if (!entry.channelId && log.channelId) entry.channelId = log.channelId;
    this.#store(log, entry);
    this.safeEmit('appended', entry);
    return entry;
  }

  /**
   * Takes in an entry another cluster node numbered, keeping its seq: one at or below the
   * recording's last seq is a repeat and dropped (false). Emits 'received', never 'appended': what
   * listens to 'appended' acts on this node's own events only (webhooks, the cluster publisher).
   */
  receive(entry: RecordingEventEntry): boolean {
    if (this.#closed || entry.seq <= this.lastSeq(entry.recordingId)) return false;
    this.#store(this.#touch(entry.recordingId, entry.channelId), entry);
    this.safeEmit('received', entry);
    return true;
  }

  /**
   * Takes on a recording another node numbered so far (it took the recording over): its `history`
   * as this node had mirrored it, and the numbering going on after `lastSeq`, the cluster's last.
   * Nothing is emitted: those events were told already.
   */
  continueAfter(recordingId: string, lastSeq: number, channelId: string, history: readonly RecordingEventEntry[]): void {
    if (this.#closed) return;
    const log = this.#touch(recordingId, channelId);
    for (const entry of history) if (entry.seq >= log.nextSeq && entry.seq <= lastSeq) this.#store(log, entry);
    log.nextSeq = Math.max(log.nextSeq, lastSeq + 1);
  }

  /** Drops a recording's log (another node tells of the recording now). */
  forget(recordingId: string): void {
    if (this.#logs.has(recordingId)) this.#forget(recordingId);
  }

  /** The recording's log, made the most recently active (created, dropping the least active, if new). */
  #touch(recordingId: string, channelId: string | undefined): Log {
    let log = this.#logs.get(recordingId);
    if (log) {
      this.#logs.delete(recordingId);
    } else {
      log = { entries: [], nextSeq: 1, linesOnDisk: 0 };
      while (this.#logs.size >= this.#maxRecordings) this.#forget(this.#logs.keys().next().value!);
    }
    this.#logs.set(recordingId, log);
    if (channelId) log.channelId = channelId;
    return log;
  }

  #store(log: Log, entry: RecordingEventEntry): void {
    log.nextSeq = entry.seq + 1;
    log.entries.push(entry);
    if (log.entries.length > this.#maxEntries) log.entries.splice(0, log.entries.length - this.#maxEntries);
    this.#persist(entry.recordingId, log, entry);
  }

  /** Where a recording's own files in the log's directory start: `<dir>/<base64url(id)>` (any id is a safe name). */
  fileStem(recordingId: string): string | undefined {
    return this.#dir ? path.join(this.#dir, Buffer.from(recordingId).toString('base64url')) : undefined;
  }

  #fileOf(recordingId: string): string {
    return `${this.fileStem(recordingId)!}.jsonl`;
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

  /** Drops a recording's log and every file of it in the directory (its final status too). */
  #forget(recordingId: string): void {
    this.#logs.delete(recordingId);
    if (!this.#dir) return;
    fs.rmSync(this.#fileOf(recordingId), { force: true });
    fs.rmSync(`${this.fileStem(recordingId)!}${STATUS_SUFFIX}`, { force: true });
  }

  /** The newest maxRecordings logs, oldest first so the least recently active is dropped first. */
  #load(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => ({ file: path.join(dir, name), mtimeMs: fs.statSync(path.join(dir, name)).mtimeMs }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { file } of files.slice(0, Math.max(0, files.length - this.#maxRecordings))) {
      fs.rmSync(file, { force: true });
      fs.rmSync(file.replace(/\.jsonl$/, STATUS_SUFFIX), { force: true });
    }
    for (const { file } of files.slice(-this.#maxRecordings)) {
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      // A line cut short by a crash is skipped; the rest of the log still counts.
      const entries = lines.flatMap((line) => {
        try {
          const entry = fromLine(JSON.parse(line));
          return entry ? [entry] : [];
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

/** A line as written; the first version named the type `event`. */
function fromLine(value: unknown): RecordingEvent | undefined {
  const line = value as (RecordingEvent & { event?: RecordingEvent['type'] }) | null;
  if (typeof line?.recordingId !== 'string' || !Number.isInteger(line.seq)) return undefined;
  const { event, ...rest } = line;
  const type = rest.type ?? event;
  return typeof type === 'string' ? ({ ...rest, type } as RecordingEvent) : undefined;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
