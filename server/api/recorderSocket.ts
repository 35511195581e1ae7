import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { isRecorderMethod } from '../../signaling/recorder/protocol';
import { Connection } from '../Connection';
import { Logger } from '../logger';
import { RecorderSession, RecorderSessionContext } from './RecorderSession';

const logger = new Logger('RecorderSocketServer');

export interface RecorderSocketServerOptions {
  maxMessageBytes: number;
  maxRequestsPerSecond: number;
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
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(options.maxMessageBytes * 4, 1024 * 1024) });
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws));
  }

  /** Cuts every SDK connection without a close handshake (what a network failure looks like). */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.terminate();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets) socket.close(1001, 'server shutting down');
    // Sockets that do not answer the close handshake would hold the HTTP server open.
    for (const socket of this.#sockets) setTimeout(() => socket.terminate(), 1000).unref();
    this.#wss.close();
  }

  #accept(socket: WebSocket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    let session: RecorderSession;
    const connection = new Connection(socket, {
      maxMessageBytes: this.#options.maxMessageBytes,
      maxRequestsPerSecond: this.#options.maxRequestsPerSecond,
      handle: (method, data) => session.handle(method, data),
      extraMethods: isRecorderMethod,
      onClose: () => session.close(),
    });
    session = new RecorderSession(this.#context, (notification, data) => connection.notify(notification, data));
    logger.debug(`accept() | recorder SDK connected (${this.#sockets.size} open)`);
  }
}
