/**
 * Names of the cluster's Redis keys. Every key starts with the cluster's prefix, so several clusters
 * (or test runs) can share one Redis without seeing each other.
 */
export class ClusterKeys {
  constructor(readonly prefix: string = 'confrec') {
    if (!/^[A-Za-z0-9:_-]{1,64}$/.test(prefix)) throw new TypeError('prefix must be 1-64 of A-Z a-z 0-9 : _ -');
  }

  /** String with a TTL: a node's last heartbeat (JSON NodeInfo). */
  node(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}`;
  }

  /** Sorted set of node ids ever heard of (score: last heartbeat), the index list() reads. */
  get nodes(): string {
    return `${this.prefix}:nodes`;
  }

  /** Hash with a TTL: a channel's lease (owner, publicUrl, state). */
  lease(channelId: string): string {
    return `${this.prefix}:lease:${channelId}`;
  }

  /** Sorted set of the channels leased to a node (score: the lease's expiry, Redis time in ms). */
  owned(nodeId: string): string {
    return `${this.prefix}:owned:${nodeId}`;
  }

  /** The stream of recording events every node publishes to and reads from. */
  get events(): string {
    return `${this.prefix}:events`;
  }
}
