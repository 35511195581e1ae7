import { CodedError, SignalingErrorCode } from '../../signaling/errors';
import { Logger } from '../logger';
import { TypedEmitter } from '../TypedEmitter';
import { ClusterKeys } from './ClusterKeys';
import { CLAIM_SCRIPT, COUNT_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './leaseScripts';
import { NodeInfo, NodeRegistry } from './NodeRegistry';
import { RedisConnection } from './RedisConnection';

const logger = new Logger('ChannelLeases');

const RENEW_BATCH = 500;

export type LeaseState = 'active' | 'pending';

/** Who a channel lives on. */
export type ChannelLease = {
  channelId: string;
  owner: string;
  /** Where a client is redirected to join it. */
  publicUrl: string;
  state: LeaseState;
  /** This node owns it (it must create or keep the channel); else redirect the client to publicUrl. */
  ours: boolean;
};

export type ChannelLeasesOptions = {
  connection: RedisConnection;
  keys: ClusterKeys;
  registry: NodeRegistry;
  /** An active lease's lifetime; renewed every leaseMs / 3. */
  leaseMs: number;
  /** How long a lease written for another node waits for that node to confirm it. Default leaseMs. */
  pendingLeaseMs?: number;
  /** A node with cpu at or above this is placed on only when every node is. Default 0.9. */
  overloadedCpu?: number;
};

export type ChannelLeasesEvents = {
  /** A renewal found this node's lease held by another node: the channel is no longer ours. */
  lost: [channelId: string];
};

/**
 * Which node each channel lives on: one lease per channel in Redis, created atomically (a Lua script
 * does exists-check and write in one step, so of any number of concurrent claims exactly one
 * creates the lease and every other caller is told that owner).
 *
 * Placement of a NEW channel (the first join, on whichever node the client reached): the placing
 * node picks the least-loaded live node and writes the lease for it. For itself the lease is
 * active at once and renewed. For another node it is 'pending', with a short TTL (pendingLeaseMs),
 * and the client is redirected; the target confirms it (claim() turns its own pending lease active)
 * when the redirected client arrives, and renews it from then on. Why this way: a node cannot renew
 * for another, so a lease written on another's behalf must end by itself if that node never takes
 * it (it died, the client gave up); and writing the target's id (not "placing" as a separate step)
 * keeps the whole decision in the one atomic claim, so two first joins on two nodes still end with
 * one channel even when they chose different targets.
 *
 * Load is counted from the leases themselves (each node's unexpired leases, pending included), not
 * only from the heartbeats: 30 channels placed within one heartbeat interval must already see each
 * other. Least loaded = not overloaded (cpu < overloadedCpu) first, then fewest channels, then
 * fewest peers, then lowest cpu, then nodeId (so the choice is deterministic).
 *
 * A node keeps serving the channels it owns while Redis is away; when Redis returns (maybe empty),
 * the next renewal re-asserts every lease that is gone and reports `lost` for any another node took.
 */
export class ChannelLeases extends TypedEmitter<ChannelLeasesEvents> {
  readonly #connection: RedisConnection;
  readonly #keys: ClusterKeys;
  readonly #registry: NodeRegistry;
  readonly #leaseMs: number;
  readonly #pendingLeaseMs: number;
  readonly #overloadedCpu: number;
  readonly #logger: Logger;
  /** Channels this node owns and renews. */
  readonly #owned = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ChannelLeasesOptions) {
    super();
    const { connection, keys, registry, leaseMs } = options;
    if (!Number.isInteger(leaseMs) || leaseMs < 300) throw new TypeError('leaseMs must be an integer >= 300');
    this.#connection = connection;
    this.#keys = keys;
    this.#registry = registry;
    this.#leaseMs = leaseMs;
    this.#pendingLeaseMs = options.pendingLeaseMs ?? leaseMs;
    this.#overloadedCpu = options.overloadedCpu ?? 0.9;
    this.#logger = logger.child({ nodeId: registry.nodeId });
    this.#timer = setInterval(() => void this.renew(), Math.floor(leaseMs / 3));
  }

  get nodeId(): string {
    return this.#registry.nodeId;
  }

  /** Only a node with the media role hosts channels; placement never picks another. */
  get #hostsChannels(): boolean {
    return this.#registry.roles.includes('media');
  }

  /** The channels this node owns. */
  get owned(): ReadonlySet<string> {
    return this.#owned;
  }

  /**
   * Claims the channel for this node: creates the lease if there is none, confirms this node's own
   * pending one, else answers the current owner. CLUSTER_UNAVAILABLE when Redis is away.
   */
  async claim(channelId: string): Promise<ChannelLease> {
    this.#assertOpen();
    if (!this.#hostsChannels) throw Object.assign(new Error(`cluster node ${this.nodeId} has no media role: it hosts no channel`), { name: 'InvalidStateError' });
    const lease = await this.#claimFor(channelId, this.nodeId, this.#registry.publicUrl, 'active', this.#leaseMs);
    if (lease.ours) this.#owned.add(channelId);
    return lease;
  }

  /**
   * Where a new channel goes: its lease if it has one, else the least-loaded live media node's,
   * claimed for that node (see the class comment); a node without the media role is never a
   * candidate, and places every channel elsewhere. CLUSTER_UNAVAILABLE when Redis is away or no
   * media node is live.
   */
  async placement(channelId: string): Promise<ChannelLease> {
    this.#assertOpen();
    const existing = await this.lookup(channelId);
    if (existing && !existing.ours) return existing;
    if (existing && this.#hostsChannels) return this.claim(channelId);
    // This node's lease from a run that had the media role: given up, the channel is placed anew.
    if (existing) await this.release(channelId);
    const nodes = (await this.#registry.list()).filter((node) => node.roles.includes('media'));
    if (nodes.length === 0) throw new CodedError(SignalingErrorCode.ClusterUnavailable, 'no live media node in the cluster');
    const counts = await this.channelCounts(nodes.map((node) => node.nodeId));
    const target = this.leastLoaded(nodes, counts);
    if (target.nodeId === this.nodeId) return this.claim(channelId);
    const lease = await this.#claimFor(channelId, target.nodeId, target.publicUrl, 'pending', this.#pendingLeaseMs);
    // A concurrent first join elsewhere placed it on this node meanwhile: take it (confirm, renew).
    return lease.ours ? this.claim(channelId) : lease;
  }

  /** The channel's lease, or undefined when no node holds it. */
  async lookup(channelId: string): Promise<ChannelLease | undefined> {
    const [owner, publicUrl, state] = await this.#connection.run((redis) => redis.hmget(this.#keys.lease(channelId), 'owner', 'publicUrl', 'state'));
    if (!owner) return undefined;
    return { channelId, owner, publicUrl: publicUrl ?? '', state: (state ?? 'active') as LeaseState, ours: owner === this.nodeId };
  }

  /** Unexpired leases per node id (pending ones included). */
  async channelCounts(nodeIds: string[]): Promise<Map<string, number>> {
    if (nodeIds.length === 0) return new Map();
    const counts = (await this.#connection.run((redis) => redis.eval(COUNT_SCRIPT, nodeIds.length, ...nodeIds.map((id) => this.#keys.owned(id))))) as number[];
    return new Map(nodeIds.map((id, index) => [id, Number(counts[index] ?? 0)]));
  }

  /** The node a new channel goes to, by the order in the class comment. */
  leastLoaded(nodes: NodeInfo[], counts: ReadonlyMap<string, number>): NodeInfo {
    if (nodes.length === 0) throw new TypeError('nodes must not be empty');
    const key = (node: NodeInfo): [number, number, number, number] => [
      node.load.cpu >= this.#overloadedCpu ? 1 : 0,
      counts.get(node.nodeId) ?? node.load.channels,
      node.load.peers,
      node.load.cpu,
    ];
    return [...nodes].sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      for (let index = 0; index < ka.length; index++) if (ka[index] !== kb[index]) return ka[index]! - kb[index]!;
      return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
    })[0]!;
  }

  /** Renews every lease this node owns (the background timer does this every leaseMs / 3). Never throws. */
  renew(): Promise<void> {
    if (this.#closed || this.#owned.size === 0 || !this.#connection.isUp) return this.#renewing ?? Promise.resolve();
    this.#renewing ??= (async () => {
      const owned = [...this.#owned];
      try {
        // In batches, so one script never holds Redis long however many channels a node owns.
        for (let start = 0; start < owned.length; start += RENEW_BATCH) {
          const channelIds = owned.slice(start, start + RENEW_BATCH);
          const results = (await this.#connection.run((redis) =>
            redis.eval(
              RENEW_SCRIPT,
              channelIds.length + 1,
              this.#keys.owned(this.nodeId),
              ...channelIds.map((id) => this.#keys.lease(id)),
              this.nodeId,
              this.#registry.publicUrl,
              this.#leaseMs,
              ...channelIds,
            ),
          )) as number[];
          channelIds.forEach((channelId, index) => {
            if (results[index] === 2) this.#logger.info('lease re-asserted', { channelId });
            if (results[index] !== 0 || !this.#owned.delete(channelId)) return;
            this.#logger.warn('lease lost to another node', { channelId });
            this.safeEmit('lost', channelId);
          });
        }
      } catch (error) {
        // Redis away: the channels are served on; the next renewal after Redis returns re-asserts them.
        this.#logger.debug('renew() | failed', { error: (error as Error).message });
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  /** Gives the channel up: deletes its lease only if it is this node's. True when it was. */
  async release(channelId: string): Promise<boolean> {
    this.#owned.delete(channelId);
    const released = await this.#connection.run((redis) =>
      redis.eval(RELEASE_SCRIPT, 2, this.#keys.lease(channelId), this.#keys.owned(this.nodeId), this.nodeId, channelId),
    );
    return released === 1;
  }

  /**
   * Idempotent. Stops renewing; with `release` (the default) gives every owned channel up so others
   * may take them at once; without (a crash, in tests) the leases run out after leaseMs.
   */
  close(options: { release?: boolean } = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closing = (async () => {
      await this.#renewing;
      const channelIds = [...this.#owned];
      this.#owned.clear();
      if (options.release === false || !this.#connection.isUp) return;
      for (const channelId of channelIds) {
        try {
          await this.#connection.run((redis) =>
            redis.eval(RELEASE_SCRIPT, 2, this.#keys.lease(channelId), this.#keys.owned(this.nodeId), this.nodeId, channelId),
          );
        } catch (error) {
          this.#logger.warn('close() | could not release', { channelId, error: (error as Error).message });
        }
      }
    })();
    return this.#closing;
  }

  async #claimFor(channelId: string, owner: string, publicUrl: string, state: LeaseState, ttlMs: number): Promise<ChannelLease> {
    if (typeof channelId !== 'string' || channelId.length === 0 || channelId.length > 256) throw new TypeError('channelId must be a string of 1-256 characters');
    const reply = (await this.#connection.run((redis) =>
      redis.eval(CLAIM_SCRIPT, 2, this.#keys.lease(channelId), this.#keys.owned(owner), owner, publicUrl, state, ttlMs, channelId),
    )) as [string, string, LeaseState, string];
    const [leaseOwner, leaseUrl, leaseState] = reply;
    return { channelId, owner: leaseOwner, publicUrl: leaseUrl, state: leaseState, ours: leaseOwner === this.nodeId };
  }

  #assertOpen(): void {
    if (this.#closed) throw Object.assign(new Error('ChannelLeases closed'), { name: 'InvalidStateError' });
  }
}
