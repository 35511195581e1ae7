import { CodedError, SignalingErrorCode } from '../../signaling/errors';
import type { ChannelPlacement } from '../ChannelRegistry';
import { Logger } from '../logger';
import type { ClusterMember } from './ClusterMember';

const logger = new Logger('ClusterChannels');

/** What ClusterChannels needs of the server's channels: find one to close it when its lease is lost. */
export interface LocalChannels {
  find(channelId: string): { close(reason: string, code: SignalingErrorCode): void } | undefined;
}

/**
 * The channel path's part of the cluster: a channel is created on this node only when its lease is
 * (or becomes) this node's; a join for one that lives elsewhere is answered REDIRECT with the owner's
 * publicUrl — on a node without the media role (a recorder node) that is every join: to the
 * channel's owner, or for a new channel to the media node placement chose. A channel whose lease
 * another node took is closed (CHANNEL_MOVED) so its clients join again and follow it; a channel
 * that closes gives its lease up.
 *
 * Channels already open here are served without asking Redis (ChannelRegistry only asks before it
 * creates one), so a Redis outage stops new channels (CLUSTER_UNAVAILABLE) and nothing else.
 */
export class ClusterChannels implements ChannelPlacement {
  readonly #member: ClusterMember;
  readonly #channels: LocalChannels;
  readonly #releases = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(member: ClusterMember, channels: LocalChannels) {
    this.#member = member;
    this.#channels = channels;
    member.leases.on('lost', (channelId) => {
      // The lease is another node's now (this node was cut off past leaseMs): two copies of one
      // channel must not go on, and renewing stopped already (ChannelLeases dropped it).
      this.#channels.find(channelId)?.close('the channel moved to another cluster node; join again', SignalingErrorCode.ChannelMoved);
    });
    // Redis is back (maybe empty, after a restart): re-assert this node's leases at once, before
    // another node's first join could place one of its channels elsewhere.
    member.connection.on('up', () => void member.leases.renew());
  }

  get member(): ClusterMember {
    return this.#member;
  }

  /** Resolves when the channel may be created here; REDIRECT to its node, or CLUSTER_UNAVAILABLE. */
  async admit(channelId: string): Promise<void> {
    if (this.#closing) throw new CodedError(SignalingErrorCode.ChannelClosed, 'the server is shutting down');
    const lease = await this.#member.leases.placement(channelId);
    if (lease.ours) return;
    throw new CodedError(SignalingErrorCode.Redirect, `channel ${channelId} lives on cluster node ${lease.owner}: join at ${lease.publicUrl}`, { url: lease.publicUrl });
  }

  /** The channel closed here: its lease goes, so the next first join may place it anywhere. */
  closed(channelId: string): void {
    if (!this.#member.leases.owned.has(channelId)) return;
    const release = this.#member.leases.release(channelId).catch((error: Error) => {
      // Redis away: the lease is no longer renewed and runs out within leaseMs.
      logger.warn('closed() | could not release the lease', { channelId, error: error.message });
    });
    this.#releases.add(release);
    void release.finally(() => this.#releases.delete(release));
  }

  /** Idempotent: waits for pending releases, then leaves the cluster (leases released, registry entry removed). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#releases]);
      await this.#member.close();
    })();
    return this.#closing;
  }
}
