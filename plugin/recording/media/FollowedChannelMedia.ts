import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../../../server/logger';
import { CodedError, SignalingErrorCode } from '../../../signaling/errors';
import type { ChannelMedia, MediaFollower, MediaInput, ProducerInfo } from './ChannelMedia';
import type { RemoteChannelMedia } from './RemoteChannelMedia';

const logger = new Logger('FollowedChannelMedia');

export interface FollowedChannelMediaOptions {
  channelId: string;
  recorderIp: string;
  /** A media link to the channel on the node at `url`; `create`: open the channel there if needed. */
  connect(url: string, create: boolean): Promise<RemoteChannelMedia>;
  /** The publicUrl of the node the channel lives on now (undefined while none does). */
  owner(channelId: string): Promise<string | undefined>;
  /** How often the channel's node is looked for again after its link was lost. */
  retryMs?: number;
}

/**
 * A channel on another node, followed for a recording across that node's death: when the media
 * link is lost (the node died, was stopped, or lost the channel), the recording loses its inputs —
 * black tiles and silence, and its own maxIdleTime countdown — while the channel's new node is
 * looked for; once the peers rejoined and the channel lives again (on any node), a new link gives
 * the recording their streams again, in the same file.
 */
export class FollowedChannelMedia implements ChannelMedia {
  readonly channelId: string;
  readonly recorderIp: string;
  readonly #options: FollowedChannelMediaOptions;
  #current: RemoteChannelMedia | undefined;
  #follower: MediaFollower | undefined;
  #released = false;

  private constructor(options: FollowedChannelMediaOptions, first: RemoteChannelMedia | undefined) {
    this.channelId = options.channelId;
    this.recorderIp = options.recorderIp;
    this.#options = options;
    this.#current = first;
    if (first) this.#watch(first);
    else void this.#relink();
  }

  /** The first link, to the node the start found the channel on (opening the channel there if needed). */
  static async open(url: string, options: FollowedChannelMediaOptions): Promise<FollowedChannelMedia> {
    return new FollowedChannelMedia(options, await options.connect(url, true));
  }

  /**
   * A channel a recording carries on with after its recorder node died: linked at once when it
   * lives at `url`, else waited for (no inputs until the channel is back, as after a link loss).
   */
  static async resume(url: string | undefined, options: FollowedChannelMediaOptions): Promise<FollowedChannelMedia> {
    const first = url ? await options.connect(url, false).catch(() => undefined) : undefined;
    return new FollowedChannelMedia(options, first);
  }

  /** Only once the recording let go: while the channel's node is away the recording waits. */
  get closed(): boolean {
    return this.#released;
  }

  producers(): ProducerInfo[] {
    return this.#current?.producers() ?? [];
  }

  peerCount(): number {
    return this.#current?.peerCount() ?? 0;
  }

  openInput(producerId: string, options: { recorderIp: string; preferredSpatialLayer: number; onClose: () => void }): Promise<MediaInput> {
    if (!this.#current) return Promise.reject(new CodedError(SignalingErrorCode.ChannelClosed, `the node of channel ${this.channelId} is away; waiting for the channel to come back`));
    return this.#current.openInput(producerId, options);
  }

  retain(): void {}

  release(): void {
    this.#released = true;
    this.#current?.close();
    this.#current = undefined;
  }

  follow(recording: MediaFollower): void {
    this.#follower = recording;
  }

  #watch(media: RemoteChannelMedia): void {
    media.on('producerAdded', (producer) => this.#follower?.addProducer(producer));
    media.on('producerClosed', (producerId) => this.#follower?.removeProducer(producerId));
    media.on('producerPaused', (producerId, paused) => this.#follower?.setProducerPaused(producerId, paused));
    media.on('peerCount', (count) => this.#follower?.updateIdle(count));
    media.on('closed', (reason) => this.#lost(media, reason));
  }

  #lost(media: RemoteChannelMedia, reason: string): void {
    if (this.#released || media !== this.#current) return;
    this.#current = undefined;
    logger.warn(`the link to channel ${this.channelId} is lost (${reason}): the recording waits for the channel to come back`);
    for (const producer of media.producers()) this.#follower?.removeProducer(producer.producerId);
    this.#follower?.updateIdle(0);
    void this.#relink();
  }

  async #relink(): Promise<void> {
    const retryMs = this.#options.retryMs ?? 1000;
    while (!this.#released) {
      await sleep(retryMs);
      const url = await this.#options.owner(this.channelId).catch(() => undefined);
      if (!url || this.#released) continue;
      let media: RemoteChannelMedia;
      try {
        media = await this.#options.connect(url, false);
      } catch {
        continue;
      }
      if (this.#released) {
        media.close();
        return;
      }
      this.#current = media;
      this.#watch(media);
      logger.info(`channel ${this.channelId} is back at ${url}: its streams go to the recording again`);
      for (const producer of media.producers()) this.#follower?.addProducer(producer);
      this.#follower?.updateIdle(media.peerCount());
      return;
    }
  }
}
