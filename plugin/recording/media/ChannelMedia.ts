import type { RecorderInput } from '../recorder/protocol';
import type { PreferredLayers, VideoLayers } from './videoLayers';

/** A producer of the channel, as a recording sees it. */
export interface ProducerInfo {
  producerId: string;
  kind: 'audio' | 'video';
  paused: boolean;
  /** The uid of the peer that publishes it. */
  uid: string;
}

/** Where the recorder receives one input: its RTP port and, when it has one, its RTCP port. */
export interface RecorderPorts {
  ip: string;
  rtpPort: number;
  rtcpPort?: number;
}

/**
 * One producer's media flowing to a recorder: a mediasoup PlainTransport + Consumer on the node
 * that owns the channel (this node, or another across the network), created paused.
 */
export interface MediaInput {
  readonly kind: 'audio' | 'video';
  /** What the recorder needs to receive it: codec, ssrc, and where mediasoup's RTCP comes from. */
  readonly description: Omit<RecorderInput, 'inputId' | 'uid'>;
  /** The layers its producer sends (simulcast/SVC video); undefined: one layer, nothing to pick. */
  readonly layers?: VideoLayers;
  /** Sends RTP to the recorder's ports (and RTCP to its RTCP port). */
  connect(ports: RecorderPorts): Promise<void>;
  resume(): Promise<void>;
  /** Stops sending (a tile the layout does not draw) until resume(). */
  pause(): Promise<void>;
  /** Which of `layers` to send (mediasoup's setPreferredLayers); nothing to do without `layers`. */
  setPreferredLayers(layers: PreferredLayers): Promise<void>;
  requestKeyFrame(): Promise<void>;
  /** Idempotent. */
  close(): void;
}

/**
 * What a recording needs of its channel's media, wherever the channel lives: the producers now,
 * an input per producer, and a hold on the channel while it records. Producer and peer changes
 * reach the recording through its own methods (addProducer, removeProducer, setProducerPaused,
 * updateIdle), called by whoever follows the channel: the recording plugin's hooks for a channel
 * on this node, the media link for one on another node.
 */
export interface ChannelMedia {
  readonly channelId: string;
  /** The channel closed (on this node) or the link to its node is gone for good. */
  readonly closed: boolean;
  producers(): ProducerInfo[];
  peerCount(): number;
  /**
   * A paused input for one producer, consumed for the recorder at `recorderIp` (the address the
   * recorder binds). `preferredSpatialLayer`: for simulcast/SVC producers (10: the highest), until
   * the recording picks layers of its own (MediaInput.setPreferredLayers).
   * Rejects when the producer is gone. `onClose` fires when the producer closes.
   */
  openInput(producerId: string, options: { recorderIp: string; preferredSpatialLayer: number; onClose: () => void }): Promise<MediaInput>;
  /** Keeps the channel (and its router) alive with no peers while the recording runs. */
  retain(owner: string): void;
  release(owner: string): void;
  /** Where the recorder binds to receive this channel's media (undefined: the engine's local address). */
  readonly recorderIp?: string;
  /** A channel on another node: tells `recording` of its changes, which no plugin hook of this node sees. */
  follow?(recording: MediaFollower): void;
}

/** What a recording is told of its channel's changes (ChannelRecording). */
export interface MediaFollower {
  addProducer(producer: ProducerInfo): void;
  removeProducer(producerId: string): void;
  setProducerPaused(producerId: string, paused: boolean): void;
  updateIdle(peerCount: number): void;
}
