import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { isRecorderMethod } from '../../../signaling/recorder/protocol';
import { Connection } from '../../../server/Connection';
import { Logger } from '../../../server/logger';
import type { SocketLimits } from '../../../server/SocketSupervisor';
import { RecorderSession, RecorderSessionContext } from './RecorderSession';
import { shutdownSockets } from '../../../server/shutdownSockets';

const logger = new Logger('RecorderSocketServer');

export interface RecorderSocketServerOptions {
  maxMessageBytes: number;
  maxRequestsPerSecond: number;
  /** ws maxPayload: the bound on one message, a fragmented one counted whole. */
  maxPayload: number;
  limits: SocketLimits;
}

/**
 * The recorder SDK's WebSocket endpoint (RECORDER_SOCKET_PATH): one RecorderSession per socket.
 * Sockets come in through MediaServer's upgrade routing.
 */
export class RecorderSocketServer {
  readonly #wss: WebSocketServer;
  readonly #context: RecorderSessionContext;
  readonly #options: RecorderSocketServerOptions;
  readonly #sockets = new Set<WebSocket>();
  #closed = false;

  constructor(context: RecorderSessionContext, options: RecorderSocketServerOptions) {
    this.#context = context;
    this.#options = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request));
  }

  /** Cuts every SDK connection without a close handshake (what a network failure looks like). */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.terminate();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    shutdownSockets(this.#sockets);
    this.#wss.close();
  }

  #accept(socket: WebSocket, request: http.IncomingMessage): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    let session: RecorderSession;
    const connection = new Connection(socket, {
      maxMessageBytes: this.#options.maxMessageBytes,
      maxRequestsPerSecond: this.#options.maxRequestsPerSecond,
      handle: (method, data) => session.handle(method, data),
      extraMethods: isRecorderMethod,
      limits: this.#options.limits,
      // The session is created right after the connection, which asks already while constructing.
      established: () => session?.established ?? false,
      label: `recorder SDK ${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`,
      onClose: () => session.close(),
    });
    session = new RecorderSession(this.#context, (notification, data) => connection.notify(notification, data));
    logger.debug(`accept() | recorder SDK connected (${this.#sockets.size} open)`);
  }
}
