import { CodedError, SignalingErrorCode } from '../../../signaling/errors';
import type { MediaLinkResponses } from '../../../signaling/schemas/mediaLink';
import type { MediaInput, RecorderPorts } from './ChannelMedia';
import type { MediaLinkClient } from './MediaLinkClient';
import type { PreferredLayers, VideoLayers } from './videoLayers';

/**
 * An input opened over a media link: its PlainTransport + Consumer live on the media node, and
 * each call is a request there (with the link's deadline).
 */
export class RemoteMediaInput implements MediaInput {
  readonly inputId: string;
  readonly kind: 'audio' | 'video';
  readonly description: MediaInput['description'];
  readonly layers?: VideoLayers;
  readonly #link: MediaLinkClient;
  readonly #onClose: () => void;
  readonly #forget: () => void;
  #closed = false;

  constructor(link: MediaLinkClient, opened: MediaLinkResponses['openInput'], callbacks: { onClose: () => void; forget: () => void }) {
    this.#link = link;
    this.inputId = opened.inputId;
    this.kind = opened.kind;
    this.description = opened.description;
    if (opened.layers) this.layers = opened.layers;
    this.#onClose = callbacks.onClose;
    this.#forget = callbacks.forget;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async connect(ports: RecorderPorts): Promise<void> {
    this.#assertOpen();
    await this.#link.request('connect', { inputId: this.inputId, ip: ports.ip, rtpPort: ports.rtpPort, ...(ports.rtcpPort !== undefined ? { rtcpPort: ports.rtcpPort } : {}) });
  }

  async resume(): Promise<void> {
    this.#assertOpen();
    await this.#link.request('resume', { inputId: this.inputId });
  }

  async pause(): Promise<void> {
    this.#assertOpen();
    await this.#link.request('pause', { inputId: this.inputId });
  }

  async setPreferredLayers(layers: PreferredLayers): Promise<void> {
    this.#assertOpen();
    if (this.layers) await this.#link.request('setPreferredLayers', { inputId: this.inputId, ...layers });
  }

  async requestKeyFrame(): Promise<void> {
    this.#assertOpen();
    await this.#link.request('requestKeyFrame', { inputId: this.inputId });
  }

  /** Closes it on the media node too. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget();
    if (!this.#link.closed) this.#link.request('closeInput', { inputId: this.inputId }).catch(() => undefined);
  }

  /** It closed on the media node (its producer went) or the link is gone: tells its owner. */
  ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget();
    this.#onClose();
  }

  #assertOpen(): void {
    if (this.#closed) throw new CodedError(SignalingErrorCode.NotFound, `input ${this.inputId} is closed`);
  }
}
