import type http from 'node:http';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import * as mediasoup from 'mediasoup';
import type { ServerConfig } from '../config/defaults';
import type { HttpRoute, PluginContext, PluginFactory, UpgradeRoute } from './plugins/contract';
import { PluginHost } from './plugins/PluginHost';
import { mayAccessRecordings, resolveAuthSecret, verifyToken } from './auth/token';
import { CodedError, SignalingErrorCode } from '../signaling/errors';
import { ChannelRegistry } from './ChannelRegistry';
import type { ClusterChannels } from './cluster/ClusterChannels';
import { clusterHandle } from './cluster/clusterHandle';
import { joinCluster } from './cluster/joinCluster';
import { describeConfig } from './config';
import { sendErrorBody, sendJson } from './http/json';
import { Connection } from './Connection';
import { ConnectionLimiter } from './ConnectionLimiter';
import { Logger, registerSecret } from './logger';
import { MEDIA_CODECS } from './mediaCodecs';
import { PortListener } from './http/PortListener';
import { isWildcard, RtcAddresses } from './network/RtcAddresses';
import { loadServerCertificate, ServerCertificate } from './tls/serverCertificate';
import { PeerSession, SessionContext } from './PeerSession';
import { maxPayloadFor, socketLimits } from './socketLimits';
import { WorkerPool } from './WorkerPool';

const logger = new Logger('MediaServer');

export type { HttpRoute, PluginFactory, UpgradeRoute };

/**
 * The whole server in one object: workers → channels → HTTP + WebSocket, started in that order and
 * closed in reverse. Tests start it in-process on port 0.
 */
export class MediaServer {
  readonly config: ServerConfig;
  readonly pool: WorkerPool;
  readonly registry: ChannelRegistry;
  readonly plugins: PluginHost;
  readonly authSecret: string;
  /** Where WebRTC transports listen and what they announce. */
  readonly rtc: RtcAddresses;
  /** The HTTPS certificate; undefined with http.tls 'off'. */
  readonly certificate: ServerCertificate | undefined;
  readonly #http: PortListener;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #routes: HttpRoute[] = [];
  readonly #upgradeRoutes = new Map<string, UpgradeRoute>();
  /** One count of sockets for every upgrade path, per IP and in total. */
  readonly #limiter: ConnectionLimiter;
  /** Cluster mode only (cluster.redisUrl set). */
  #cluster: ClusterChannels | undefined;
  #closed = false;

  private constructor(config: ServerConfig, pool: WorkerPool, authSecret: string, rtc: RtcAddresses, certificate: ServerCertificate | undefined) {
    this.config = config;
    this.pool = pool;
    this.authSecret = authSecret;
    this.rtc = rtc;
    this.certificate = certificate;
    this.plugins = new PluginHost(new Logger('PluginHost'));
    this.registry = new ChannelRegistry(pool, this.plugins);
    // Upgrades are routed by path: '/ws' is signaling; other paths are added with addUpgradeRoute().
    this.#http = new PortListener(
      { request: (request, response) => void this.#serveHttp(request, response), upgrade: (request, socket, head) => this.#upgrade(request, socket, head) },
      certificate,
    );
    this.#limiter = new ConnectionLimiter(config.signaling);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadFor(config.signaling) });
    this.#wss.on('connection', (socket, request: http.IncomingMessage) => this.#accept(socket, request));
  }

  static async start(config: ServerConfig, options: { plugins?: PluginFactory[] } = {}): Promise<MediaServer> {
    const authSecret = resolveAuthSecret(config.auth.secret, config.recording.stateDir);
    registerSecret(authSecret);
    logger.info(`start() | config ${describeConfig(config)}`);
    if (!config.auth.enabled) {
      logger.warn('start() | !!! AUTHENTICATION IS OFF (auth.enabled=false): anyone can join any channel, publish and record !!!');
    }
    const pool = await WorkerPool.create({
      numWorkers: config.mediasoup.numWorkers,
      logLevel: config.mediasoup.logLevel,
      rtcMinPort: config.mediasoup.rtcMinPort,
      rtcMaxPort: config.mediasoup.rtcMaxPort,
    });
    let server: MediaServer;
    try {
      const rtc = await RtcAddresses.resolve(config.mediasoup);
      const certificate = config.http.tls === 'off' ? undefined : loadServerCertificate(
        { certFile: config.http.tlsCert, keyFile: config.http.tlsKey },
        config.recording.stateDir,
        certificateNames(rtc.announcedIp, config.http.listenIp),
      );
      server = new MediaServer(config, pool, authSecret, rtc, certificate);
    } catch (error) {
      pool.close();
      throw error;
    }
    try {
      const cluster = await joinCluster({ config, registry: server.registry, announcedIp: server.rtc.announcedIp, authSecret, scheme: server.scheme });
      if (cluster) {
        server.#cluster = cluster.channels;
        server.addRoute(cluster.route);
      }
      const context: PluginContext = {
        config,
        ...(cluster ? { cluster: clusterHandle(cluster.channels.member) } : {}),
        logger: new Logger('plugin'),
        authSecret,
        getOrCreateChannel: (channelId, type) => server.registry.getOrCreate(channelId, type),
        findChannel: (channelId) => server.registry.find(channelId),
        authorize: async (appId, channelId, token) => {
          if (!config.auth.enabled) return { uid: 'backend', privileges: { publish: true, record: true, recordings: true } };
          if (appId !== config.auth.appId) throw new CodedError(SignalingErrorCode.TokenMismatch, 'unknown app id');
          const claims = await verifyToken(authSecret, token, { appId, channelId });
          return { uid: claims.uid, privileges: { publish: claims.privileges.publish, record: claims.privileges.record, recordings: mayAccessRecordings(claims) } };
        },
        addRoute: (route) => server.addRoute(route),
        addUpgradeRoute: (pathname, route) => server.addUpgradeRoute(pathname, route),
      };
      for (const factory of options.plugins ?? []) server.plugins.add(await factory(context));
      await server.#http.listen(config.http.port, config.http.listenIp);
    } catch (error) {
      await server.close();
      throw error;
    }
    logger.info(`start() | listening on ${server.scheme}://${config.http.listenIp}:${server.port} (signaling at /ws) [mediasoup:${mediasoup.version}]`);
    logger.info(`start() | WebRTC on ${server.rtc.listenIp} UDP+TCP ${config.mediasoup.rtcMinPort}-${config.mediasoup.rtcMaxPort}, announcing ${server.rtc.announcedIp} [${server.rtc.origin}]`);
    if (server.certificate) {
      const { certificate } = server;
      logger.info(`start() | TLS certificate ${certificate.source === 'config' ? certificate.certFile : `self-signed (${certificate.source}, ${certificate.certFile})`} SHA-256 ${certificate.fingerprint256}`);
    }
    return server;
  }

  /** What the port speaks to other machines: https with a certificate. */
  get scheme(): 'http' | 'https' {
    return this.certificate ? 'https' : 'http';
  }

  /** WebSocket connections open now, on every path (tests, health). */
  get connectionCount(): number {
    return this.#limiter.total;
  }

  /** This node's part in the cluster; undefined for a single node. */
  get cluster(): ClusterChannels | undefined {
    return this.#cluster;
  }

  get port(): number {
    return this.#http.port;
  }

  /** Adds an HTTP handler (web page, HTTP API); routes are tried in order. */
  addRoute(route: HttpRoute): void {
    this.#routes.push(route);
  }

  /** Serves WebSocket upgrades on `pathname` (exact match, query string ignored). */
  addUpgradeRoute(pathname: string, route: UpgradeRoute): void {
    if (pathname === '/ws' || this.#upgradeRoutes.has(pathname)) throw new TypeError(`an upgrade route for ${pathname} exists already`);
    this.#upgradeRoutes.set(pathname, route);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of this.#connections) connection.close();
    this.#wss.close();
    for (const route of this.#upgradeRoutes.values()) route.close();
    await this.#http.close();
    this.#http.closeAllConnections();
    this.registry.closeAll('the server is shutting down');
    // Plugins before the cluster: their last events (recordings stopped by the shutdown) still reach
    // it. Then the channels' leases are released and the node leaves the registry.
    await this.plugins.close();
    await this.#cluster?.close();
    this.pool.close();
  }

  #accept(socket: import('ws').WebSocket, request: http.IncomingMessage): void {
    const context: SessionContext = {
      config: this.config,
      rtcListenIp: this.rtc.listenIp,
      rtcAnnouncedIp: this.rtc.announcedFor(request.socket.localAddress),
      authSecret: this.authSecret,
      registry: this.registry,
      plugins: this.plugins,
      routerRtpCapabilities: this.#routerCapabilities(),
    };
    let session: PeerSession;
    const connection = new Connection(socket, {
      maxMessageBytes: this.config.signaling.maxMessageBytes,
      maxRequestsPerSecond: this.config.signaling.maxRequestsPerSecond,
      handle: (method, data) => session.handle(method, data),
      extraMethods: (method) => this.plugins.findHandler(method) !== undefined,
      limits: socketLimits(this.config.signaling),
      // The session is created right after the connection, which asks already while constructing.
      established: () => session?.joined ?? false,
      label: `signaling ${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`,
      logFields: () => session?.logFields ?? {},
      onClose: () => {
        this.#connections.delete(connection);
        session.close();
      },
    });
    session = new PeerSession(context, (notification, data) => connection.notify(notification, data));
    this.#connections.add(connection);
  }

  #upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = request.url ?? '/';
    const index = url.indexOf('?');
    const pathname = index === -1 ? url : url.slice(0, index);
    const route = this.#upgradeRoutes.get(pathname);
    if ((pathname === '/ws' || route) && !this.#closed) {
      if (!this.#limiter.admit(socket)) return;
      if (route) route.handleUpgrade(request, socket, head);
      else this.#wss.handleUpgrade(request, socket, head, (ws) => this.#wss.emit('connection', ws, request));
      return;
    }
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  #cachedCapabilities: mediasoup.types.RtpCapabilities | undefined;
  #routerCapabilities(): mediasoup.types.RtpCapabilities {
    this.#cachedCapabilities ??= computeRouterCapabilities();
    return this.#cachedCapabilities;
  }

  async #serveHttp(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      if (request.url === '/healthz') {
        sendJson(response, 200, { ok: true, workers: this.pool.workers.length, channels: this.registry.size });
        return;
      }
      for (const route of this.#routes) {
        if (await route(request, response)) return;
      }
      sendErrorBody(response, 404, SignalingErrorCode.NotFound, 'no such resource');
    } catch (error) {
      logger.error(`HTTP ${request.method} ${request.url} failed: ${String(error)}`);
      sendErrorBody(response, 500, SignalingErrorCode.Internal, 'internal error');
    }
  }
}

/** What a generated certificate names: this machine's names and the addresses clients use. */
function certificateNames(announcedIp: string, listenIp: string): { dnsNames: string[]; ipAddresses: string[] } {
  const addresses = ['127.0.0.1', '::1', announcedIp, ...(isWildcard(listenIp) ? [] : [listenIp])];
  // A host name that is not a valid DNS name would make the certificate malformed to strict clients.
  const hostName = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(os.hostname()) ? [os.hostname()] : [];
  return { dnsNames: [...new Set(['localhost', ...hostName])], ipAddresses: [...new Set(addresses)] };
}

/**
 * Router RTP capabilities depend only on MEDIA_CODECS, so clients may fetch them before joining.
 * mediasoup computes them per router; this mirrors that without a router by asking ortc.
 */
function computeRouterCapabilities(): mediasoup.types.RtpCapabilities {
  const ortc = require('mediasoup/node/lib/ortc') as { generateRouterRtpCapabilities: (codecs: unknown) => mediasoup.types.RtpCapabilities };
  return ortc.generateRouterRtpCapabilities(MEDIA_CODECS);
}
