import type { types as ms } from 'mediasoup';
import { CodedError, SignalingErrorCode } from '../../../signaling/errors';
import type { MediaLinkMethod, MediaLinkNotifications, MediaLinkRequestData, MediaLinkResponses } from '../../../signaling/schemas/mediaLink';
import { Logger } from '../../../server/logger';
import type { ChannelHandle } from '../../../server/plugins/contract';
import type { MediaInput } from './ChannelMedia';
import { LocalChannelMedia } from './LocalChannelMedia';

const logger = new Logger('MediaLinkSession');

/** How a recorder node asked for a key frame: a PLI/FIR in its RTCP, or requestKeyFrame on the link. */
export type KeyFrameRequestVia = 'rtcp' | 'link';

type Notify = <N extends keyof MediaLinkNotifications>(notification: N, data: MediaLinkNotifications[N]) => void;
type Handlers = { [M in MediaLinkMethod]: (data: MediaLinkRequestData<M>) => Promise<MediaLinkResponses[M]> };

interface LinkInput {
  producerId: string;
  media: MediaInput;
  connected: boolean;
}

/**
 * One media link on the media node: a recorder node's hold on one channel of this node (the
 * channel is retained until the link closes) and the inputs it opened, each a PlainTransport +
 * Consumer (LocalChannelMedia) that sends RTP to the recorder node. Requests arrive validated.
 */
export class MediaLinkSession {
  readonly channelId: string;
  /** Names this link's hold on the channel (retain/release) and its log lines. */
  readonly owner: string;
  readonly #channel: ChannelHandle;
  readonly #media: LocalChannelMedia;
  readonly #notify: Notify;
  readonly #onKeyFrameRequest: (via: KeyFrameRequestVia) => void;
  readonly #inputs = new Map<string, LinkInput>();
  readonly #logger: Logger;
  #inputCounter = 0;
  #closed = false;

  readonly #handlers: Handlers = {
    openInput: (data) => this.#openInput(data),
    connect: async ({ inputId, ip, rtpPort, rtcpPort }) => {
      const input = this.#input(inputId);
      if (input.connected) throw new CodedError(SignalingErrorCode.BadRequest, `input ${inputId} is connected already`);
      input.connected = true;
      await input.media.connect({ ip, rtpPort, ...(rtcpPort !== undefined ? { rtcpPort } : {}) });
      return {};
    },
    resume: async ({ inputId }) => {
      await this.#input(inputId).media.resume();
      return {};
    },
    pause: async ({ inputId }) => {
      await this.#input(inputId).media.pause();
      return {};
    },
    setPreferredLayers: async ({ inputId, spatialLayer, temporalLayer }) => {
      await this.#input(inputId).media.setPreferredLayers({ spatialLayer, temporalLayer });
      return {};
    },
    requestKeyFrame: async ({ inputId }) => {
      const input = this.#input(inputId);
      this.#onKeyFrameRequest('link');
      await input.media.requestKeyFrame();
      return {};
    },
    closeInput: async ({ inputId }) => {
      this.#inputs.get(inputId)?.media.close();
      this.#inputs.delete(inputId);
      return {};
    },
  };

  constructor(options: { channel: ChannelHandle; owner: string; listenIp: ms.TransportListenIp; notify: Notify; onKeyFrameRequest?: (via: KeyFrameRequestVia) => void }) {
    const { channel } = options;
    this.channelId = channel.channelId;
    this.owner = options.owner;
    this.#channel = channel;
    this.#onKeyFrameRequest = options.onKeyFrameRequest ?? (() => undefined);
    this.#media = new LocalChannelMedia(channel, { listenIp: options.listenIp, onRtcpKeyFrameRequest: () => this.#onKeyFrameRequest('rtcp') });
    this.#notify = options.notify;
    this.#logger = logger.child({ channelId: channel.channelId, link: options.owner });
    channel.retain(this.owner);
    this.#notify('snapshot', { producers: this.#media.producers(), peerCount: this.#media.peerCount() });
  }

  get inputCount(): number {
    return this.#inputs.size;
  }

  handle(method: MediaLinkMethod, data: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(new CodedError(SignalingErrorCode.ChannelClosed, `the link to channel ${this.channelId} is closed`));
    return (this.#handlers[method] as (data: unknown) => Promise<unknown>)(data);
  }

  /** Passes a change of the channel on to the recorder node. */
  notify: Notify = (notification, data) => {
    if (!this.#closed) this.#notify(notification, data);
  };

  /** Closes the inputs and lets go of the channel (which closes if nobody else holds it). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const input of this.#inputs.values()) input.media.close();
    this.#inputs.clear();
    this.#channel.release(this.owner);
    this.#logger.debug('close() | link closed');
  }

  async #openInput({ producerId, preferredSpatialLayer }: MediaLinkRequestData<'openInput'>): Promise<MediaLinkResponses['openInput']> {
    if (this.#channel.closed) throw new CodedError(SignalingErrorCode.ChannelClosed, `channel ${this.channelId} is closed`);
    if (!this.#channel.producers().some(({ producer }) => producer.id === producerId)) {
      throw new CodedError(SignalingErrorCode.NotFound, `producer ${producerId} is not in channel ${this.channelId}`);
    }
    // One input per producer: what a link may hold on this node is bounded by the channel's producers.
    if ([...this.#inputs.values()].some((input) => input.producerId === producerId)) {
      throw new CodedError(SignalingErrorCode.BadRequest, `producer ${producerId} has an input on this link already`);
    }
    const inputId = `i${++this.#inputCounter}`;
    let producerGone = false;
    const media = await this.#media.openInput(producerId, {
      // Unused with listenIp given: the recorder's address comes with connect.
      recorderIp: '',
      preferredSpatialLayer,
      onClose: () => {
        if (!this.#inputs.has(inputId)) {
          producerGone = true;
          return;
        }
        this.#inputs.get(inputId)!.media.close();
        this.#inputs.delete(inputId);
        this.notify('inputClosed', { inputId });
      },
    });
    if (producerGone || this.#closed) {
      media.close();
      throw new CodedError(producerGone ? SignalingErrorCode.NotFound : SignalingErrorCode.ChannelClosed, `producer ${producerId} closed while its input opened`);
    }
    this.#inputs.set(inputId, { producerId, media, connected: false });
    return { inputId, kind: media.kind, description: media.description, ...(media.layers ? { layers: media.layers } : {}) };
  }

  #input(inputId: string): LinkInput {
    const input = this.#inputs.get(inputId);
    if (!input) throw new CodedError(SignalingErrorCode.NotFound, `no input ${inputId} on this link (closed, or never opened)`);
    return input;
  }
}
