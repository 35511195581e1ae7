import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SignalingErrorCode } from '../signaling/errors';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/**
 * Counts the WebSocket connections of every socket path together, per client IP and in total, and
 * refuses an upgrade over either cap before any WebSocket state exists for it: HTTP 429 when the
 * client's IP has its maximum open, 503 when the server has. A socket counts from its upgrade
 * request until its TCP connection closes. The IP is the TCP peer's: behind a reverse proxy every
 * client shares the proxy's address.
 */
export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  get total(): number {
    return this.#total;
  }

  /** Counts `socket` until it closes and returns true; or answers the refusal on it and returns false. */
  admit(socket: Duplex): boolean {
    const ip = clientIp(socket);
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxConnectionsPerIp) {
      refuse(socket, 429, 'Too Many Requests', `${fromIp} connections are open from your address, the most signaling.maxConnectionsPerIp allows`);
      return false;
    }
    if (this.#total >= this.#limits.maxConnections) {
      refuse(socket, 503, 'Service Unavailable', `the server has ${this.#total} connections open, the most signaling.maxConnections allows`);
      return false;
    }
    this.#perIp.set(ip, fromIp + 1);
    this.#total++;
    socket.once('close', () => {
      this.#total--;
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#perIp.set(ip, left);
      else this.#perIp.delete(ip);
    });
    return true;
  }
}

function clientIp(socket: Duplex): string {
  const address = (socket as Socket).remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function refuse(socket: Duplex, status: number, statusText: string, message: string): void {
  const body = JSON.stringify({ error: { code: SignalingErrorCode.TooManyConnections, message } });
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nRetry-After: 10\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // A client that ignores 'Connection: close' must not keep the refused socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}
