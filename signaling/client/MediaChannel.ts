import { CodedError, ErrorCode, SignalingErrorCode } from '../errors';
import type { ChannelProperties, ChannelType, JoinResponse, NotificationName, Notifications, RecordParamMessage, RecordState, Role } from '../protocol';
import { SignalingClient, WebSocketFactory, WebSocketLike } from '../SignalingClient';
import { cameraCapture, SIMULCAST_BY_DEFAULT } from './cameraEncodings';
import { getScreenTrack, getUserTracks } from './localMedia';
import { MediaSource, MediaTransports } from './MediaTransports';
import { RemotePeer, RemoteTrack } from './RemotePeer';
import { TypedEvents } from './TypedEvents';

export type { RecordState } from '../protocol';
export type { MediaSource } from './MediaTransports';

/**
 * idle: not in a channel (before join, after leave, after the server sent us away)
 * connecting: join() is under way
 * connected: in the channel
 * reconnecting: the socket dropped; trying to get back in with the same token and media
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

export interface ConnectionChange {
  state: ConnectionState;
  /** Why the connection went (reconnecting) or why we are out (idle after a failure). */
  error?: CodedError;
  /** While reconnecting: this attempt's number and how many will be made. */
  attempt?: number;
  maxAttempts?: number;
}

export interface ReconnectOptions {
  /** Attempts before giving up; 0 disables reconnecting. */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface MediaChannelOptions {
  /** Signaling URL, e.g. ws://localhost:8080/ws (the page uses its own origin). */
  serverUrl: string;
  /**
   * Other entry points of the same cluster, tried in turn after serverUrl when it cannot be reached
   * (a cluster without a load balancer in front): joins and reconnects go through them.
   */
  fallbackServerUrls?: string[];
  /** Node: `(url) => new WebSocket(url)` from the `ws` package. Default: the global WebSocket. */
  webSocketFactory?: WebSocketFactory;
  /** Send and receive media with mediasoup-client. Default: when WebRTC is available (browsers). */
  media?: boolean;
  reconnect?: ReconnectOptions;
  requestTimeoutMs?: number;
  /**
   * Send the camera as simulcast layers (the full picture, its half and its quarter, each with
   * temporal layers) so each receiver, and the recorder, gets the one its tile needs. Default
   * SIMULCAST_BY_DEFAULT (cameraEncodings.ts); false sends one stream. publishCamera's own
   * `simulcast` option overrides it per publication. A screen share is always one stream.
   */
  simulcast?: boolean;
}

/** The seed's JCMediaChannel.JoinParam, plus what a self-hosted server needs: the join token. */
export interface MediaChannelJoinParam {
  token: string;
  displayName?: string;
  /** Seed: joinParam.record.recordString = buildQiniuRecordParam(...) (or the S3/local builders). */
  record?: RecordParamMessage | null;
  channelType?: ChannelType;
}

/** The seed's PropChangeParam: which properties changed. */
export interface PropChangeParam {
  /** Seed: `if (changeParam.recordState)` — true when the record state changed; read the value from channel.recordState. */
  recordState: boolean;
  changed: string[];
  properties: ChannelProperties;
}

export interface LocalPublication {
  source: MediaSource;
  track: MediaStreamTrack;
  /** The server's producer id; changes when a reconnect republishes the track. */
  producerId: string | undefined;
}

export type MediaChannelEvents = {
  /** Seed: onMediaChannelPropertyChange. */
  propertyChange: [PropChangeParam];
  connectionStateChange: [ConnectionChange];
  peerJoined: [RemotePeer];
  peerLeft: [RemotePeer];
  trackAdded: [RemotePeer, RemoteTrack];
  trackRemoved: [RemotePeer, RemoteTrack];
  /** Recording lifecycle of this channel: started, stopped, uploaded (with fileName), failures. */
  recordingEvent: [Notifications['recordingEvent']];
  /** Upload progress of a finished recording, 0..100. */
  recordingProgress: [Notifications['recordingProgress']];
  /** We are out of the channel without having asked (channel closed, replaced, reconnect gave up). */
  left: [CodedError];
};

/** The largest box setRenderSize sends (the protocol's bound): bigger is the top layer anyway. */
const MAX_BOX_PIXELS = 16384;
/** A cluster answers a join with REDIRECT to the channel's node; more hops than this mean something is wrong. */
const MAX_REDIRECTS = 3;
const DEFAULT_RECONNECT: Required<ReconnectOptions> = { attempts: 6, initialDelayMs: 500, maxDelayMs: 5000 };
/** Errors after which trying again with the same token cannot help. */
const FATAL_JOIN_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  SignalingErrorCode.TokenInvalid,
  SignalingErrorCode.TokenExpired,
  SignalingErrorCode.TokenMismatch,
  SignalingErrorCode.Forbidden,
  SignalingErrorCode.BadRequest,
]);

interface Session {
  /** The signaling URL this session joined at (a cluster's REDIRECT target, or the entry point). */
  url: string;
  signaling: SignalingClient;
  media: MediaTransports | undefined;
  /** Set until the join answer is applied: notifications wait here (see #listen). */
  backlog: (() => void)[] | undefined;
}

interface Publication extends LocalPublication {
  /** The SDK captured this track, so it stops it when unpublished. */
  owned: boolean;
  /** Camera: sent as simulcast layers (kept for the republish after a reconnect). */
  simulcast: boolean;
  producer: { id: string; close(): void; closed: boolean } | undefined;
}

/**
 * A channel session shaped like the Juphoon seed's JCMediaChannel: join(channelId, joinParam) with
 * a record param, `recordState` (None / Ready / Running), the `propertyChange` event
 * (onMediaChannelPropertyChange) and enableRecord(enable, recordParam). In a browser it also
 * publishes camera, microphone and screen and receives the others' media through mediasoup-client;
 * in Node (media: false) it does everything else.
 *
 * Errors are CodedErrors with the server's codes (TOKEN_INVALID, FORBIDDEN, InvalidOperation, ...);
 * requests pending when the socket closes reject with CONNECTION_CLOSED. When the socket drops while
 * joined, it reconnects with the same token, republishes its tracks and receives the others again.
 * In a cluster it follows a join's REDIRECT to the channel's node, and a channelClosed CHANNEL_MOVED
 * (or the node's death) makes it join again through its entry points.
 */
export class MediaChannel extends TypedEvents<MediaChannelEvents> {
  readonly #options: MediaChannelOptions;
  readonly #reconnect: Required<ReconnectOptions>;
  readonly #mediaEnabled: boolean;
  readonly #peers = new Map<string, RemotePeer>();
  readonly #publications = new Map<MediaSource, Publication>();
  #session: Session | undefined;
  #state: ConnectionState = 'idle';
  #channelId: string | undefined;
  #joinParam: MediaChannelJoinParam | undefined;
  #joined: JoinResponse | undefined;
  #properties: ChannelProperties = { recordState: 'None', recordingId: null };
  /** Bumped on every leave; an async step that finds it changed abandons its work. */
  #epoch = 0;
  #closed = false;

  constructor(options: MediaChannelOptions) {
    super();
    for (const url of [options?.serverUrl, ...(options?.fallbackServerUrls ?? [])]) {
      if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new TypeError('serverUrl and fallbackServerUrls must be ws:// or wss:// URLs');
    }
    this.#options = options;
    this.#reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.#mediaEnabled = options.media ?? typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function';
  }

  // ---------------------------------------------------------------------------------------------
  // State

  get connectionState(): ConnectionState {
    return this.#state;
  }

  get channelId(): string | undefined {
    return this.#channelId;
  }

  /** Seed: recordState. None = recording impossible, Ready = may start, Running = recording. */
  get recordState(): RecordState {
    return this.#properties.recordState;
  }

  get properties(): Readonly<ChannelProperties> {
    return this.#properties;
  }

  get uid(): string | undefined {
    return this.#joined?.uid;
  }

  get role(): Role | undefined {
    return this.#joined?.role;
  }

  get privileges(): { publish: boolean; record: boolean } {
    return this.#joined?.privileges ?? { publish: false, record: false };
  }

  get peers(): ReadonlyMap<string, RemotePeer> {
    return this.#peers;
  }

  get publications(): LocalPublication[] {
    return [...this.#publications.values()].map(({ source, track, producerId }) => ({ source, track, producerId }));
  }

  /** The signaling URL of the node the channel is joined at (after a cluster's redirects); undefined when not connected. */
  get connectedUrl(): string | undefined {
    return this.#session?.url;
  }

  /** The raw signaling connection (for bots publishing plain RTP); undefined when not connected. */
  get signaling(): SignalingClient | undefined {
    return this.#session?.signaling;
  }

  // ---------------------------------------------------------------------------------------------
  // Join / leave

  /** Seed: join(channelId, joinParam). Resolves once in the channel; rejects with a CodedError. */
  async join(channelId: string, joinParam: MediaChannelJoinParam): Promise<void> {
    if (this.#closed) throw new CodedError(SignalingErrorCode.ConnectionClosed, 'this MediaChannel is closed');
    if (this.#state !== 'idle') throw new CodedError(SignalingErrorCode.AlreadyJoined, `already ${this.#state} (channel ${this.#channelId})`);
    if (typeof joinParam?.token !== 'string' || joinParam.token.length === 0) throw new TypeError('joinParam.token is required');
    this.#channelId = channelId;
    this.#joinParam = joinParam;
    this.#setState({ state: 'connecting' });
    const epoch = this.#epoch;
    try {
      const entries = this.#entryUrls();
      for (let index = 0; ; index++) {
        try {
          await this.#connectAndJoin(epoch, entries[index]!);
          break;
        } catch (error) {
          // An entry that cannot be reached: the next one may be (the channel's node answers either way).
          if (index + 1 >= entries.length || asCoded(error).code !== SignalingErrorCode.ConnectionClosed || epoch !== this.#epoch) throw error;
        }
      }
    } catch (error) {
      const coded = asCoded(error);
      if (epoch === this.#epoch) this.#reset({ state: 'idle', error: coded });
      throw coded;
    }
    this.#setState({ state: 'connected' });
  }

  /** Leaves the channel (stops tracks the SDK captured). Idempotent. */
  async leave(): Promise<void> {
    if (this.#state === 'idle') return;
    // Closing the socket is the leave: the server removes the peer when its connection closes, and
    // waiting for a 'leave' answer would only delay (or hang on) a dying connection.
    this.#reset({ state: 'idle' });
  }

  /** Leaves and drops every listener; the object cannot be used again. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.leave();
    this.#closed = true;
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------------------------------------
  // Recording (seed: enableRecord)

  /**
   * Seed: enableRecord(enable, recordParam) — "decides from the current state": asking to start while
   * Running, to start in None without a param, or to stop while not Running answers false without a
   * request. Otherwise asks the server and answers true when it accepted; the server's refusals
   * (FORBIDDEN without the record privilege, InvalidParameter for a bad param, InvalidOperation)
   * reject with a CodedError, because a bare false would lose the reason. A non-null recordParam on
   * start replaces the one given at join.
   */
  async enableRecord(enable: boolean, recordParam: RecordParamMessage | null = null): Promise<boolean> {
    const session = this.#requireJoined();
    const state = this.recordState;
    if (enable && (state === 'Running' || (state === 'None' && !recordParam))) return false;
    if (!enable && state !== 'Running') return false;
    const answer = await session.signaling.request('enableRecord', { enable, recordParam: enable ? recordParam : null });
    return answer?.accepted === true;
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing (browser)

  /**
   * Publishes the camera (captured here unless `track` is given: at 1280×720 when it can with
   * simulcast), as simulcast layers unless `simulcast` (or the channel's option) is false. Rejects
   * with MediaAccessError or CodedError.
   */
  async publishCamera(options: { track?: MediaStreamTrack; constraints?: MediaTrackConstraints; simulcast?: boolean } = {}): Promise<LocalPublication> {
    const simulcast = options.simulcast ?? this.#options.simulcast ?? SIMULCAST_BY_DEFAULT;
    const track = options.track ?? (await getUserTracks({ video: options.constraints ?? cameraCapture(simulcast) }))[0]!;
    return this.#publish('camera', track, options.track === undefined, simulcast);
  }

  async publishMicrophone(options: { track?: MediaStreamTrack; constraints?: MediaTrackConstraints } = {}): Promise<LocalPublication> {
    const track = options.track ?? (await getUserTracks({ audio: options.constraints ?? true }))[0]!;
    return this.#publish('microphone', track, options.track === undefined, false);
  }

  /** Shares a screen chosen by the user; stopping the share in the browser's UI unpublishes it. */
  async publishScreen(options: { track?: MediaStreamTrack } = {}): Promise<LocalPublication> {
    const track = options.track ?? (await getScreenTrack());
    const publication = await this.#publish('screen', track, options.track === undefined, false);
    track.addEventListener('ended', () => void this.unpublish('screen'));
    return publication;
  }

  async unpublish(source: MediaSource): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) return;
    this.#publications.delete(source);
    if (publication.owned) publication.track.stop();
    const producer = publication.producer;
    if (producer && !producer.closed && this.#session?.media) await this.#session.media.closeProducer(producer);
  }

  /**
   * Tells the server the box (device pixels) a remote video track is shown in: it then sends the
   * smallest simulcast layer that fills it, so small tiles cost little. Call again when the box
   * changes. Answers the layers the server now sends, or null when the track has only one.
   */
  async setRenderSize(track: Pick<RemoteTrack, 'consumerId'>, size: { width: number; height: number }): Promise<{ spatialLayer: number; temporalLayer?: number } | null> {
    const session = this.#requireJoined();
    if (!session.media) throw new CodedError(SignalingErrorCode.BadRequest, 'no media in this session: nothing is received');
    const width = Math.min(MAX_BOX_PIXELS, Math.max(1, Math.round(size.width)));
    const height = Math.min(MAX_BOX_PIXELS, Math.max(1, Math.round(size.height)));
    return session.media.setRenderSize(track.consumerId, { width, height });
  }

  async #publish(source: MediaSource, track: MediaStreamTrack, owned: boolean, simulcast: boolean): Promise<LocalPublication> {
    const session = this.#requireJoined();
    if (!session.media) {
      if (owned) track.stop();
      throw new CodedError(SignalingErrorCode.BadRequest, 'publishing needs WebRTC (a browser); in Node, publish plain RTP through channel.signaling');
    }
    if (this.#publications.has(source)) await this.unpublish(source);
    const publication: Publication = { source, track, owned, simulcast, producer: undefined, producerId: undefined };
    this.#publications.set(source, publication);
    try {
      await this.#produce(session, publication);
    } catch (error) {
      this.#publications.delete(source);
      if (owned) track.stop();
      throw asCoded(error);
    }
    return { source, track, producerId: publication.producerId };
  }

  async #produce(session: Session, publication: Publication): Promise<void> {
    const producer = await session.media!.produce(publication.track, publication.source, { simulcast: publication.simulcast });
    publication.producer = producer;
    publication.producerId = producer.id;
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  #entryUrls(): string[] {
    return [this.#options.serverUrl, ...(this.#options.fallbackServerUrls ?? [])];
  }

  /** Joins through `entryUrl`, following a cluster's REDIRECTs to the node the channel lives on. */
  async #connectAndJoin(epoch: number, entryUrl: string): Promise<void> {
    let url = entryUrl;
    for (let hop = 0; ; hop++) {
      try {
        await this.#joinAt(epoch, url);
        return;
      } catch (error) {
        const target = redirectTarget(error);
        if (target === undefined || epoch !== this.#epoch) throw error;
        if (hop >= MAX_REDIRECTS) throw new CodedError(SignalingErrorCode.Redirect, `more than ${MAX_REDIRECTS} redirects joining ${this.#channelId} (the last to ${target})`);
        url = target;
      }
    }
  }

  async #joinAt(epoch: number, url: string): Promise<void> {
    const factory = this.#options.webSocketFactory ?? defaultWebSocketFactory;
    const signaling = await SignalingClient.connect(url, factory, { timeoutMs: this.#options.requestTimeoutMs ?? 15_000 });
    let media: MediaTransports | undefined;
    try {
      if (epoch !== this.#epoch) throw new CodedError(SignalingErrorCode.ConnectionClosed, 'left while connecting');
      if (this.#mediaEnabled) {
        media = await MediaTransports.create(signaling);
      }
      const session: Session = { url, signaling, media, backlog: [] };
      this.#listen(session);
      const param = this.#joinParam!;
      const answer = (await signaling.request('join', {
        channelId: this.#channelId!,
        displayName: param.displayName ?? 'guest',
        token: param.token,
        ...(param.record || param.channelType
          ? { joinParam: { ...(param.record ? { record: { recordString: param.record.recordString } } : {}), ...(param.channelType ? { channelType: param.channelType } : {}) } }
          : {}),
        ...(media ? { rtpCapabilities: media.rtpCapabilities as unknown as Record<string, unknown> } : {}),
      })) as JoinResponse;
      if (epoch !== this.#epoch) throw new CodedError(SignalingErrorCode.ConnectionClosed, 'left while joining');
      this.#session = session;
      this.#joined = answer;
      this.#applyProperties(answer.channel.properties, Object.keys(answer.channel.properties));
      this.#replacePeers(answer.peers);
      const backlog = session.backlog ?? [];
      session.backlog = undefined;
      for (const deliver of backlog) deliver();
      signaling.onClose((code, reason) => this.#onSocketClosed(session, code, reason));
      // Republish what we published before a reconnect; a track that ended meanwhile is dropped.
      for (const publication of [...this.#publications.values()]) {
        if (publication.track.readyState === 'ended') {
          this.#publications.delete(publication.source);
          continue;
        }
        await this.#produce(session, publication).catch(() => this.#publications.delete(publication.source));
      }
      // The socket may have dropped while we republished; onClose ignored it (not yet connected).
      if (signaling.closed) throw new CodedError(SignalingErrorCode.ConnectionClosed, 'the connection closed while joining');
    } catch (error) {
      if (this.#session?.signaling === signaling) this.#session = undefined;
      media?.close();
      signaling.close();
      throw error;
    }
  }

  #listen(session: Session): void {
    const { signaling } = session;
    // Each handler checks that its session is still the current one: a late message from a
    // replaced connection must not touch the new session's state.
    const current = (): boolean => this.#session === session;
    // ws emits every message of one read at once, so a notification sent right after the join answer
    // (a peer that joined just after us) can run before the code awaiting that answer: it waits until
    // the answer is applied, or it would be dropped (or undone by the answer's peer list).
    const on = <N extends NotificationName>(notification: N, listener: (data: Notifications[N]) => void): void => {
      signaling.on(notification, (data: Notifications[N]) => {
        if (session.backlog) session.backlog.push(() => listener(data));
        else listener(data);
      });
    };
    on('peerJoined', ({ peer }) => {
      if (!current()) return;
      this.#addPeer(new RemotePeer(peer));
    });
    on('peerLeft', ({ peerId }) => {
      if (current()) this.#removePeer(peerId);
    });
    on('newProducer', ({ peerId, producer }) => {
      if (!current()) return;
      const peer = this.#peers.get(peerId);
      if (!peer) return;
      peer.producers.set(producer.producerId, { ...producer });
      this.#consume(session, peer, producer.producerId);
    });
    on('producerClosed', ({ peerId, producerId }) => {
      if (!current()) return;
      const peer = this.#peers.get(peerId);
      if (!peer) return;
      peer.producers.delete(producerId);
      const track = peer.trackOfProducer(producerId);
      if (track) this.#removeTrack(session, peer, track);
    });
    on('consumerClosed', ({ consumerId }) => {
      if (!current()) return;
      for (const peer of this.#peers.values()) {
        const track = peer.tracks.get(consumerId);
        if (track) this.#removeTrack(session, peer, track);
      }
    });
    on('propertyChange', ({ changed, properties }) => {
      if (current()) this.#applyProperties(properties, changed);
    });
    on('recordingEvent', (data) => {
      if (current()) this.emit('recordingEvent', data);
    });
    on('recordingProgress', (data) => {
      if (current()) this.emit('recordingProgress', data);
    });
    on('channelClosed', ({ reason, code }) => {
      if (!current()) return;
      const error = new CodedError(code ?? SignalingErrorCode.ChannelClosed, reason);
      if (code === SignalingErrorCode.ChannelMoved && this.#state === 'connected' && this.#reconnect.attempts > 0) {
        // A cluster moved the channel to another node: join again, the entry point redirects us there.
        this.#dropSession();
        void this.#reconnectLoop(this.#epoch, error);
        return;
      }
      // Not a network failure: the server sent us away (channel closed, same uid joined elsewhere).
      this.#reset({ state: 'idle', error });
      signaling.close();
      this.emit('left', error);
    });
  }

  #onSocketClosed(session: Session, code: number, reason: string): void {
    if (this.#session !== session || this.#state !== 'connected') return;
    const error = new CodedError(SignalingErrorCode.ConnectionClosed, `lost the connection to the server (${code}${reason ? ` ${reason}` : ''})`);
    this.#dropSession();
    if (this.#reconnect.attempts <= 0) {
      this.#reset({ state: 'idle', error });
      this.emit('left', error);
      return;
    }
    void this.#reconnectLoop(this.#epoch, error);
  }

  async #reconnectLoop(epoch: number, cause: CodedError): Promise<void> {
    const { attempts, initialDelayMs, maxDelayMs } = this.#reconnect;
    let delay = initialDelayMs;
    let lastError = cause;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      this.#setState({ state: 'reconnecting', error: lastError, attempt, maxAttempts: attempts });
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (epoch !== this.#epoch) return;
      delay = Math.min(delay * 2, maxDelayMs);
      try {
        // Round the entry points: the node we were on may be the one that died.
        const entries = this.#entryUrls();
        await this.#connectAndJoin(epoch, entries[(attempt - 1) % entries.length]!);
        if (epoch !== this.#epoch) return;
        this.#setState({ state: 'connected' });
        return;
      } catch (error) {
        if (epoch !== this.#epoch) return;
        lastError = asCoded(error);
        if (FATAL_JOIN_ERRORS.has(lastError.code)) break;
      }
    }
    const error = FATAL_JOIN_ERRORS.has(lastError.code)
      ? lastError
      : new CodedError(SignalingErrorCode.ConnectionClosed, `the server cannot be reached; gave up after ${attempts} attempts (${lastError.message})`);
    this.#reset({ state: 'idle', error });
    this.emit('left', error);
  }

  // ---------------------------------------------------------------------------------------------
  // Peers and tracks

  #replacePeers(peers: JoinResponse['peers']): void {
    const fresh = new Set(peers.map((peer) => peer.peerId));
    for (const peerId of [...this.#peers.keys()]) if (!fresh.has(peerId)) this.#removePeer(peerId);
    for (const info of peers) {
      const known = this.#peers.get(info.peerId);
      if (known) {
        // Same peer, seen again after our reconnect: its tracks are gone with our old transports.
        known.producers.clear();
        for (const producer of info.producers) known.producers.set(producer.producerId, { ...producer });
        for (const producer of info.producers) this.#consume(this.#session!, known, producer.producerId);
      } else {
        this.#addPeer(new RemotePeer(info));
      }
    }
  }

  #addPeer(peer: RemotePeer): void {
    this.#peers.set(peer.peerId, peer);
    this.emit('peerJoined', peer);
    for (const producerId of peer.producers.keys()) this.#consume(this.#session!, peer, producerId);
  }

  #removePeer(peerId: string): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    for (const track of [...peer.tracks.values()]) this.#removeTrack(this.#session, peer, track);
    this.#peers.delete(peerId);
    this.emit('peerLeft', peer);
  }

  #consume(session: Session, peer: RemotePeer, producerId: string): void {
    const media = session.media;
    if (!media) return;
    media.consume(producerId).then(
      (consumed) => {
        // Too late: the producer, the peer or our session went away while the answer travelled.
        if (this.#session !== session || this.#peers.get(peer.peerId) !== peer || !peer.producers.has(producerId)) {
          media.consumerClosed(consumed.consumerId);
          return;
        }
        const track: RemoteTrack = { ...consumed };
        peer.tracks.set(track.consumerId, track);
        this.emit('trackAdded', peer, track);
      },
      () => {
        // The producer closed before we consumed it (NOT_FOUND/CANNOT_CONSUME): nothing to show.
      },
    );
  }

  #removeTrack(session: Session | undefined, peer: RemotePeer, track: RemoteTrack): void {
    if (!peer.tracks.delete(track.consumerId)) return;
    session?.media?.consumerClosed(track.consumerId);
    this.emit('trackRemoved', peer, track);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  #applyProperties(properties: ChannelProperties, changed: string[]): void {
    const before = this.#properties;
    this.#properties = { ...properties };
    // Values arrive parsed from JSON (recordParam is an object): compare what they say, not identity.
    const really = changed.filter((key) => JSON.stringify(before[key as keyof ChannelProperties]) !== JSON.stringify(properties[key as keyof ChannelProperties]));
    if (really.length === 0) return;
    this.emit('propertyChange', { recordState: really.includes('recordState'), changed: really, properties: this.#properties });
  }

  #requireJoined(): Session {
    if (this.#state !== 'connected' || !this.#session) {
      const why = this.#state === 'reconnecting' ? 'reconnecting to the server' : 'join a channel first';
      throw new CodedError(SignalingErrorCode.NotJoined, why);
    }
    return this.#session;
  }

  /** Forgets the current connection's media (tracks died with it) but keeps the peers' identities. */
  #dropSession(): void {
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    for (const peer of this.#peers.values()) for (const track of [...peer.tracks.values()]) this.#removeTrack(session, peer, track);
    for (const publication of this.#publications.values()) {
      publication.producer = undefined;
      publication.producerId = undefined;
    }
    session.media?.close();
    session.signaling.close();
  }

  /** Back to idle: no session, no peers, no publications (owned tracks stopped), record state None. */
  #reset(change: ConnectionChange): void {
    this.#epoch++;
    this.#dropSession();
    for (const peerId of [...this.#peers.keys()]) this.#removePeer(peerId);
    for (const publication of this.#publications.values()) if (publication.owned) publication.track.stop();
    this.#publications.clear();
    this.#joined = undefined;
    this.#applyProperties({ recordState: 'None', recordingId: null }, ['recordState', 'recordingId']);
    this.#setState(change);
  }

  #setState(change: ConnectionChange): void {
    this.#state = change.state;
    this.emit('connectionStateChange', change);
  }
}

/** The signaling URL a REDIRECT points to: `<publicUrl>/ws`, ws(s) for http(s). */
function redirectTarget(error: unknown): string | undefined {
  if (!(error instanceof CodedError) || error.code !== SignalingErrorCode.Redirect || typeof error.data?.url !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(error.data.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}${url.pathname.replace(/\/+$/, '')}/ws`;
}

function asCoded(error: unknown): CodedError {
  if (error instanceof CodedError) return error;
  if (error instanceof TypeError) return new CodedError(SignalingErrorCode.BadRequest, error.message);
  return new CodedError(SignalingErrorCode.Internal, (error as Error)?.message ?? String(error));
}

const defaultWebSocketFactory: WebSocketFactory = (url) => {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Ctor) throw new TypeError('no global WebSocket here: pass webSocketFactory (e.g. from the ws package)');
  return new Ctor(url);
};
