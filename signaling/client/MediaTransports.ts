import { Device, types as msc } from 'mediasoup-client';
import { CodedError, SignalingErrorCode } from '../errors';
import type { SignalingClient } from '../SignalingClient';
import { cameraEncodings } from './cameraEncodings';

/** What a local track is for; sent as the producer's appData so others (and the recorder) can tell. */
export type MediaSource = 'camera' | 'microphone' | 'screen';

export interface ProduceOptions {
  /** Camera video: send simulcast layers (false or absent: one stream; MediaChannel decides the default). Other sources always send one. */
  simulcast?: boolean;
}

/** The size of a video track's picture now, when the browser says it. */
type VideoSize = { width: number; height: number };

export interface ConsumedTrack {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
}

/**
 * The WebRTC half of a channel session (browser only): a mediasoup-client Device, one send and one
 * receive transport, and the producers and consumers on them. Lives exactly as long as one signaling
 * connection: a reconnect builds a new one, because the server's transports died with the old socket.
 */
export class MediaTransports {
  readonly device: Device;
  readonly #signaling: SignalingClient;
  readonly #producers = new Map<string, msc.Producer>();
  readonly #consumers = new Map<string, msc.Consumer>();
  #sendTransport: Promise<msc.Transport> | undefined;
  #recvTransport: Promise<msc.Transport> | undefined;
  #closed = false;

  private constructor(device: Device, signaling: SignalingClient) {
    this.device = device;
    this.#signaling = signaling;
  }

  /** Loads a Device with the server's router capabilities (asked before join: consume needs ours). */
  static async create(signaling: SignalingClient): Promise<MediaTransports> {
    const { routerRtpCapabilities } = await signaling.request('getRouterRtpCapabilities');
    let device: Device;
    try {
      device = await Device.factory();
    } catch (error) {
      throw new CodedError(SignalingErrorCode.BadRequest, `this browser cannot do WebRTC with mediasoup: ${(error as Error).message}`);
    }
    await device.load({ routerRtpCapabilities });
    return new MediaTransports(device, signaling);
  }

  get rtpCapabilities(): msc.RtpCapabilities {
    return this.device.recvRtpCapabilities;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async produce(track: MediaStreamTrack, source: MediaSource, options: ProduceOptions = {}): Promise<msc.Producer> {
    this.#assertOpen();
    const kind = track.kind === 'audio' ? 'audio' : 'video';
    if (!this.device.canProduce(kind)) {
      throw new CodedError(SignalingErrorCode.BadRequest, `this browser cannot send ${kind} with the server's codecs`);
    }
    const transport = await this.#transport('send');
    const videoSize = kind === 'video' ? sizeOf(track) : undefined;
    // A screen share stays one layer: its text must stay sharp, and it is shown big anyway.
    const encodings = source === 'camera' && (options.simulcast ?? false) && videoSize ? cameraEncodings(videoSize) : undefined;
    // stopTracks false: the caller owns the track (it is republished as is after a reconnect).
    // videoSize rides in appData to the 'produce' handler, which sends it as its own field.
    const producer = await transport.produce({
      track,
      stopTracks: false,
      ...(encodings ? { encodings, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      appData: { source, ...(videoSize ? { videoSize } : {}) },
    });
    this.#producers.set(producer.id, producer);
    producer.observer.on('close', () => this.#producers.delete(producer.id));
    return producer;
  }

  async closeProducer(producer: Pick<msc.Producer, 'id' | 'closed' | 'close'>): Promise<void> {
    if (producer.closed) return;
    producer.close();
    if (!this.#closed) await this.#signaling.request('closeProducer', { producerId: producer.id }).catch(() => undefined);
  }

  /** Consumes a remote producer and resumes it once our side is ready (the server creates it paused). */
  async consume(producerId: string): Promise<ConsumedTrack> {
    this.#assertOpen();
    const transport = await this.#transport('recv');
    const answer = await this.#signaling.request('consume', { transportId: transport.id, producerId });
    const consumer = await transport.consume({
      id: answer.consumerId,
      producerId: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters,
    });
    this.#consumers.set(consumer.id, consumer);
    consumer.observer.on('close', () => this.#consumers.delete(consumer.id));
    await this.#signaling.request('resumeConsumer', { consumerId: consumer.id });
    return { consumerId: consumer.id, producerId, kind: consumer.kind, track: consumer.track };
  }

  /** Tells the server the box a video consumer is shown in, so it sends the layer that fills it; answers the layers it now prefers. */
  async setRenderSize(consumerId: string, size: VideoSize): Promise<{ spatialLayer: number; temporalLayer?: number } | null> {
    this.#assertOpen();
    const answer = await this.#signaling.request('setConsumerRenderSize', { consumerId, width: size.width, height: size.height });
    return answer.preferredLayers;
  }

  /** The server closed a consumer (its producer went away). */
  consumerClosed(consumerId: string): void {
    this.#consumers.get(consumerId)?.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const consumer of this.#consumers.values()) consumer.close();
    for (const producer of this.#producers.values()) producer.close();
    for (const pending of [this.#sendTransport, this.#recvTransport]) void pending?.then((transport) => transport.close(), () => undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new CodedError(SignalingErrorCode.ConnectionClosed, 'the media session is closed');
  }

  /** One transport per direction, created on first use; concurrent callers share the creation. */
  #transport(direction: 'send' | 'recv'): Promise<msc.Transport> {
    const existing = direction === 'send' ? this.#sendTransport : this.#recvTransport;
    if (existing) return existing;
    const created = this.#createTransport(direction);
    if (direction === 'send') this.#sendTransport = created;
    else this.#recvTransport = created;
    // A failed creation must not poison later attempts.
    created.catch(() => {
      if (direction === 'send' && this.#sendTransport === created) this.#sendTransport = undefined;
      if (direction === 'recv' && this.#recvTransport === created) this.#recvTransport = undefined;
    });
    return created;
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<msc.Transport> {
    const info = await this.#signaling.request('createWebRtcTransport', { direction });
    const options = { id: info.transportId, iceParameters: info.iceParameters, iceCandidates: info.iceCandidates, dtlsParameters: info.dtlsParameters };
    const transport = direction === 'send' ? this.device.createSendTransport(options) : this.device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signaling.request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, unknown> }).then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const { videoSize, ...rest } = appData as { videoSize?: VideoSize };
        this.#signaling
          .request('produce', { transportId: transport.id, kind, rtpParameters: rtpParameters as unknown as Record<string, unknown>, appData: rest, ...(videoSize ? { videoSize } : {}) })
          .then(({ producerId }: { producerId: string }) => callback({ id: producerId }), errback);
      });
    }
    if (this.#closed) transport.close();
    return transport;
  }
}

/** The picture size a video track delivers now (rounded: some browsers report fractions), if known. */
function sizeOf(track: MediaStreamTrack): VideoSize | undefined {
  const { width, height } = typeof track.getSettings === 'function' ? track.getSettings() : {};
  if (!width || !height) return undefined;
  return { width: Math.round(width), height: Math.round(height) };
}
