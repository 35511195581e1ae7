import type { types as ms } from 'mediasoup';
import type { ChannelHandle, ProducerHandle } from './plugins/contract';
import type { PluginHost } from './plugins/PluginHost';
import { CodedError, ErrorCode, SignalingErrorCode } from '../signaling/errors';
import type { ChannelProperties, ChannelType } from '../signaling/protocol';
import { Logger } from './logger';
import type { Peer } from './Peer';
import { TypedEmitter } from './TypedEmitter';

const logger = new Logger('Channel');

export type ChannelEvents = {
  close: [reason: string, code: ErrorCode];
};

/**
 * A conference: one mediasoup router, its peers, and its observable properties (recordState…).
 * close() is idempotent: it tells every peer why, closes them and the router, then emits 'close'.
 */
export class Channel extends TypedEmitter<ChannelEvents> implements ChannelHandle {
  readonly channelId: string;
  #type: ChannelType | undefined;
  readonly router: ms.Router;
  readonly #peers = new Map<string, Peer>();
  readonly #properties: ChannelProperties = { recordState: 'None', recordingId: null };
  readonly #retainers = new Set<string>();
  readonly #plugins: PluginHost;
  #closed = false;

  /** `type` undefined: not decided yet (an audience member opened the channel); see decideType. */
  constructor(options: { channelId: string; type: ChannelType | undefined; router: ms.Router; plugins: PluginHost }) {
    super();
    this.channelId = options.channelId;
    this.#type = options.type;
    this.router = options.router;
    this.#plugins = options.plugins;
    this.router.on('workerclose', () => {
      this.close('the media worker carrying this channel died', SignalingErrorCode.ChannelClosed);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Until a host (or a backend) decides the type, the channel behaves as Live, the stricter of the
   * two: the audience who opened it receives and publishes nothing, whatever type it asked for.
   */
  get type(): ChannelType {
    return this.#type ?? 'Live';
  }

  /** The first decision stands; later ones are ignored (the channel's rules do not change under its peers twice). */
  decideType(type: ChannelType): void {
    this.#type ??= type;
  }


  peers(): Peer[] {
    return [...this.#peers.values()];
  }


  producers(): ProducerHandle[] {
    return this.peers().flatMap((peer) => [...peer.producers.values()].map((producer) => ({ producer, peer })));
  }

  findProducer(producerId: string): ProducerHandle | undefined {
    return this.producers().find((handle) => handle.producer.id === producerId);
  }

  getProperty<K extends keyof ChannelProperties>(name: K): ChannelProperties[K] {
    return this.#properties[name];
  }

  properties(): ChannelProperties {
    return { ...this.#properties };
  }

  setProperties(patch: Partial<ChannelProperties>): void {
    if (this.#closed) return;
    const changed = (Object.keys(patch) as Array<keyof ChannelProperties>).filter((key) => this.#properties[key] !== patch[key]);
    if (changed.length === 0) return;
    Object.assign(this.#properties, patch);
    this.broadcast('propertyChange', { changed, properties: this.properties() });
  }

  broadcast(notification: string, data: unknown, exceptPeerId?: string): void {
    for (const peer of this.#peers.values()) {
      if (peer.peerId !== exceptPeerId) peer.notify(notification, data);
    }
  }

  retain(owner: string): void {
    this.#retainers.add(owner);
  }

  release(owner: string): void {
    this.#retainers.delete(owner);
    this.#closeIfAbandoned();
  }

  addPeer(peer: Peer): void {
    this.#assertOpen();
    this.#peers.set(peer.peerId, peer);
    this.broadcast('peerJoined', { peer: peer.info() }, peer.peerId);
    this.#plugins.emit('peerJoined', this, peer);
  }

  removePeer(peer: Peer): void {
    if (!this.#peers.delete(peer.peerId)) return;
    // Producers first, so other peers hear producerClosed before peerLeft.
    for (const producer of [...peer.producers.values()]) this.closeProducer(peer, producer);
    peer.close();
    this.broadcast('peerLeft', { peerId: peer.peerId, uid: peer.uid });
    this.#plugins.emit('peerLeft', this, peer);
    this.#closeIfAbandoned();
  }

  addProducer(peer: Peer, producer: ms.Producer): void {
    peer.producers.set(producer.id, producer);
    producer.on('transportclose', () => this.closeProducer(peer, producer));
    this.broadcast('newProducer', { peerId: peer.peerId, producer: { producerId: producer.id, kind: producer.kind, paused: producer.paused } }, peer.peerId);
    this.#plugins.emit('producerCreated', this, { producer, peer });
  }

  closeProducer(peer: Peer, producer: ms.Producer): void {
    if (!peer.producers.delete(producer.id)) return;
    producer.close();
    this.broadcast('producerClosed', { peerId: peer.peerId, producerId: producer.id }, peer.peerId);
    this.#plugins.emit('producerClosed', this, { producer, peer });
  }

  async setProducerPaused(peer: Peer, producer: ms.Producer, paused: boolean): Promise<void> {
    if (paused) await producer.pause();
    else await producer.resume();
    this.broadcast(paused ? 'producerPaused' : 'producerResumed', { peerId: peer.peerId, producerId: producer.id }, peer.peerId);
    this.#plugins.emit(paused ? 'producerPaused' : 'producerResumed', this, { producer, peer });
  }

  /** Creates a paused consumer; the client resumes it once it is ready to receive. */
  async consume(peer: Peer, transport: ms.Transport, producerId: string, rtpCapabilities: ms.RtpCapabilities | undefined): Promise<ms.Consumer> {
    const handle = this.findProducer(producerId);
    if (!handle) throw new CodedError(SignalingErrorCode.NotFound, `producer ${producerId} not found in this channel`);
    if (!rtpCapabilities) throw new CodedError(SignalingErrorCode.CannotConsume, 'send rtpCapabilities (join or setRtpCapabilities) before consuming');
    if (!this.router.canConsume({ producerId, rtpCapabilities })) {
      throw new CodedError(SignalingErrorCode.CannotConsume, 'your rtpCapabilities cannot receive this producer');
    }
    const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
    peer.consumers.set(consumer.id, consumer);
    const closeWith = (reason: string): void => {
      if (!peer.consumers.delete(consumer.id)) return;
      consumer.close();
      peer.notify('consumerClosed', { consumerId: consumer.id, reason });
    };
    consumer.on('producerclose', () => closeWith('producer closed'));
    consumer.on('transportclose', () => peer.consumers.delete(consumer.id));
    return consumer;
  }

  close(reason: string, code: ErrorCode = SignalingErrorCode.ChannelClosed): void {
    if (this.#closed) return;
    this.#closed = true;
    logger.info(`close() | ${reason}`, { channelId: this.channelId });
    this.broadcast('channelClosed', { channelId: this.channelId, reason, code });
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    this.router.close();
    this.#plugins.emit('channelClosed', this, reason);
    this.safeEmit('close', reason, code);
  }

  #closeIfAbandoned(): void {
    if (!this.#closed && this.#peers.size === 0 && this.#retainers.size === 0) {
      this.close('the last peer left', SignalingErrorCode.ChannelClosed);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new CodedError(SignalingErrorCode.ChannelClosed, `channel ${this.channelId} is closed`);
  }
}
