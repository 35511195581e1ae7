import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { types as ms } from 'mediasoup';
import { WebSocket, WebSocketServer } from 'ws';
import { SignalingErrorCode } from '../../../signaling/errors';
import { isId } from '../../../signaling/schemas/common';
import {
  isMediaLinkMethod,
  MEDIA_LINK_PATH,
  mediaLinkRequestSchemas,
  type MediaLinkMethod,
  type MediaLinkNotifications,
} from '../../../signaling/schemas/mediaLink';
import type { Checker } from '../../../signaling/schemas/validate';
import { Connection, type RequestTable } from '../../../server/Connection';
import { isNodeId } from '../../../server/cluster/nodeId';
import type { ApiAuthenticator } from '../../../server/http/basicAuth';
import { ApiError, toApiError } from '../../../server/http/apiError';
import { Logger } from '../../../server/logger';
import type { ChannelHandle } from '../../../server/plugins/contract';
import type { SocketLimits } from '../../../server/SocketSupervisor';
import type { ProducerInfo } from './ChannelMedia';
import { type KeyFrameRequestVia, MediaLinkSession } from './MediaLinkSession';
import { shutdownSockets } from '../../../server/shutdownSockets';
import { TypedEmitter } from '../../../server/TypedEmitter';

const logger = new Logger('MediaLinkServer');

const MEDIA_LINK_REQUESTS: RequestTable = {
  has: isMediaLinkMethod,
  checker: (method) => mediaLinkRequestSchemas[method as MediaLinkMethod] as Checker<unknown>,
};

/**
 * Requests a link may make per second. A recorder starting on a large channel wires every producer
 * at once (openInput, connect, resume, key-frame requests: 4+ each), far beyond what a client's
 * signaling socket needs; the bound only stops a runaway node.
 */
export const MEDIA_LINK_MAX_REQUESTS_PER_SECOND = 5000;

type Link = { session: MediaLinkSession; connection: Connection };

export type MediaLinkServerEvents = {
  /** A recorder node asked for a key frame of one of this node's video producers. */
  keyFrameRequest: [via: KeyFrameRequestVia];
};

export interface MediaLinkServerOptions {
  findChannel(channelId: string): ChannelHandle | undefined;
  /** `create=1`: opens the channel here where its lease allows (rejects with REDIRECT where it does not). */
  openChannel(channelId: string): Promise<ChannelHandle>;
  /** The HTTP API's credentials: every node of a cluster shares them. */
  auth: ApiAuthenticator;
  /** Where the links' PlainTransports listen (this node's RTP address: see rtpListenIp). */
  listenIp: ms.TransportListenIp;
  maxMessageBytes: number;
  /** Default MEDIA_LINK_MAX_REQUESTS_PER_SECOND. */
  maxRequestsPerSecond?: number;
  /** ws maxPayload: the bound on one message, a fragmented one counted whole. */
  maxPayload: number;
  limits: SocketLimits;
}

/**
 * The media node's end of media links (MEDIA_LINK_PATH, see signaling/schemas/mediaLink.ts): a
 * recorder node on another machine follows a channel of this node and receives its RTP. The
 * upgrade is authenticated with the HTTP API's credentials and refused unless the channel is open
 * here. The recording plugin's hooks pass the channel's changes on through the methods below.
 */
export class MediaLinkServer extends TypedEmitter<MediaLinkServerEvents> {
  readonly #options: MediaLinkServerOptions;
  readonly #wss: WebSocketServer;
  /** Open links by channel id. */
  readonly #links = new Map<string, Set<Link>>();
  readonly #sockets = new Set<WebSocket>();
  #linkCounter = 0;
  #closed = false;

  constructor(options: MediaLinkServerOptions) {
    super();
    this.#options = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  }

  /** Open links (of every channel, or of one). */
  linkCount(channelId?: string): number {
    if (channelId !== undefined) return this.#links.get(channelId)?.size ?? 0;
    let count = 0;
    for (const links of this.#links.values()) count += links.size;
    return count;
  }

  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.#upgrade(request, socket, head);
  }

  async #upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    let channel: ChannelHandle;
    let nodeId: string;
    try {
      this.#options.auth.check(request);
      const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
      const channelId = query.get('channel');
      const node = query.get('node');
      if (!isId(channelId)) throw new ApiError(400, SignalingErrorCode.BadRequest, `${MEDIA_LINK_PATH} needs ?channel=<channel id>`);
      if (!isNodeId(node)) throw new ApiError(400, SignalingErrorCode.BadRequest, `${MEDIA_LINK_PATH} needs &node=<the linking node's id>`);
      const found = query.get('create') === '1' ? await this.#openChannel(channelId) : this.#options.findChannel(channelId);
      if (!found || found.closed) throw new ApiError(404, SignalingErrorCode.NotFound, `channel ${channelId} is not open on this node`);
      channel = found;
      nodeId = node;
    } catch (error) {
      refuseUpgrade(socket, toApiError(error));
      return;
    }
    if (this.#closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request, channel, nodeId));
  }

  async #openChannel(channelId: string): Promise<ChannelHandle | undefined> {
    try {
      return await this.#options.openChannel(channelId);
    } catch {
      // Its lease is another node's (or Redis is away): not open here, which the refusal says.
      return undefined;
    }
  }

  producerAdded(channelId: string, producer: ProducerInfo): void {
    this.#notify(channelId, 'producerAdded', producer);
  }

  producerClosed(channelId: string, producerId: string): void {
    this.#notify(channelId, 'producerClosed', { producerId });
  }

  producerPaused(channelId: string, producerId: string, paused: boolean): void {
    this.#notify(channelId, 'producerPaused', { producerId, paused });
  }

  peerCount(channelId: string, count: number): void {
    this.#notify(channelId, 'peerCount', { count });
  }

  /** Tells the channel's links why it closed, then closes them. */
  channelClosed(channelId: string, reason: string): void {
    const links = this.#links.get(channelId);
    if (!links) return;
    for (const link of [...links]) {
      link.session.notify('channelClosed', { reason });
      link.connection.close();
    }
  }

  /** Closes every link (1001): called before the HTTP server closes, which waits for them. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    shutdownSockets(this.#sockets);
    this.#wss.close();
  }

  #accept(socket: WebSocket, request: http.IncomingMessage, channel: ChannelHandle, nodeId: string): void {
    const owner = `medialink:${nodeId}:${++this.#linkCounter}`;
    const label = `media link ${owner} ${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    if (channel.closed) {
      socket.close(1000, 'channel closed');
      return;
    }
    let link: Link | undefined;
    const connection = new Connection(socket, {
      maxMessageBytes: this.#options.maxMessageBytes,
      maxRequestsPerSecond: this.#options.maxRequestsPerSecond ?? MEDIA_LINK_MAX_REQUESTS_PER_SECOND,
      requests: MEDIA_LINK_REQUESTS,
      extraMethods: () => false,
      handle: (method, data) => link!.session.handle(method as MediaLinkMethod, data),
      limits: this.#options.limits,
      // Authenticated on upgrade, for one channel: there is nothing to join.
      established: () => true,
      label,
      logFields: () => ({ channelId: channel.channelId, link: owner }),
      onClose: () => {
        this.#sockets.delete(socket);
        if (link) this.#forget(link);
      },
    });
    this.#sockets.add(socket);
    const session = new MediaLinkSession({
      channel,
      owner,
      listenIp: this.#options.listenIp,
      notify: (notification, data) => connection.notify(notification, data),
      onKeyFrameRequest: (via) => this.safeEmit('keyFrameRequest', via),
    });
    link = { session, connection };
    let links = this.#links.get(channel.channelId);
    if (!links) this.#links.set(channel.channelId, (links = new Set()));
    links.add(link);
    logger.debug(`accept() | ${label} follows channel ${channel.channelId}`);
  }

  #forget(link: Link): void {
    const links = this.#links.get(link.session.channelId);
    links?.delete(link);
    if (links?.size === 0) this.#links.delete(link.session.channelId);
    link.session.close();
  }

  #notify<N extends keyof MediaLinkNotifications>(channelId: string, notification: N, data: MediaLinkNotifications[N]): void {
    for (const link of this.#links.get(channelId) ?? []) link.session.notify(notification, data);
  }
}

/** An upgrade refused with an HTTP answer the linking node reads: `{ error: { code, message } }`. */
function refuseUpgrade(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  const headers = [
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(error.status === 401 ? ['WWW-Authenticate: Basic realm="confrec"'] : []),
  ];
  socket.on('error', () => undefined);
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
