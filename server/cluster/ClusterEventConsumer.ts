import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../logger';
import { TypedEmitter } from '../TypedEmitter';
import { ClusterEvent, EVENT_FIELD } from './ClusterEvents';
import { ClusterKeys } from './ClusterKeys';
import { RedisConnection } from './RedisConnection';

const logger = new Logger('ClusterEventConsumer');

export type ClusterEventConsumerOptions = {
  /**
   * A connection of its own: XREAD BLOCK holds it. Its commandTimeoutMs must exceed blockMs (the
   * defaults, 2000 and 1000, do).
   */
  connection: RedisConnection;
  keys: ClusterKeys;
  /** Stream id to read after ('0-0': everything kept). Default: only events published after start(). */
  after?: string;
  /** Longest wait of one XREAD; also how late close() can take effect. */
  blockMs?: number;
  /** Recordings whose last seq is remembered for dropping repeats. */
  maxTrackedRecordings?: number;
};

export type ClusterEventConsumerEvents = {
  event: [event: ClusterEvent, streamId: string];
};

/**
 * Reads the cluster's event stream from a cursor. Each consumer sees each event once and in stream
 * order: the cursor (the last id read) only moves forward, and after a lost connection reading
 * resumes from it, so events published meanwhile are read then. A repeat of a (recordingId, seq)
 * already delivered — a publisher that retried an XADD whose answer it lost — is dropped.
 */
export class ClusterEventConsumer extends TypedEmitter<ClusterEventConsumerEvents> {
  readonly #connection: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #blockMs: number;
  readonly #maxTracked: number;
  readonly #lastSeq = new Map<string, number>();
  #cursor: string | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(options: ClusterEventConsumerOptions) {
    super();
    this.#connection = options.connection;
    this.#keys = options.keys;
    this.#cursor = options.after;
    this.#blockMs = options.blockMs ?? 1000;
    this.#maxTracked = options.maxTrackedRecordings ?? 10_000;
  }

  /** The id of the last event read (to resume from, e.g. after a restart). */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  /** Fixes the cursor (CLUSTER_UNAVAILABLE when Redis is away) and reads on until close(). */
  async start(): Promise<void> {
    if (this.#closed) throw Object.assign(new Error('ClusterEventConsumer closed'), { name: 'InvalidStateError' });
    if (this.#loop) return;
    // '$' would mean "after the newest" anew at every XREAD, losing what came during a reconnect:
    // the newest id now is the fixed starting point instead.
    if (this.#cursor === undefined) {
      const newest = await this.#connection.run((redis) => redis.xrevrange(this.#keys.events, '+', '-', 'COUNT', 1));
      this.#cursor = newest[0]?.[0] ?? '0-0';
    }
    this.#loop = this.#read();
  }

  /** Idempotent; resolves once the read loop has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#loop;
  }

  async #read(): Promise<void> {
    while (!this.#closed) {
      if (!this.#connection.isUp) {
        await sleep(100);
        continue;
      }
      let reply: unknown;
      try {
        reply = await this.#connection.run((redis) =>
          redis.xread('COUNT', 100, 'BLOCK', this.#blockMs, 'STREAMS', this.#keys.events, this.#cursor!),
        );
      } catch (error) {
        logger.debug('read | failed, resuming from the cursor', { cursor: this.#cursor, error: (error as Error).message });
        await sleep(100);
        continue;
      }
      if (!Array.isArray(reply)) continue;
      for (const [, entries] of reply as [string, [string, string[]][]][]) {
        for (const [streamId, fields] of entries) {
          this.#cursor = streamId;
          if (this.#closed) return;
          this.#deliver(streamId, fields);
        }
      }
    }
  }

  #deliver(streamId: string, fields: string[]): void {
    let event: ClusterEvent;
    try {
      event = JSON.parse(fields[fields.indexOf(EVENT_FIELD) + 1] ?? '') as ClusterEvent;
      if (typeof event?.recordingId !== 'string' || !Number.isInteger(event.seq)) throw new TypeError('not a ClusterEvent');
    } catch {
      // Written by something else than ClusterEvents.publish(): skipped, the stream goes on.
      logger.warn('unreadable event skipped', { streamId });
      return;
    }
    const last = this.#lastSeq.get(event.recordingId);
    if (last !== undefined && event.seq <= last) return;
    // Re-inserted so the map's order is least recently updated first, the one dropped at the bound.
    this.#lastSeq.delete(event.recordingId);
    this.#lastSeq.set(event.recordingId, event.seq);
    if (this.#lastSeq.size > this.#maxTracked) this.#lastSeq.delete(this.#lastSeq.keys().next().value!);
    this.safeEmit('event', event, streamId);
  }
}
