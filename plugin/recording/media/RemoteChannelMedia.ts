import { CodedError, SignalingErrorCode } from '../../../signaling/errors';
import type { MediaLinkNotification, MediaLinkNotifications } from '../../../signaling/schemas/mediaLink';
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import type { ChannelMedia, MediaInput, ProducerInfo } from './ChannelMedia';
import { MediaLinkClient } from './MediaLinkClient';
import { RemoteMediaInput } from './RemoteMediaInput';

const logger = new Logger('RemoteChannelMedia');

export type RemoteChannelMediaEvents = {
  producerAdded: [producer: ProducerInfo];
  producerClosed: [producerId: string];
  producerPaused: [producerId: string, paused: boolean];
  peerCount: [count: number];
  /** The channel closed on its node, the link is lost, or close() was called: `closed` is true from now on. */
  closed: [reason: string];
};

export interface RemoteChannelMediaOptions {
  /** The publicUrl of the node the channel lives on. */
  url: string;
  channelId: string;
  /** The HTTP API's credentials (every node of a cluster shares them). */
  credentials: { appId: string; secret: string };
  /** This node's id (names the link's hold on the channel there). */
  nodeId: string;
  /** Open the channel there if it is not open yet (its node's lease: a backend records a channel nobody joined). */
  create?: boolean;
  /** Deadline of every request and of the connection. Default 5 s. */
  requestTimeoutMs?: number;
  pingIntervalMs?: number;
}

/**
 * The media of a channel that lives on another node, over a media link to it: producers and peer
 * count kept current from the link's notifications (and told as events), inputs opened there, with
 * RTP sent straight from that node to the recorder. The link holds the channel open on its node,
 * so retain/release do nothing here; close() lets go of it.
 */
export class RemoteChannelMedia extends TypedEmitter<RemoteChannelMediaEvents> implements ChannelMedia {
  readonly channelId: string;
  readonly #producers = new Map<string, ProducerInfo>();
  readonly #inputs = new Map<string, RemoteMediaInput>();
  /** inputClosed for inputs whose openInput answer is still being taken in (both came in one read). */
  readonly #closedEarly = new Set<string>();
  #opening = 0;
  #peerCount = 0;
  #link: MediaLinkClient | undefined;
  #closeReason: string | undefined;

  private constructor(channelId: string) {
    super();
    this.channelId = channelId;
  }

  /**
   * Opens the link; resolves once the channel's snapshot is in. Rejects with the node's refusal
   * (UNAUTHORIZED, NOT_FOUND: the channel is not open there), NODE_UNAVAILABLE or TIMEOUT.
   */
  static async connect(options: RemoteChannelMediaOptions): Promise<RemoteChannelMedia> {
    const media = new RemoteChannelMedia(options.channelId);
    media.#link = await MediaLinkClient.open({
      url: options.url,
      channelId: options.channelId,
      ...(options.create ? { create: true } : {}),
      nodeId: options.nodeId,
      credentials: options.credentials,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs, connectTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
      onNotification: (name, data) => media.#onNotification(name, data),
      onClose: (reason) => media.#ended(reason),
    });
    return media;
  }

  get closed(): boolean {
    return this.#closeReason !== undefined;
  }

  /** Why it closed (undefined while open). */
  get closeReason(): string | undefined {
    return this.#closeReason;
  }

  producers(): ProducerInfo[] {
    return [...this.#producers.values()].map((producer) => ({ ...producer }));
  }

  peerCount(): number {
    return this.#peerCount;
  }

  /** The link itself holds the channel on its node. */
  retain(): void {}

  /** The recording is done with the channel: the link goes. */
  release(): void {
    this.close();
  }

  /** `recorderIp` is not needed here: the recorder's address goes with connect(). */
  async openInput(producerId: string, options: { recorderIp: string; preferredSpatialLayer: number; onClose: () => void }): Promise<MediaInput> {
    const link = this.#link!;
    if (this.closed) throw new CodedError(SignalingErrorCode.ChannelClosed, `channel ${this.channelId} is closed (${this.#closeReason})`);
    this.#opening++;
    try {
      const opened = await link.request('openInput', { producerId, preferredSpatialLayer: options.preferredSpatialLayer });
      if (this.#closedEarly.delete(opened.inputId)) throw new CodedError(SignalingErrorCode.NotFound, `producer ${producerId} closed as its input opened`);
      const input = new RemoteMediaInput(link, opened, { onClose: options.onClose, forget: () => this.#inputs.delete(opened.inputId) });
      if (this.closed) {
        input.ended();
        throw new CodedError(SignalingErrorCode.ChannelClosed, `channel ${this.channelId} closed as the input opened (${this.#closeReason})`);
      }
      this.#inputs.set(opened.inputId, input);
      return input;
    } finally {
      if (--this.#opening === 0) this.#closedEarly.clear();
    }
  }

  /** Closes the link: the node lets go of the channel and closes this link's inputs. Idempotent. */
  close(): void {
    this.#link?.close('the recording is done with the channel');
  }

  #onNotification<N extends MediaLinkNotification>(name: N, data: MediaLinkNotifications[N]): void {
    const note = { name, data } as { [K in MediaLinkNotification]: { name: K; data: MediaLinkNotifications[K] } }[MediaLinkNotification];
    switch (note.name) {
      case 'snapshot':
        for (const producer of note.data.producers) this.#producers.set(producer.producerId, producer);
        this.#peerCount = note.data.peerCount;
        break;
      case 'producerAdded':
        if (this.#producers.has(note.data.producerId)) return;
        this.#producers.set(note.data.producerId, note.data);
        this.safeEmit('producerAdded', { ...note.data });
        break;
      case 'producerClosed':
        if (!this.#producers.delete(note.data.producerId)) return;
        this.safeEmit('producerClosed', note.data.producerId);
        break;
      case 'producerPaused': {
        const producer = this.#producers.get(note.data.producerId);
        if (!producer || producer.paused === note.data.paused) return;
        producer.paused = note.data.paused;
        this.safeEmit('producerPaused', producer.producerId, producer.paused);
        break;
      }
      case 'peerCount':
        this.#peerCount = note.data.count;
        this.safeEmit('peerCount', note.data.count);
        break;
      case 'inputClosed': {
        const input = this.#inputs.get(note.data.inputId);
        if (input) input.ended();
        else if (this.#opening > 0) this.#closedEarly.add(note.data.inputId);
        break;
      }
      case 'channelClosed':
        this.#ended(`channel ${this.channelId} closed on its node: ${note.data.reason}`);
        this.#link?.close(this.#closeReason);
        break;
    }
  }

  #ended(reason: string): void {
    if (this.closed) return;
    this.#closeReason = reason;
    logger.info(`the media of channel ${this.channelId} is gone: ${reason}`);
    for (const input of [...this.#inputs.values()]) input.ended();
    this.#inputs.clear();
    this.safeEmit('closed', reason);
  }
}
