import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import type { RecordingEventEntry, RecordingEventLog } from '../recording/RecordingEventLog';
import { signWebhook } from './signature';
import { toWireEvent, type WireRecordingEvent } from '../../signaling/recordingEvent';

const logger = new Logger('WebhookDispatcher');

export interface WebhookDispatcherOptions {
  urls: readonly string[];
  secret: string;
  timeoutMs?: number;
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Events waiting per URL and recording; beyond it the oldest waiting ones are dropped (logged). */
  maxQueuedPerRecording?: number;
  /**
   * Where each URL's delivery cursor per recording is kept (the last seq delivered or given up).
   * With a log that survives restarts, what was still queued at shutdown is delivered after the next
   * start instead of being lost. Without it, nothing is durable.
   */
  stateFile?: string;
}

/** url → recordingId → the last seq delivered or given up on. */
type Cursors = Map<string, Map<string, number>>;

export type WebhookDispatcherEvents = {
  /** One POST of `entry` to `url`: 2xx (delivered), failed with another try to come (retrying), or failed for the last time (gaveUp). */
  delivery: [outcome: 'delivered' | 'retrying' | 'gaveUp', url: string, entry: RecordingEventEntry];
};

/** The JSON body of every webhook POST: the event log entry plus a delivery id. */
export type WebhookPayload = WireRecordingEvent & { id: string };

interface Queue {
  url: string;
  recordingId: string;
  items: RecordingEventEntry[];
  running: boolean;
}

/**
 * POSTs every recording event to the configured URLs, signed (see signature.ts). Per URL and
 * recording, events go one at a time, in order; a failed delivery (network error, timeout,
 * non-2xx) is retried with exponential backoff before the next event of that recording is sent.
 * Deliveries run beside the recording and never hold it up; queued upload progress events are
 * coalesced (only the newest waiting one is sent). With a stateFile (and a log that survives
 * restarts) what is queued at shutdown is delivered after the next start, in order, with its own seq.
 */
export class WebhookDispatcher extends TypedEmitter<WebhookDispatcherEvents> {
  readonly #options: Required<Omit<WebhookDispatcherOptions, 'stateFile'>> & Pick<WebhookDispatcherOptions, 'stateFile'>;
  readonly #cursors: Cursors;
  readonly #log: RecordingEventLog;
  readonly #queues = new Map<string, Queue>();
  readonly #abort = new AbortController();
  readonly #onEntry: (entry: RecordingEventEntry) => void;
  readonly #idleWaiters = new Set<() => void>();
  #closed = false;

  constructor(log: RecordingEventLog, options: WebhookDispatcherOptions) {
    super();
    this.#options = { timeoutMs: 5000, maxAttempts: 10, retryBaseDelayMs: 500, retryMaxDelayMs: 30_000, maxQueuedPerRecording: 1000, ...options };
    this.#log = log;
    this.#onEntry = (entry) => {
      for (const url of this.#options.urls) this.#enqueue(url, entry);
    };
    this.#cursors = this.#loadCursors();
    log.on('appended', this.#onEntry);
    this.#resume();
  }

  /** Delivers an event that is this node's to tell though not in its log (a dead cluster node's recording's end). */
  deliver(entry: RecordingEventEntry): void {
    this.#onEntry(entry);
  }

  /** Events waiting or being delivered, over all URLs. */
  get pending(): number {
    return [...this.#queues.values()].reduce((sum, queue) => sum + queue.items.length, 0);
  }

  /** Resolves when nothing is waiting (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.#queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Still listening: events of the shutdown itself (recordings stopped by it) get a cursor, so the
    // next start delivers them.
    if (!this.#options.stateFile) this.#log.off('appended', this.#onEntry);
    this.#abort.abort();
    const left = this.pending;
    if (left > 0) {
      if (this.#options.stateFile) logger.info(`close() | ${left} webhook deliveries left for the next start`);
      else logger.warn(`close() | ${left} webhook deliveries dropped at shutdown (no stateFile)`);
    }
    this.#queues.clear();
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters.clear();
  }

  #enqueue(url: string, entry: RecordingEventEntry): void {
    const cursors = this.#cursorsOf(url);
    if (!cursors.has(entry.recordingId)) {
      cursors.set(entry.recordingId, entry.seq - 1);
      this.#saveCursors();
    }
    if (this.#closed) return;
    const key = `${url}\u0000${entry.recordingId}`;
    let queue = this.#queues.get(key);
    if (!queue) this.#queues.set(key, (queue = { url, recordingId: entry.recordingId, items: [], running: false }));
    const last = queue.items[queue.items.length - 1];
    // Index 0 is being delivered; a waiting progress event is superseded by a newer one.
    if (entry.type === 'uploadingProgress' && queue.items.length > 1 && last?.type === 'uploadingProgress') {
      queue.items[queue.items.length - 1] = entry;
    } else {
      queue.items.push(entry);
    }
    if (queue.items.length > this.#options.maxQueuedPerRecording) {
      const removed = queue.items.splice(1, 1)[0];
      logger.warn(`enqueue() | queue for ${redactUrl(url)} full: dropped ${removed?.type} #${removed?.seq}`, { recordingId: entry.recordingId });
    }
    if (!queue.running) void this.#run(key, queue);
  }

  async #run(key: string, queue: Queue): Promise<void> {
    queue.running = true;
    try {
      while (!this.#closed && queue.items.length > 0) {
        const entry = queue.items[0]!;
        await this.#deliver(queue.url, entry);
        if (this.#closed) break;
        queue.items.shift();
        this.#cursorsOf(queue.url).set(queue.recordingId, entry.seq);
        this.#saveCursors();
      }
    } finally {
      queue.running = false;
      if (this.#queues.get(key) === queue && queue.items.length === 0) this.#queues.delete(key);
      if (this.#queues.size === 0) {
        for (const resolve of this.#idleWaiters) resolve();
        this.#idleWaiters.clear();
      }
    }
  }

  /** Tries until delivered, out of attempts, or closed. Never throws. */
  async #deliver(url: string, entry: RecordingEventEntry): Promise<void> {
    const payload: WebhookPayload = { id: `${entry.recordingId}:${entry.seq}`, ...toWireEvent(entry) };
    const body = JSON.stringify(payload);
    const { maxAttempts, retryBaseDelayMs, retryMaxDelayMs, timeoutMs, secret } = this.#options;
    for (let attempt = 1; attempt <= maxAttempts && !this.#closed; attempt++) {
      let failure: string;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'confrec-webhooks/1',
            'x-confrec-signature': signWebhook(secret, body),
            'x-confrec-event': entry.type,
            'x-confrec-delivery': payload.id,
            'x-confrec-attempt': String(attempt),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.status >= 200 && response.status < 300) {
          this.safeEmit('delivery', 'delivered', url, entry);
          return;
        }
        failure = `HTTP ${response.status}`;
      } catch (error) {
        if (this.#closed) return;
        failure = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : String((error as Error).message ?? error);
      }
      this.safeEmit('delivery', attempt === maxAttempts ? 'gaveUp' : 'retrying', url, entry);
      if (attempt === maxAttempts) {
        logger.error(`deliver() | gave up on ${entry.type} #${entry.seq} to ${redactUrl(url)} after ${attempt} attempts: ${failure}`, { recordingId: entry.recordingId });
        return;
      }
      const delay = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.25);
      logger.warn(`deliver() | ${entry.type} #${entry.seq} to ${redactUrl(url)} failed (${failure}); retry ${attempt + 1}/${maxAttempts} in ${Math.round(delay)} ms`, { recordingId: entry.recordingId });
      await this.#sleep(delay);
    }
  }

  #cursorsOf(url: string): Map<string, number> {
    let cursors = this.#cursors.get(url);
    if (!cursors) this.#cursors.set(url, (cursors = new Map()));
    return cursors;
  }

  /** Re-queues, per URL and recording, what the log holds beyond the cursor: the previous run's backlog. */
  #resume(): void {
    for (const [url, cursors] of this.#cursors) {
      for (const [recordingId, cursor] of cursors) {
        for (const entry of this.#log.since(recordingId, cursor).entries) this.#enqueue(url, entry);
      }
    }
  }

  /** Cursors of configured URLs and of recordings the log still has; anything else is history. */
  #loadCursors(): Cursors {
    const cursors: Cursors = new Map();
    const file = this.#options.stateFile;
    if (!file) return cursors;
    let saved: Record<string, Record<string, number>> = {};
    try {
      saved = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`loadCursors() | ${file} unreadable, starting without: ${String(error)}`);
    }
    for (const url of this.#options.urls) {
      const entries = Object.entries(saved[url] ?? {}).filter(([recordingId, seq]) => Number.isInteger(seq) && this.#log.has(recordingId));
      if (entries.length > 0) cursors.set(url, new Map(entries));
    }
    return cursors;
  }

  /** Written whole and renamed into place: a crash leaves the old cursors or the new, never half. */
  #saveCursors(): void {
    const file = this.#options.stateFile;
    if (!file) return;
    for (const cursors of this.#cursors.values()) {
      for (const recordingId of cursors.keys()) if (!this.#log.has(recordingId)) cursors.delete(recordingId);
    }
    const data = Object.fromEntries([...this.#cursors].map(([url, cursors]) => [url, Object.fromEntries(cursors)]));
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(data), { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
    } catch (error) {
      logger.warn(`saveCursors() | ${String(error)}`);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#abort.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}

/** URLs may carry credentials or tokens in the query: log scheme, host and path only. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
