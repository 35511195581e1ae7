import os from 'node:os';
import type { ClusterRole } from '../../config/defaults';
import { Logger } from '../logger';
import { TypedEmitter } from '../TypedEmitter';
import { ClusterKeys } from './ClusterKeys';
import { DEFAULT_MAX_RECONNECT_DELAY_MS, RedisConnection } from './RedisConnection';

const logger = new Logger('NodeRegistry');

/** cluster.roles: `media` hosts channels, `recorder` runs recordings. */
export type NodeRole = ClusterRole;

/**
 * A recorder node's room for recordings, in the cost units its recording plugin counts in (the
 * server does not interpret them): what it can run, and what its running recordings cost now.
 */
export type RecorderLoad = { capacity: number; used: number };

export type NodeLoad = {
  channels: number;
  peers: number;
  producers: number;
  recordings: number;
  /** Load average over the last minute divided by the number of cores (1 = every core busy). */
  cpu: number;
  /** Present once a plugin reports it (ClusterHandle.setRecorderLoad). */
  recorder?: RecorderLoad;
};

/** What a node heartbeats into Redis. */
export type NodeInfo = {
  nodeId: string;
  /** How clients and other nodes reach this node's HTTP/WebSocket. */
  publicUrl: string;
  /** The address other nodes send RTP to. */
  rtpAddress: string;
  roles: NodeRole[];
  load: NodeLoad;
  /** ms since the epoch, this node's clock. */
  startedAt: number;
  seenAt: number;
};

export type NodeRegistryOptions = {
  connection: RedisConnection;
  keys: ClusterKeys;
  nodeId: string;
  publicUrl: string;
  rtpAddress: string;
  roles?: NodeRole[];
  /** The node's current load; called at every heartbeat. cpu defaults to the load average per core. */
  load: () => Omit<NodeLoad, 'cpu'> & { cpu?: number };
  /** A node whose heartbeat is older than this is dead (its key's TTL). */
  nodeTimeoutMs: number;
  /** Default nodeTimeoutMs / 3 (and at most 2 s, so a death is noticed within nodeTimeoutMs + 2 s). */
  heartbeatIntervalMs?: number;
};

export type NodeRegistryEvents = {
  /** A live node this registry had seen is gone (stopped heartbeating, or left); `lastSeen`: its last heartbeat as read then. */
  nodeDown: [nodeId: string, lastSeen: NodeInfo];
  /** Another node this registry had not seen alive is live. */
  nodeUp: [node: NodeInfo];
};

/**
 * This node's entry in the cluster's node registry, and its view of the other nodes.
 *
 * Liveness is Redis' own: every heartbeat SETs the node's key with PX nodeTimeoutMs, so a node is
 * alive exactly as long as its key exists, judged by one clock (Redis'), not by comparing the
 * nodes' clocks. A sorted set indexes the ids so list() needs no SCAN.
 *
 * Every heartbeat also reads the list and diffs it against the last one: a node that vanished is
 * reported (nodeDown) once. After Redis was unreachable (or restarted empty), the others need to
 * reconnect and heartbeat to re-register, so for a grace period after Redis returns (nodeTimeoutMs +
 * the longest reconnect backoff + a heartbeat interval) a missing node is not yet reported; one that
 * does not come back by then is.
 */
export class NodeRegistry extends TypedEmitter<NodeRegistryEvents> {
  readonly #connection: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #info: Omit<NodeInfo, 'load' | 'seenAt'>;
  readonly #load: NodeRegistryOptions['load'];
  readonly #nodeTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #logger: Logger;
  /** Live nodes of the last successful look, by id. */
  #known = new Map<string, NodeInfo>();
  #graceUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #onUp = (): void => {
    // The others reconnect on their own backoff, then heartbeat: until then their absence means nothing.
    this.#graceUntil = Date.now() + this.#nodeTimeoutMs + DEFAULT_MAX_RECONNECT_DELAY_MS + this.#heartbeatIntervalMs;
    // Re-register at once rather than at the next tick.
    void this.heartbeat();
  };

  constructor(options: NodeRegistryOptions) {
    super();
    const { connection, keys, nodeId, publicUrl, rtpAddress, roles = ['media', 'recorder'], load, nodeTimeoutMs } = options;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) throw new TypeError('nodeId must be 1-64 of A-Z a-z 0-9 . _ -');
    if (!Number.isInteger(nodeTimeoutMs) || nodeTimeoutMs < 100) throw new TypeError('nodeTimeoutMs must be an integer >= 100');
    if (roles.length === 0) throw new TypeError('roles must name at least one role');
    this.#connection = connection;
    this.#keys = keys;
    this.#info = { nodeId, publicUrl, rtpAddress, roles: [...roles], startedAt: Date.now() };
    this.#load = load;
    this.#nodeTimeoutMs = nodeTimeoutMs;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.min(Math.floor(nodeTimeoutMs / 3), 2000);
    this.#logger = logger.child({ nodeId });
    connection.on('up', this.#onUp);
  }

  get nodeId(): string {
    return this.#info.nodeId;
  }

  get publicUrl(): string {
    return this.#info.publicUrl;
  }

  /** What this node does (its heartbeat says so to the others). */
  get roles(): readonly NodeRole[] {
    return this.#info.roles;
  }

  /**
   * Heartbeats until close(), and registers now: rejects with CLUSTER_UNAVAILABLE when Redis is away,
   * but the heartbeats go on and register the node once Redis is reachable.
   */
  async start(): Promise<void> {
    if (this.#closed) throw Object.assign(new Error('NodeRegistry closed'), { name: 'InvalidStateError' });
    this.#timer ??= setInterval(() => void this.heartbeat(), this.#heartbeatIntervalMs);
    await this.#register();
    await this.#look();
  }

  /** One heartbeat and look at the others; failures are logged (Redis down), never thrown. */
  heartbeat(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // A slow Redis must not pile heartbeats up.
    this.#beating ??= (async () => {
      try {
        await this.#register();
        await this.#look();
      } catch (error) {
        this.#logger.debug('heartbeat() | failed', { error: (error as Error).message });
      } finally {
        this.#beating = undefined;
      }
    })();
    return this.#beating;
  }

  /** The live nodes (this one included when registered), by nodeId. Throws CLUSTER_UNAVAILABLE. */
  async list(): Promise<NodeInfo[]> {
    return this.#connection.run(async (redis) => {
      const ids = await redis.zrange(this.#keys.nodes, '0', '-1');
      if (ids.length === 0) return [];
      const values = await redis.mget(ids.map((id) => this.#keys.node(id)));
      const live: NodeInfo[] = [];
      const gone: string[] = [];
      values.forEach((value, index) => {
        if (value === null) gone.push(ids[index]!);
        else live.push(JSON.parse(value) as NodeInfo);
      });
      // An id whose key expired long ago is dropped from the index; a recent one may re-register.
      if (gone.length > 0) await redis.zremrangebyscore(this.#keys.nodes, '-inf', String(Date.now() - 10 * this.#nodeTimeoutMs));
      return live.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    });
  }

  /**
   * Idempotent. Stops heartbeating; with `leave` (the default) removes this node's entry so the
   * others see it gone at once; without (a crash, in tests) it lingers until its TTL runs out.
   */
  close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#connection.off('up', this.#onUp);
    this.#closing = (async () => {
      await this.#beating;
      if (options.leave === false || !this.#connection.isUp) return;
      try {
        await this.#connection.run((redis) => redis.multi().del(this.#keys.node(this.nodeId)).zrem(this.#keys.nodes, this.nodeId).exec());
      } catch (error) {
        this.#logger.warn('close() | could not leave the registry', { error: (error as Error).message });
      }
    })();
    return this.#closing;
  }

  async #register(): Promise<void> {
    const load = this.#load();
    const info: NodeInfo = { ...this.#info, load: { ...load, cpu: load.cpu ?? cpuLoad() }, seenAt: Date.now() };
    await this.#connection.run((redis) =>
      redis
        .multi()
        .set(this.#keys.node(this.nodeId), JSON.stringify(info), 'PX', this.#nodeTimeoutMs)
        .zadd(this.#keys.nodes, info.seenAt, this.nodeId)
        .exec(),
    );
  }

  async #look(): Promise<void> {
    const nodes = await this.list();
    const now = new Map(nodes.map((node) => [node.nodeId, node]));
    for (const node of nodes) if (!this.#known.has(node.nodeId) && node.nodeId !== this.nodeId) this.safeEmit('nodeUp', node);
    if (Date.now() < this.#graceUntil) {
      // Redis just came back: nodes not seen yet keep their place until they had time to re-register.
      for (const [nodeId, node] of this.#known) if (!now.has(nodeId)) now.set(nodeId, node);
    } else {
      for (const [nodeId, lastSeen] of this.#known) {
        if (now.has(nodeId) || nodeId === this.nodeId) continue;
        this.#logger.warn('node down', { downNodeId: nodeId });
        this.safeEmit('nodeDown', nodeId, lastSeen);
      }
    }
    this.#known = now;
  }
}

function cpuLoad(): number {
  return Math.round((os.loadavg()[0]! / Math.max(os.cpus().length, 1)) * 100) / 100;
}
