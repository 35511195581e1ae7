import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import * as mediasoup from 'mediasoup';
import type { ServerConfig } from '../config/defaults';
import { PluginContext, PluginHost, ServerPlugin } from '../plugin/PluginHost';
import { resolveAuthSecret, verifyToken } from './auth/token';
import { CodedError, SignalingErrorCode } from '../signaling/errors';
import { ChannelRegistry } from './ChannelRegistry';
import { describeConfig } from './config';
import { sendErrorBody, sendJson } from './http/json';
import { Connection } from './Connection';
import { ConnectionLimiter } from './ConnectionLimiter';
import { Logger, registerSecret } from './logger';
import { MEDIA_CODECS } from './mediaCodecs';
import { PeerSession, SessionContext } from './PeerSession';
import { maxPayloadFor, socketLimits } from './socketLimits';
import { WorkerPool } from './WorkerPool';

const logger = new Logger('MediaServer');

/** Builds the plugins for a server; called once the server's channels exist. */
export type PluginFactory = (context: PluginContext & { config: ServerConfig }) => Promise<ServerPlugin> | ServerPlugin;

export interface HttpRoute {
  /** Returns true when it handled the request. */
  (request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> | boolean;
}

/** A WebSocket endpoint on its own path (e.g. the recorder SDK's), beside signaling at '/ws'. */
export interface UpgradeRoute {
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes its sockets: called before the HTTP server closes, which waits for them. */
  close(): void;
}

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
  readonly #http: http.Server;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  readonly #routes: HttpRoute[] = [];
  readonly #upgradeRoutes = new Map<string, UpgradeRoute>();
  /** One count of sockets for every upgrade path, per IP and in total. */
  readonly #limiter: ConnectionLimiter;
  #closed = false;

  private constructor(config: ServerConfig, pool: WorkerPool, authSecret: string) {
    this.config = config;
    this.pool = pool;
    this.authSecret = authSecret;
    this.plugins = new PluginHost(new Logger('PluginHost'));
    this.registry = new ChannelRegistry(pool, this.plugins);
    this.#http = http.createServer((request, response) => void this.#serveHttp(request, response));
    this.#limiter = new ConnectionLimiter(config.signaling);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadFor(config.signaling) });
    this.#wss.on('connection', (socket, request: http.IncomingMessage) => this.#accept(socket, request));
    // Upgrades are routed by path: '/ws' is signaling; other paths are added with addUpgradeRoute().
    this.#http.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head));
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
    const server = new MediaServer(config, pool, authSecret);
    try {
      const context = {
        config,
        logger: new Logger('plugin'),
        getOrCreateChannel: (channelId: string, type?: 'Communication' | 'Live') => server.registry.getOrCreate(channelId, type),
        findChannel: (channelId: string) => server.registry.find(channelId),
        authorize: (appId: string, channelId: string, token: string) => {
          if (!config.auth.enabled) return { uid: 'backend', privileges: { publish: true, record: true } };
          if (appId !== config.auth.appId) throw new CodedError(SignalingErrorCode.TokenMismatch, 'unknown app id');
          return verifyToken(authSecret, token, { appId, channelId });
        },
      };
      for (const factory of options.plugins ?? []) server.plugins.add(await factory(context));
      await new Promise<void>((resolve, reject) => {
        server.#http.once('error', reject);
        server.#http.listen(config.http.port, config.http.listenIp, () => resolve());
      });
    } catch (error) {
      await server.close();
      throw error;
    }
    logger.info(`start() | listening on http://${config.http.listenIp}:${server.port} (signaling at /ws) [mediasoup:${mediasoup.version}]`);
    return server;
  }

  /** WebSocket connections open now, on every path (tests, health). */
  get connectionCount(): number {
    return this.#limiter.total;
  }

  get port(): number {
    return (this.#http.address() as AddressInfo).port;
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
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeAllConnections();
    this.registry.closeAll('the server is shutting down');
    await this.plugins.close();
    this.pool.close();
  }

  #accept(socket: import('ws').WebSocket, request: http.IncomingMessage): void {
    const context: SessionContext = {
      config: this.config,
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

/**
 * Router RTP capabilities depend only on MEDIA_CODECS, so clients may fetch them before joining.
 * mediasoup computes them per router; this mirrors that without a router by asking ortc.
 */
function computeRouterCapabilities(): mediasoup.types.RtpCapabilities {
  const ortc = require('mediasoup/node/lib/ortc') as { generateRouterRtpCapabilities: (codecs: unknown) => mediasoup.types.RtpCapabilities };
  return ortc.generateRouterRtpCapabilities(MEDIA_CODECS);
}
