import type { PeerInfo, ProducerInfo, Role } from '../protocol';

/** A track received from another peer (browser only: Node sessions do not consume). */
export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
}

/**
 * Another participant of the channel as this client sees it: who they are, what they publish and
 * which of their tracks we receive. Plain state; MediaChannel keeps it current and emits the events.
 */
export class RemotePeer {
  readonly peerId: string;
  readonly uid: string;
  readonly displayName: string;
  readonly role: Role;
  readonly producers = new Map<string, ProducerInfo>();
  readonly tracks = new Map<string, RemoteTrack>();

  constructor(info: PeerInfo) {
    this.peerId = info.peerId;
    this.uid = info.uid;
    this.displayName = info.displayName;
    this.role = info.role;
    for (const producer of info.producers) this.producers.set(producer.producerId, { ...producer });
  }

  trackOfProducer(producerId: string): RemoteTrack | undefined {
    for (const track of this.tracks.values()) if (track.producerId === producerId) return track;
    return undefined;
  }
}
