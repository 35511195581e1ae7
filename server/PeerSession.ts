import crypto from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type { PluginHost } from './plugins/PluginHost';
import { CodedError, RecordingErrorCode, SignalingErrorCode } from '../signaling/errors';
import type { JoinResponse, Method, RequestData, ResponseData } from '../signaling/protocol';
import type { ServerConfig } from '../config/defaults';
import { verifyToken, TokenClaims } from './auth/token';
import type { Channel } from './Channel';
import type { ChannelRegistry } from './ChannelRegistry';
import { LogBindings, Logger } from './logger';
import { Peer } from './Peer';
import { fitSpatialLayer, layerSizes, producerVideoSize } from './simulcastLayers';

const logger = new Logger('PeerSession');

/** Per-peer resource ceilings: a client cannot exhaust the worker through one socket. */
const MAX_TRANSPORTS = 8;
const MAX_PRODUCERS = 16;
const MAX_CONSUMERS = 400;

export interface SessionContext {
  config: ServerConfig;
  /** Where this connection's WebRTC and plain transports listen, and the address they announce to it. */
  rtcListenIp: string;
  rtcAnnouncedIp: string;
  authSecret: string;
  registry: ChannelRegistry;
  plugins: PluginHost;
  /** Router capabilities are the same on every router; served before join. */
  routerRtpCapabilities: ms.RtpCapabilities;
}

/** Each handler answers with its method's response type from the schema source. */
type Handlers = { [M in Method]: (data: RequestData<M>) => Promise<ResponseData<M>> };

/**
 * The signaling state of one connection: not joined, or joined to one channel as one peer.
 * Every method guards its state and throws CodedError; Connection turns that into the reply.
 */
export class PeerSession {
  readonly #context: SessionContext;
  readonly #notify: (notification: string, data: unknown) => void;
  #peer: Peer | undefined;
  #channel: Channel | undefined;

  constructor(context: SessionContext, notify: (notification: string, data: unknown) => void) {
    this.#context = context;
    this.#notify = notify;
  }

  /** Serves a validated request. */
  async handle(method: string, data: unknown): Promise<unknown> {
    const handler = (this.#handlers as Record<string, ((data: unknown) => Promise<unknown>) | undefined>)[method];
    if (handler) return handler(data);
    const plugin = this.#context.plugins.findHandler(method);
    if (!plugin?.handleRequest) throw new CodedError(SignalingErrorCode.UnknownMethod, `unknown method ${method}`);
    const { channel, peer } = this.#joined();
    return plugin.handleRequest(method, data, channel, peer);
  }

  /** Joined to a channel now (a socket that is not gets closed after signaling.joinTimeoutMs). */
  get joined(): boolean {
    return this.#isJoined();
  }

  /** What the lines about this session carry: the channel and uid once joined. */
  get logFields(): LogBindings {
    return this.#peer && this.#channel ? { channelId: this.#channel.channelId, uid: this.#peer.uid, peerId: this.#peer.peerId } : {};
  }

  /** The socket went away: leave the channel. */
  close(): void {
    this.#leave();
  }

  /** A peer closed by its channel (worker death, replaced by a rejoin) no longer counts: join again. */
  #isJoined(): boolean {
    return this.#peer !== undefined && !this.#peer.closed && this.#channel !== undefined && !this.#channel.closed;
  }

  #joined(): { channel: Channel; peer: Peer } {
    if (!this.#isJoined() || !this.#peer || !this.#channel) {
      throw new CodedError(SignalingErrorCode.NotJoined, 'join a channel first');
    }
    return { channel: this.#channel, peer: this.#peer };
  }

  #leave(): void {
    const channel = this.#channel;
    const peer = this.#peer;
    this.#channel = undefined;
    this.#peer = undefined;
    if (channel && peer) {
      channel.removePeer(peer);
      logger.info('leave() | left', { channelId: channel.channelId, uid: peer.uid, peerId: peer.peerId });
    }
  }

  async #authenticate(data: RequestData<'join'>): Promise<TokenClaims> {
    const { auth } = this.#context.config;
    if (!auth.enabled) {
      return {
        appId: auth.appId,
        channelId: data.channelId,
        uid: `u-${crypto.randomBytes(4).toString('hex')}`,
        role: 'host',
        privileges: { publish: true, record: true },
        exp: Number.MAX_SAFE_INTEGER,
      };
    }
    return verifyToken(this.#context.authSecret, data.token, { appId: auth.appId, channelId: data.channelId });
  }

  #transport(peer: Peer, transportId: string, direction: 'send' | 'recv'): ms.Transport {
    const transport = peer.transport(transportId);
    if (transportInfo(transport).direction !== direction) {
      throw new CodedError(SignalingErrorCode.BadRequest, `transport ${transportId} is not a ${direction} transport`);
    }
    return transport;
  }

  #addTransport(peer: Peer, transport: ms.Transport): void {
    peer.transports.set(transport.id, transport);
    transport.observer.on('close', () => peer.transports.delete(transport.id));
  }

  #assertCanCreateTransport(peer: Peer): void {
    if (peer.transports.size >= MAX_TRANSPORTS) {
      throw new CodedError(SignalingErrorCode.Forbidden, `at most ${MAX_TRANSPORTS} transports per peer`);
    }
  }

  readonly #handlers: Handlers = {
    getRouterRtpCapabilities: async () => ({ routerRtpCapabilities: this.#context.routerRtpCapabilities }),

    join: async (data): Promise<JoinResponse> => {
      if (this.#isJoined()) throw new CodedError(SignalingErrorCode.AlreadyJoined, `already joined channel ${this.#channel?.channelId}`);
      const claims = await this.#authenticate(data);
      // The channel's type is a host's decision: an audience join neither picks nor settles it.
      const type = claims.role === 'host' ? data.joinParam?.channelType ?? 'Communication' : undefined;
      const channel = await this.#context.registry.getOrCreate(data.channelId, type);
      if (this.#isJoined()) throw new CodedError(SignalingErrorCode.AlreadyJoined, 'already joined');
      if (channel.closed) throw new CodedError(SignalingErrorCode.ChannelClosed, 'channel closed while joining; join again');
      // The token bounds the peer: its role is never raised, its privileges never widened.
      const role = claims.role;
      const peer = new Peer({
        peerId: crypto.randomUUID(),
        uid: claims.uid,
        displayName: data.displayName,
        role,
        privileges: { publish: claims.privileges.publish, record: claims.privileges.record },
        joinParam: data.joinParam,
        send: this.#notify,
      });
      if (data.rtpCapabilities) peer.rtpCapabilities = data.rtpCapabilities as unknown as ms.RtpCapabilities;
      this.#peer = peer;
      this.#channel = channel;
        // The same uid joining again (a reconnect) replaces its stale peer; the channel is held open
      // meanwhile so removing its only peer does not close it under us.
      const stale = channel.peers().find((other) => other.uid === claims.uid);
      if (stale) {
        channel.retain(peer.peerId);
        stale.notify('channelClosed', { channelId: channel.channelId, reason: 'joined again from another connection', code: SignalingErrorCode.AlreadyJoined });
        channel.removePeer(stale);
      }
      channel.addPeer(peer);
      channel.release(peer.peerId);
      logger.info(`join() | joined as ${role}`, this.logFields);
      return {
        peerId: peer.peerId,
        uid: peer.uid,
        role: peer.role,
        privileges: { publish: mayPublish(channel, peer), record: peer.privileges.record },
        channel: { id: channel.channelId, type: channel.type, properties: channel.properties() },
        peers: channel.peers().filter((other) => other !== peer).map((other) => other.info()),
        routerRtpCapabilities: channel.router.rtpCapabilities,
      };
    },

    setRtpCapabilities: async (data) => {
      const { peer } = this.#joined();
      peer.rtpCapabilities = data.rtpCapabilities as unknown as ms.RtpCapabilities;
      return {};
    },

    getChannelProperties: async () => {
      const { channel } = this.#joined();
      return { properties: channel.properties() };
    },

    createWebRtcTransport: async (data) => {
      const { channel, peer } = this.#joined();
      this.#assertCanCreateTransport(peer);
      const { rtcListenIp, rtcAnnouncedIp } = this.#context;
      const transport = await channel.router.createWebRtcTransport({
        listenIps: [{ ip: rtcListenIp, announcedIp: rtcAnnouncedIp }],
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        appData: { direction: data.direction, plain: false } satisfies TransportInfo,
      });
      this.#addTransport(peer, transport);
      return {
        transportId: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
      };
    },

    connectWebRtcTransport: async (data) => {
      const { peer } = this.#joined();
      const transport = peer.transport(data.transportId) as ms.WebRtcTransport;
      if (transportInfo(transport).plain) throw new CodedError(SignalingErrorCode.BadRequest, 'not a WebRTC transport');
      await clientCall(() => transport.connect({ dtlsParameters: data.dtlsParameters as unknown as ms.DtlsParameters }));
      return {};
    },

    createPlainTransport: async (data) => {
      const { channel, peer } = this.#joined();
      this.#assertCanCreateTransport(peer);
      const { rtcListenIp, rtcAnnouncedIp } = this.#context;
      const rtcpMux = data.rtcpMux ?? true;
      const transport = await channel.router.createPlainTransport({
        listenIp: { ip: rtcListenIp, announcedIp: rtcAnnouncedIp },
        rtcpMux,
        comedia: data.comedia ?? data.direction === 'send',
        appData: { direction: data.direction, plain: true } satisfies TransportInfo,
      });
      this.#addTransport(peer, transport);
      return {
        transportId: transport.id,
        ip: rtcAnnouncedIp,
        port: transport.tuple.localPort,
        rtcpPort: transport.rtcpTuple?.localPort,
      };
    },

    connectPlainTransport: async (data) => {
      const { peer } = this.#joined();
      const transport = peer.transport(data.transportId) as ms.PlainTransport;
      if (!transportInfo(transport).plain) throw new CodedError(SignalingErrorCode.BadRequest, 'not a plain transport');
      await clientCall(() => transport.connect({ ip: data.ip, port: data.port, rtcpPort: data.rtcpPort }));
      return {};
    },

    closeTransport: async (data) => {
      const { peer } = this.#joined();
      peer.transport(data.transportId).close();
      return {};
    },

    produce: async (data) => {
      const { channel, peer } = this.#joined();
      if (!mayPublish(channel, peer) && peer.privileges.publish) {
        throw new CodedError(SignalingErrorCode.Forbidden, 'audience members cannot publish in a Live channel (or one whose type no host has decided yet)');
      }
      if (!peer.privileges.publish) throw new CodedError(SignalingErrorCode.Forbidden, 'your token does not grant the publish privilege');
      if (peer.producers.size >= MAX_PRODUCERS) throw new CodedError(SignalingErrorCode.Forbidden, `at most ${MAX_PRODUCERS} producers per peer`);
      const transport = this.#transport(peer, data.transportId, 'send');
      const producer = await clientCall(() =>
        transport.produce({
          kind: data.kind,
          rtpParameters: data.rtpParameters as unknown as ms.RtpParameters,
          // videoSize is the validated field, never a client's appData key of that name.
          appData: { ...(data.appData ?? {}), peerId: peer.peerId, uid: peer.uid, videoSize: data.kind === 'video' ? data.videoSize : undefined },
        }),
      );
      if (channel.closed || peer.closed) {
        producer.close();
        throw new CodedError(SignalingErrorCode.ChannelClosed, 'channel closed while producing');
      }
      channel.addProducer(peer, producer);
      return { producerId: producer.id };
    },

    pauseProducer: async (data) => {
      const { channel, peer } = this.#joined();
      await channel.setProducerPaused(peer, peer.producer(data.producerId), true);
      return {};
    },

    resumeProducer: async (data) => {
      const { channel, peer } = this.#joined();
      await channel.setProducerPaused(peer, peer.producer(data.producerId), false);
      return {};
    },

    closeProducer: async (data) => {
      const { channel, peer } = this.#joined();
      channel.closeProducer(peer, peer.producer(data.producerId));
      return {};
    },

    consume: async (data) => {
      const { channel, peer } = this.#joined();
      if (peer.consumers.size >= MAX_CONSUMERS) throw new CodedError(SignalingErrorCode.Forbidden, `at most ${MAX_CONSUMERS} consumers per peer`);
      const transport = this.#transport(peer, data.transportId, 'recv');
      const { plain } = transportInfo(transport);
      const capabilities = peer.rtpCapabilities ?? (plain ? channel.router.rtpCapabilities : undefined);
      const consumer = await channel.consume(peer, transport, data.producerId, capabilities);
      return {
        consumerId: consumer.id,
        producerId: consumer.producerId,
        kind: consumer.kind,
        type: consumer.type,
        rtpParameters: consumer.rtpParameters,
        paused: consumer.paused,
        producerPaused: consumer.producerPaused,
      };
    },

    resumeConsumer: async (data) => {
      const { peer } = this.#joined();
      const consumer = peer.consumer(data.consumerId);
      await consumer.resume();
      if (consumer.kind === 'video') await consumer.requestKeyFrame().catch(() => undefined);
      return {};
    },

    pauseConsumer: async (data) => {
      const { peer } = this.#joined();
      await peer.consumer(data.consumerId).pause();
      return {};
    },

    closeConsumer: async (data) => {
      const { peer } = this.#joined();
      const consumer = peer.consumer(data.consumerId);
      peer.consumers.delete(consumer.id);
      consumer.close();
      return {};
    },

    setConsumerRenderSize: async (data) => {
      const { channel, peer } = this.#joined();
      const consumer = videoConsumer(peer, data.consumerId);
      const producer = channel.findProducer(consumer.producerId)?.producer;
      // A single-layer producer (plain RTP, a screen share) has nothing to choose from.
      if (consumer.type !== 'simulcast' || !producer) return { preferredLayers: null };
      const spatialLayer = fitSpatialLayer(layerSizes(producer.rtpParameters.encodings ?? [], producerVideoSize(producer)), data);
      await consumer.setPreferredLayers({ spatialLayer });
      return { preferredLayers: consumer.preferredLayers ?? null };
    },

    setConsumerPreferredLayers: async (data) => {
      const { peer } = this.#joined();
      const consumer = videoConsumer(peer, data.consumerId);
      if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return { preferredLayers: null };
      await consumer.setPreferredLayers({ spatialLayer: data.spatialLayer, ...(data.temporalLayer !== undefined ? { temporalLayer: data.temporalLayer } : {}) });
      return { preferredLayers: consumer.preferredLayers ?? null };
    },

    requestKeyFrame: async (data) => {
      const { peer } = this.#joined();
      await peer.consumer(data.consumerId).requestKeyFrame();
      return {};
    },

    leave: async () => {
      this.#joined();
      this.#leave();
      return {};
    },

    enableRecord: async (data) => {
      const plugin = this.#context.plugins.findHandler('enableRecord');
      const { channel, peer } = this.#joined();
      if (!plugin?.handleRequest) {
        throw new CodedError(RecordingErrorCode.InvalidOperation, 'recording is switched off on this server');
      }
      // The plugin answers in the shape the schema source gives enableRecord (tested over the wire).
      return (await plugin.handleRequest('enableRecord', data, channel, peer)) as ResponseData<'enableRecord'>;
    },
  };
}

/** Communication: whoever the token lets publish; Live: hosts only. */
function mayPublish(channel: Channel, peer: Peer): boolean {
  return peer.privileges.publish && (peer.role === 'host' || channel.type === 'Communication');
}

/** A consumer of the peer's that carries video: layers mean nothing for audio. */
function videoConsumer(peer: Peer, consumerId: string): ms.Consumer {
  const consumer = peer.consumer(consumerId);
  if (consumer.kind !== 'video') throw new CodedError(SignalingErrorCode.BadRequest, `consumer ${consumerId} is audio: it has no layers`);
  return consumer;
}

/** What a transport was created for, kept in its appData by the create handlers. */
interface TransportInfo {
  direction: 'send' | 'recv';
  plain: boolean;
}

function transportInfo(transport: ms.Transport): TransportInfo {
  return transport.appData as unknown as TransportInfo;
}

/** Runs a mediasoup call fed with client data: its argument errors are the client's, not ours. */
async function clientCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CodedError) throw error;
    throw new CodedError(SignalingErrorCode.BadRequest, (error as Error).message ?? String(error));
  }
}
