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
}

interface Log {
  entries: RecordingEventEntry[];
  nextSeq: number;
  channelId?: string;
}

/**
 * A bounded, in-memory log of every recording's events with per-recording sequence numbers, so a
 * controller that lost its connection (recorder SDK) or its receiver (webhooks) can catch up on
 * exactly what it missed, in order. Fed by the engine; one log per server.
 */
export class RecordingEventLog extends TypedEmitter<RecordingEventLogEvents> {
  readonly #logs = new Map<string, Log>();
  readonly #maxEntries: number;
  readonly #maxRecordings: number;
  readonly #unsubscribe: Array<() => void> = [];
  #closed = false;

  constructor(engine: RecordingEngine, options: RecordingEventLogOptions = {}) {
    super();
    this.#maxEntries = options.maxEntriesPerRecording ?? 2000;
    this.#maxRecordings = options.maxRecordings ?? 1000;
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
    listen('fatalError', (recordingId, channelId, code) => ({ recordingId, channelId, code }));
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
      log = { entries: [], nextSeq: 1 };
      while (this.#logs.size >= this.#maxRecordings) this.#logs.delete(this.#logs.keys().next().value!);
    }
    this.#logs.set(fields.recordingId, log);
    if (fields.channelId) log.channelId = fields.channelId;
    const entry: RecordingEventEntry = { ...withoutUndefined(fields), seq: log.nextSeq++, event, at: new Date().toISOString() };
    if (!entry.channelId && log.channelId) entry.channelId = log.channelId;
    log.entries.push(entry);
    if (log.entries.length > this.#maxEntries) log.entries.splice(0, log.entries.length - this.#maxEntries);
    this.safeEmit('appended', entry);
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
