import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../../../server/logger';
import type { RecordingEventEntry, RecordingEventLog } from '../RecordingEventLog';
import type { RecordingView } from '../recordingView';
import type { RecordingDirectory } from './RecordingDirectory';

/** What an event is published with: the view it leaves the recording in, the segment and the sealed spec (while it runs). */
export interface PublishedState {
  view: RecordingView;
  segment?: number;
  spec?: string;
}

const logger = new Logger('ClusterEventPublisher');

/** Events waiting for Redis; beyond it the oldest go (the node's own log still has them). */
const MAX_QUEUED = 10_000;
const RETRY_DELAY_MS = 500;

/**
 * Publishes this node's recording events to the cluster (stream and directory), strictly one after
 * the other in the order the log numbered them, so every consumer reads each recording's events in
 * seq order. While Redis is away they wait and go out in order when it is back; a publish whose
 * answer was lost is retried, and the directory drops it if it had landed.
 */
export class ClusterEventPublisher {
  readonly #directory: RecordingDirectory;
  readonly #log: RecordingEventLog;
  readonly #queue: Array<{ entry: RecordingEventEntry; state: PublishedState }> = [];
  readonly #onEntry: (entry: RecordingEventEntry) => void;
  readonly #onSuperseded: (recordingId: string) => void;
  readonly #idleWaiters = new Set<() => void>();
  #running = false;
  #closed = false;

  /**
   * `stateOf` is read when the event is appended: what the event leaves the recording in.
   * `onSuperseded`: the directory refused an event because another node took the recording over.
   */
  constructor(
    directory: RecordingDirectory,
    log: RecordingEventLog,
    stateOf: (entry: RecordingEventEntry) => PublishedState | undefined,
    onSuperseded: (recordingId: string) => void = () => undefined,
  ) {
    this.#directory = directory;
    this.#log = log;
    this.#onSuperseded = onSuperseded;
    this.#onEntry = (entry) => {
      const state = stateOf(entry);
      if (state) this.#enqueue(entry, state);
    };
    log.on('appended', this.#onEntry);
  }

  /**
   * Publishes a recording's last event again with its view now, behind what waits: a Redis that came
   * back empty learns of a recording that has no new event to tell (the directory and every
   * consumer drop it where they had it).
   */
  republish(recordingId: string, state: PublishedState): void {
    const last = this.#log.last(recordingId);
    if (last) this.#enqueue(last, state);
  }

  #enqueue(entry: RecordingEventEntry, state: PublishedState): void {
    if (this.#closed) return;
    this.#queue.push({ entry, state });
    if (this.#queue.length > MAX_QUEUED) {
      const dropped = this.#queue.shift()!;
      logger.warn(`the cluster misses event #${dropped.entry.seq}: ${MAX_QUEUED} events wait for Redis`, { recordingId: dropped.entry.recordingId });
    }
    void this.#run();
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Resolves once everything appended so far is published (or the publisher closed). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#log.off('appended', this.#onEntry);
    if (this.#queue.length > 0) logger.warn(`close() | ${this.#queue.length} event(s) not published to the cluster`);
    this.#queue.length = 0;
    this.#wake();
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const head = this.#queue[0]!;
        try {
          const outcome = await this.#directory.publish(head.entry, head.state.view, head.state);
          if (this.#queue[0] === head) this.#queue.shift();
          if (outcome === 'superseded') this.#onSuperseded(head.entry.recordingId);
        } catch (error) {
          logger.debug('publish failed, retrying', { recordingId: head.entry.recordingId, seq: head.entry.seq, error: (error as Error).message });
          await sleep(RETRY_DELAY_MS);
        }
      }
    } finally {
      this.#running = false;
      if (this.#queue.length === 0) this.#wake();
    }
  }

  #wake(): void {
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters.clear();
  }
}
