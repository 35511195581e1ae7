import { ServerConfig } from '../../config/defaults';
import { ChannelLeases } from './ChannelLeases';
import { ClusterEventConsumer } from './ClusterEventConsumer';
import { ClusterEvents } from './ClusterEvents';
import { ClusterKeys } from './ClusterKeys';
import { resolveNodeId } from './nodeId';
import { NodeRegistry, NodeRegistryOptions, NodeRole, RecorderLoad } from './NodeRegistry';
import { RedisConnection } from './RedisConnection';

export type ClusterMemberOptions = {
  /** roles: default both (media and recorder). */
  cluster: Omit<ServerConfig['cluster'], 'roles'> & { roles?: NodeRole[] };
  /** Where a generated node id is kept (recording.stateDir). */
  stateDir: string;
  /** Used when cluster.rtpAddress is empty (the resolved mediasoup.announcedIp). */
  defaultRtpAddress: string;
  /** This node's channel load; the recorder part comes from setRecorderLoad(). */
  load: NodeRegistryOptions['load'];
  /** Key prefix: one per cluster sharing a Redis. */
  keyPrefix?: string;
  /** Overrides for tests: heartbeat and pending-lease timing. */
  heartbeatIntervalMs?: number;
  pendingLeaseMs?: number;
};

/**
 * One node's part in the cluster, built from the `cluster` config section: its Redis connection,
 * registry entry, channel leases and event publisher, plus event consumers each on a connection of
 * their own (a blocking read holds its connection). The server creates one when cluster.redisUrl
 * is set and closes it on shutdown.
 */
export class ClusterMember {
  readonly nodeId: string;
  /** Where other nodes send this node RTP (cluster.rtpAddress, else the default given). */
  readonly rtpAddress: string;
  readonly keys: ClusterKeys;
  readonly connection: RedisConnection;
  readonly registry: NodeRegistry;
  readonly leases: ChannelLeases;
  readonly events: ClusterEvents;
  readonly #url: string;
  readonly #consumers = new Set<{ consumer: ClusterEventConsumer; connection: RedisConnection }>();
  #recorderLoad: (() => RecorderLoad) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ClusterMemberOptions) {
    const { cluster } = options;
    if (!cluster.redisUrl) throw new TypeError('cluster.redisUrl is empty: a single node needs no ClusterMember');
    if (!/^https?:\/\/[^/]+/.test(cluster.publicUrl)) throw new TypeError('cluster.publicUrl must be the http(s) URL clients and other nodes reach this node at');
    if (!Number.isInteger(cluster.nodeTimeoutMs) || cluster.nodeTimeoutMs < 100) throw new TypeError('cluster.nodeTimeoutMs must be an integer >= 100');
    if (!Number.isInteger(cluster.leaseMs) || cluster.leaseMs < 300) throw new TypeError('cluster.leaseMs must be an integer >= 300');
    this.nodeId = resolveNodeId(cluster.nodeId, options.stateDir);
    this.rtpAddress = cluster.rtpAddress || options.defaultRtpAddress;
    this.keys = new ClusterKeys(options.keyPrefix);
    this.#url = cluster.redisUrl;
    this.connection = new RedisConnection({ url: cluster.redisUrl, name: `confrec-${this.nodeId}` });
    this.registry = new NodeRegistry({
      connection: this.connection,
      keys: this.keys,
      nodeId: this.nodeId,
      publicUrl: cluster.publicUrl.replace(/\/+$/, ''),
      rtpAddress: this.rtpAddress,
      load: () => {
        const load = options.load();
        return this.#recorderLoad ? { ...load, recorder: this.#recorderLoad() } : load;
      },
      nodeTimeoutMs: cluster.nodeTimeoutMs,
      ...(cluster.roles ? { roles: cluster.roles } : {}),
      ...(options.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
    });
    this.leases = new ChannelLeases({
      connection: this.connection,
      keys: this.keys,
      registry: this.registry,
      leaseMs: cluster.leaseMs,
      ...(options.pendingLeaseMs !== undefined ? { pendingLeaseMs: options.pendingLeaseMs } : {}),
    });
    this.events = new ClusterEvents({ connection: this.connection, keys: this.keys });
  }

  /** What this node does (cluster.roles). */
  get roles(): readonly NodeRole[] {
    return this.registry.roles;
  }

  /**
   * Where the heartbeat's `load.recorder` comes from from now on (the recording plugin's count of
   * its capacity and running recordings); called at every heartbeat, so it must be cheap.
   */
  setRecorderLoad(source: () => RecorderLoad): void {
    this.#recorderLoad = source;
    void this.registry.heartbeat();
  }

  /**
   * Connects and registers. Rejects with CLUSTER_UNAVAILABLE when Redis cannot be reached within
   * timeoutMs; the member keeps trying in the background either way (the caller may start serving
   * and refuse new channels until `connection` emits `up`).
   */
  async start(timeoutMs = 5000): Promise<void> {
    await this.connection.waitUp(timeoutMs);
    await this.registry.start();
  }

  /** A reader of the cluster's event stream on a connection of its own, closed with the member. */
  async consumeEvents(options: { after?: string; blockMs?: number } = {}): Promise<ClusterEventConsumer> {
    const connection = new RedisConnection({ url: this.#url, name: `confrec-${this.nodeId}-events`, ...(options.blockMs ? { commandTimeoutMs: options.blockMs + 2000 } : {}) });
    const consumer = new ClusterEventConsumer({ connection, keys: this.keys, ...options });
    const entry = { consumer, connection };
    this.#consumers.add(entry);
    try {
      await connection.waitUp(5000);
      await consumer.start();
    } catch (error) {
      this.#consumers.delete(entry);
      await consumer.close();
      await connection.close();
      throw error;
    }
    return consumer;
  }

  /**
   * Idempotent. Graceful by default: leases released and the registry entry removed, so others
   * take over at once. `crash: true` leaves both to expire (tests of node death).
   */
  close(options: { crash?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const graceful = !options.crash;
      for (const { consumer, connection } of this.#consumers) {
        await consumer.close();
        await connection.close();
      }
      this.#consumers.clear();
      await this.leases.close({ release: graceful });
      await this.registry.close({ leave: graceful });
      if (!graceful) this.connection.client.disconnect(false);
      await this.connection.close();
    })();
    return this.#closing;
  }
}
