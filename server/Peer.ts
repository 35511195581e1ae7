import type { types as ms } from 'mediasoup';
import type { PeerHandle } from './plugins/contract';
import type { JoinParam, PeerInfo, Role } from '../signaling/protocol';
import { CodedError, SignalingErrorCode } from '../signaling/errors';

export interface PeerOptions {
  peerId: string;
  uid: string;
  displayName: string;
  role: Role;
  privileges: { publish: boolean; record: boolean };
  joinParam: JoinParam | undefined;
  /** Delivers a notification to this peer's socket. */
  send: (notification: string, data: unknown) => void;
}

/**
 * One participant of a channel and the mediasoup objects it owns. close() is idempotent and
 * closes every transport, which closes its producers and consumers.
 */
export class Peer implements PeerHandle {
  readonly peerId: string;
  readonly uid: string;
  readonly displayName: string;
  readonly role: Role;
  readonly privileges: { readonly publish: boolean; readonly record: boolean };
  readonly joinParam: JoinParam | undefined;
  rtpCapabilities: ms.RtpCapabilities | undefined;
  readonly transports = new Map<string, ms.Transport>();
  readonly producers = new Map<string, ms.Producer>();
  readonly consumers = new Map<string, ms.Consumer>();
  readonly #send: PeerOptions['send'];
  #closed = false;

  constructor(options: PeerOptions) {
    this.peerId = options.peerId;
    this.uid = options.uid;
    this.displayName = options.displayName;
    this.role = options.role;
    this.privileges = options.privileges;
    this.joinParam = options.joinParam;
    this.#send = options.send;
  }

  get closed(): boolean {
    return this.#closed;
  }

  notify(notification: string, data: unknown): void {
    if (!this.#closed) this.#send(notification, data);
  }


  info(): PeerInfo {
    return {
      peerId: this.peerId,
      uid: this.uid,
      displayName: this.displayName,
      role: this.role,
      producers: [...this.producers.values()].map((producer) => ({
        producerId: producer.id,
        kind: producer.kind,
        paused: producer.paused,
      })),
    };
  }

  transport(transportId: string): ms.Transport {
    const transport = this.transports.get(transportId);
    if (!transport) throw new CodedError(SignalingErrorCode.NotFound, `transport ${transportId} not found`);
    return transport;
  }

  producer(producerId: string): ms.Producer {
    const producer = this.producers.get(producerId);
    if (!producer) throw new CodedError(SignalingErrorCode.NotFound, `producer ${producerId} not found`);
    return producer;
  }

  consumer(consumerId: string): ms.Consumer {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) throw new CodedError(SignalingErrorCode.NotFound, `consumer ${consumerId} not found`);
    return consumer;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
