import type { RemotePeer, RemoteTrack } from '../signaling/client/index';
import { VideoBoxReporter } from './VideoBoxReporter';

/**
 * The video tiles: one for us, one per remote peer. A peer's tile shows its video tracks and plays
 * its audio through an <audio> element (a <video> without audio can autoplay without a gesture).
 * The box each remote video is drawn in goes to `onVideoBox`, so the server sends a fitting layer.
 */
export class TileGrid {
  readonly #root: HTMLElement;
  readonly #onAutoplayBlocked: () => void;
  readonly #boxes: VideoBoxReporter;
  #local: HTMLElement | undefined;

  constructor(root: HTMLElement, onAutoplayBlocked: () => void, onVideoBox: (consumerId: string, size: { width: number; height: number }) => void) {
    this.#root = root;
    this.#onAutoplayBlocked = onAutoplayBlocked;
    this.#boxes = new VideoBoxReporter(onVideoBox);
  }

  showLocal(stream: MediaStream | undefined, label: string): void {
    this.#local?.remove();
    const tile = this.#tile('local', label);
    tile.dataset.local = 'true';
    const video = tile.querySelector('video')!;
    video.muted = true;
    if (stream) video.srcObject = stream;
    else tile.classList.add('no-video');
    this.#root.prepend(tile);
    this.#local = tile;
    void video.play().catch(() => undefined);
  }

  addPeer(peer: RemotePeer): void {
    if (this.#peerTile(peer.peerId)) return;
    const tile = this.#tile('remote', peer.displayName === peer.uid ? peer.uid : `${peer.displayName} (${peer.uid})`);
    tile.dataset.peerId = peer.peerId;
    tile.dataset.uid = peer.uid;
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.srcObject = new MediaStream();
    tile.append(audio);
    this.#root.append(tile);
  }

  removePeer(peer: RemotePeer): void {
    const tile = this.#peerTile(peer.peerId);
    if (!tile) return;
    this.#boxes.unwatch(tile.querySelector('video')!);
    tile.remove();
  }

  addTrack(peer: RemotePeer, track: RemoteTrack): void {
    this.addPeer(peer);
    const tile = this.#peerTile(peer.peerId)!;
    const element = track.kind === 'video' ? tile.querySelector('video')! : tile.querySelector('audio')!;
    const stream = element.srcObject instanceof MediaStream ? element.srcObject : new MediaStream();
    if (track.kind === 'video') {
      // One picture per tile: a newer video (a screen share) replaces the older one on screen.
      for (const old of stream.getVideoTracks()) stream.removeTrack(old);
    }
    stream.addTrack(track.track);
    element.srcObject = stream;
    element.dataset[track.kind === 'video' ? 'videoConsumer' : 'audioConsumer'] = track.consumerId;
    if (element instanceof HTMLVideoElement) this.#boxes.watch(element);
    element.play().catch((error: DOMException) => {
      if (error?.name === 'NotAllowedError') this.#onAutoplayBlocked();
    });
  }

  removeTrack(peer: RemotePeer, track: RemoteTrack): void {
    const tile = this.#peerTile(peer.peerId);
    if (!tile) return;
    for (const element of tile.querySelectorAll<HTMLMediaElement>('video, audio')) {
      const stream = element.srcObject;
      if (stream instanceof MediaStream && stream.getTracks().includes(track.track)) stream.removeTrack(track.track);
    }
    // Back to the peer's other video, if any is still received.
    const other = [...peer.tracks.values()].find((candidate) => candidate.kind === 'video' && candidate !== track);
    if (track.kind === 'video' && other) this.addTrack(peer, other);
  }

  /** Retries playback after a user gesture (browsers may block unmuted autoplay). */
  resumePlayback(): void {
    for (const element of this.#root.querySelectorAll<HTMLMediaElement>('video, audio')) void element.play().catch(() => undefined);
  }

  clear(): void {
    for (const video of this.#root.querySelectorAll<HTMLVideoElement>('.tile.remote video')) this.#boxes.unwatch(video);
    this.#root.replaceChildren();
    this.#local = undefined;
  }

  #peerTile(peerId: string): HTMLElement | null {
    return this.#root.querySelector<HTMLElement>(`.tile[data-peer-id="${CSS.escape(peerId)}"]`);
  }

  #tile(kind: 'local' | 'remote', label: string): HTMLElement {
    const tile = document.createElement('figure');
    tile.className = `tile ${kind}`;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    const caption = document.createElement('figcaption');
    caption.textContent = label;
    tile.append(video, caption);
    return tile;
  }
}
