import type { types as ms } from 'mediasoup';
import type { ChannelHandle, ProducerHandle } from '../../../server/plugins/contract';
import type { SupportedMimeType } from '../recorder/protocol';
import type { ChannelMedia, MediaInput, ProducerInfo, RecorderPorts } from './ChannelMedia';
import { describeLayers, type VideoLayers } from './videoLayers';
import { withoutBandwidthEstimation } from './recorderRtpCapabilities';

export interface LocalChannelMediaOptions {
  /**
   * Where the inputs' PlainTransports listen. Default: the recorder's own address (a recorder on this
   * node); the media link gives this node's RTP address, for a recorder on another node.
   */
  listenIp?: ms.TransportListenIp;
  /**
   * Called for each PLI or FIR that came in a recorder's RTCP for a video input: the media link
   * counts them (mediaLinkMetrics), which tells whether a remote recorder's RTCP reaches this node.
   */
  onRtcpKeyFrameRequest?: () => void;
}

/** The media of a channel on this node: PlainTransports and Consumers on its own router. */
export class LocalChannelMedia implements ChannelMedia {
  readonly #channel: ChannelHandle;
  readonly #listenIp: ms.TransportListenIp | undefined;
  readonly #onRtcpKeyFrameRequest: (() => void) | undefined;

  constructor(channel: ChannelHandle, options: LocalChannelMediaOptions = {}) {
    this.#channel = channel;
    this.#listenIp = options.listenIp;
    this.#onRtcpKeyFrameRequest = options.onRtcpKeyFrameRequest;
  }

  get channelId(): string {
    return this.#channel.channelId;
  }

  get closed(): boolean {
    return this.#channel.closed;
  }

  producers(): ProducerInfo[] {
    return this.#channel.producers().map(producerInfo);
  }

  peerCount(): number {
    return this.#channel.peers().length;
  }

  retain(owner: string): void {
    this.#channel.retain(owner);
  }

  release(owner: string): void {
    this.#channel.release(owner);
  }

  async openInput(producerId: string, options: { recorderIp: string; preferredSpatialLayer: number; onClose: () => void }): Promise<MediaInput> {
    const { router } = this.#channel;
    // rtcpMux off: the recorder receives RTCP (sender reports) and sends receiver reports and PLIs
    // from its own RTCP port, which mediasoup accepts only as the connected rtcpPort.
    const transport = await router.createPlainTransport({ listenIp: this.#listenIp ?? { ip: options.recorderIp }, rtcpMux: false, comedia: false });
    try {
      const consumer = await transport.consume({ producerId, rtpCapabilities: withoutBandwidthEstimation(router.rtpCapabilities), paused: true });
      if (consumer.type === 'simulcast' || consumer.type === 'svc') await consumer.setPreferredLayers({ spatialLayer: options.preferredSpatialLayer });
      consumer.on('producerclose', options.onClose);
      if (this.#onRtcpKeyFrameRequest && consumer.kind === 'video') await watchRtcpKeyFrameRequests(consumer, this.#onRtcpKeyFrameRequest);
      return plainInput(transport, consumer, this.#layersOf(producerId, consumer));
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** Only simulcast and SVC consumers take preferred layers (a simple consumer forwards everything). */
  #layersOf(producerId: string, consumer: ms.Consumer): VideoLayers | undefined {
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return undefined;
    const producer = this.#channel.producers().find((handle) => handle.producer.id === producerId)?.producer;
    // The full-size picture the publisher declared at produce (validated there: videoSize), not free-form appData.
    const declared = (producer?.appData as { videoSize?: { width: number; height: number } } | undefined)?.videoSize;
    return producer ? describeLayers(producer.rtpParameters.encodings ?? [], declared ?? {}) : undefined;
  }
}

/** mediasoup traces a consumer's key-frame requests as 'in': those that came in its remote end's RTCP. */
async function watchRtcpKeyFrameRequests(consumer: ms.Consumer, onRequest: () => void): Promise<void> {
  consumer.on('trace', (trace) => {
    if ((trace.type === 'pli' || trace.type === 'fir') && trace.direction === 'in') onRequest();
  });
  await consumer.enableTraceEvent(['pli', 'fir']);
}

export function producerInfo({ producer, peer }: ProducerHandle): ProducerInfo {
  return { producerId: producer.id, kind: producer.kind, paused: producer.paused, uid: peer.uid };
}

/** A mediasoup PlainTransport + Consumer pair as a recorder input. */
export function plainInput(transport: ms.PlainTransport, consumer: ms.Consumer, layers?: VideoLayers): MediaInput {
  const codec = consumer.rtpParameters.codecs[0]!;
  return {
    kind: consumer.kind,
    ...(layers ? { layers } : {}),
    description: {
      kind: consumer.kind,
      codec: {
        mimeType: codec.mimeType as SupportedMimeType,
        payloadType: codec.payloadType,
        clockRate: codec.clockRate,
        ...(codec.channels ? { channels: codec.channels } : {}),
      },
      ssrc: consumer.rtpParameters.encodings![0]!.ssrc!,
      rtcp: { ip: transport.rtcpTuple!.localIp, port: transport.rtcpTuple!.localPort },
    },
    async connect(ports: RecorderPorts) {
      // A recorder without an RTCP socket gets mediasoup's sender reports on its RTP port, where the
      // jitter buffer discards them.
      await transport.connect({ ip: ports.ip, port: ports.rtpPort, rtcpPort: ports.rtcpPort ?? ports.rtpPort });
    },
    resume: () => consumer.resume(),
    pause: () => consumer.pause(),
    async setPreferredLayers(preferred) {
      if (layers) await consumer.setPreferredLayers(preferred);
    },
    requestKeyFrame: () => consumer.requestKeyFrame(),
    close: () => transport.close(),
  };
}
