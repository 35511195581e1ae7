import type { WebSocket } from 'ws';
import { SOCKET_CLOSE_REASONS, SocketCloseCode } from '../signaling/errors';

/** Closes sockets for a server shutdown (1001); those that do not answer the close handshake — they would hold the HTTP server open — are cut after a second. */
export function shutdownSockets(sockets: Iterable<WebSocket>): void {
  for (const socket of sockets) {
    socket.close(SocketCloseCode.ServerShutdown, SOCKET_CLOSE_REASONS[SocketCloseCode.ServerShutdown]);
    setTimeout(() => socket.terminate(), 1000).unref();
  }
}
