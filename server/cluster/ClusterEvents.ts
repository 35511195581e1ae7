import { ClusterKeys } from './ClusterKeys';
import { RedisConnection } from './RedisConnection';

/** A recording event as it crosses the cluster: any JSON object with its recording and sequence number. */
export type ClusterEvent = { recordingId: string; seq: number } & Record<string, unknown>;

export type ClusterEventsOptions = {
  connection: RedisConnection;
  keys: ClusterKeys;
  /** About how many events the stream keeps (XADD MAXLEN ~): a consumer away longer than that misses the oldest. */
  maxLength?: number;
};

/** The field of a stream entry that holds the event's JSON. */
export const EVENT_FIELD = 'event';

/**
 * Publishes recording events into the cluster's one Redis stream, which every node's consumers
 * (ClusterEventConsumer) read. The per-recording event log on the owning node stays the source of
 * truth; the stream only carries events to consumers connected to other nodes.
 */
export class ClusterEvents {
  readonly #connection: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #maxLength: number;

  constructor(options: ClusterEventsOptions) {
    this.#connection = options.connection;
    this.#keys = options.keys;
    this.#maxLength = options.maxLength ?? 100_000;
  }

  /** Appends the event; resolves with its stream id. CLUSTER_UNAVAILABLE when Redis is away. */
  async publish(event: ClusterEvent): Promise<string> {
    if (typeof event?.recordingId !== 'string' || !Number.isInteger(event.seq)) throw new TypeError('event needs a recordingId string and an integer seq');
    const id = await this.#connection.run((redis) =>
      redis.xadd(this.#keys.events, 'MAXLEN', '~', this.#maxLength, '*', EVENT_FIELD, JSON.stringify(event)),
    );
    return id as string;
  }
}
