import type { ChannelType } from '../signaling/protocol';
import type { PluginHost } from './plugins/PluginHost';
import { MEDIA_CODECS } from './mediaCodecs';
import { Channel } from './Channel';
import type { WorkerPool } from './WorkerPool';

/** Cluster mode: asked before a channel is created here, told when one closes (server/cluster/ClusterChannels). */
export interface ChannelPlacement {
  /** Resolves when the channel may live on this node; throws (REDIRECT, CLUSTER_UNAVAILABLE) otherwise. */
  admit(channelId: string): Promise<void>;
  closed(channelId: string): void;
}

/**
 * All open channels. Creation is serialised per channel id, so two simultaneous first joins get the
 * same channel rather than two routers.
 */
export class ChannelRegistry {
  readonly #channels = new Map<string, Channel>();
  readonly #creating = new Map<string, Promise<Channel>>();
  readonly #pool: WorkerPool;
  readonly #plugins: PluginHost;
  #placement: ChannelPlacement | undefined;

  constructor(pool: WorkerPool, plugins: PluginHost) {
    this.#pool = pool;
    this.#plugins = plugins;
  }

  /** Cluster mode: where channels may be created (set once, before the server takes connections). */
  setPlacement(placement: ChannelPlacement): void {
    this.#placement = placement;
  }

  get size(): number {
    return this.#channels.size;
  }

  find(channelId: string): Channel | undefined {
    return this.#channels.get(channelId);
  }

  list(): Channel[] {
    return [...this.#channels.values()];
  }

  /**
   * `type` is the caller's decision for the channel's type, honoured if nobody decided before;
   * undefined (an audience join) leaves it to the next caller that decides.
   */
  async getOrCreate(channelId: string, type?: ChannelType): Promise<Channel> {
    const channel = await this.#getOrCreate(channelId, type);
    if (type) channel.decideType(type);
    return channel;
  }

  async #getOrCreate(channelId: string, type: ChannelType | undefined): Promise<Channel> {
    const existing = this.#channels.get(channelId);
    if (existing && !existing.closed) return existing;
    const pending = this.#creating.get(channelId);
    if (pending) return pending;
    const creation = this.#create(channelId, type).finally(() => this.#creating.delete(channelId));
    this.#creating.set(channelId, creation);
    return creation;
  }

  async #create(channelId: string, type: ChannelType | undefined): Promise<Channel> {
    await this.#placement?.admit(channelId);
    let router;
    try {
      router = await this.#pool.nextWorker().createRouter({ mediaCodecs: MEDIA_CODECS });
    } catch (error) {
      this.#placement?.closed(channelId);
      throw error;
    }
    const channel = new Channel({ channelId, type, router, plugins: this.#plugins });
    this.#channels.set(channelId, channel);
    channel.on('close', () => {
      if (this.#channels.get(channelId) === channel) this.#channels.delete(channelId);
      this.#placement?.closed(channelId);
    });
    this.#plugins.emit('channelCreated', channel);
    return channel;
  }

  closeAll(reason: string): void {
    for (const channel of this.list()) channel.close(reason);
  }
}
