import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { isLoopback } from '../network/RtcAddresses';

export interface PortHandlers {
  request(request: http.IncomingMessage, response: http.ServerResponse): void;
  upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** First byte of a TLS ClientHello (record type handshake). */
const TLS_HANDSHAKE = 0x16;
/** A connection that sends nothing for this long is dropped before it reaches HTTP. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/**
 * One TCP port for the web page, the APIs and WebSocket signaling. Without TLS it is plain HTTP.
 * With TLS it serves HTTPS (and WSS) to everyone and, by the first byte of each connection, plain
 * HTTP (and WS) to clients on this machine — local scripts, benchmarks and a TLS-terminating
 * reverse proxy keep working with http://127.0.0.1. Plain HTTP from another machine is redirected
 * to https:// (308; WebSocket upgrades are refused with 426), since browsers give the camera only
 * to secure pages.
 */
export class PortListener {
  readonly #tcp: net.Server;
  readonly #plain: http.Server;
  readonly #secure: https.Server | undefined;
  readonly #redirect: http.Server | undefined;
  readonly #sockets = new Set<net.Socket>();

  constructor(handlers: PortHandlers, tls?: { cert: string; key: string }) {
    this.#plain = http.createServer(handlers.request);
    this.#plain.on('upgrade', handlers.upgrade);
    if (!tls) {
      this.#tcp = this.#plain;
      return;
    }
    this.#secure = https.createServer({ cert: tls.cert, key: tls.key }, handlers.request);
    this.#secure.on('upgrade', handlers.upgrade);
    // A failed handshake (a browser that has not accepted the certificate yet) is the client's business.
    this.#secure.on('tlsClientError', (_error, socket) => socket.destroy());
    this.#redirect = http.createServer(redirectToHttps);
    this.#redirect.on('upgrade', refuseInsecureUpgrade);
    this.#tcp = net.createServer((socket) => this.#route(socket));
  }

  /** Servers whose options (timeouts, header limits) the caller may tune. */
  get httpServers(): http.Server[] {
    return [this.#plain, this.#secure, this.#redirect].filter((server): server is http.Server => server !== undefined);
  }

  get secure(): boolean {
    return this.#secure !== undefined;
  }

  get port(): number {
    return (this.#tcp.address() as net.AddressInfo).port;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#tcp.once('error', reject);
      this.#tcp.listen(port, host, () => {
        this.#tcp.off('error', reject);
        // The HTTP servers fed by 'connection' events never listen themselves: 'listening' starts
        // their connection tracking (headers/request timeouts, closeAllConnections).
        if (this.#tcp !== this.#plain) for (const server of this.httpServers) server.emit('listening');
        resolve();
      });
    });
  }

  /** Stops accepting, closes idle keep-alive connections and resolves once every connection ended. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    if (this.#tcp !== this.#plain) {
      for (const server of this.httpServers) server.close();
      for (const socket of this.#sockets) socket.destroy();
    }
    return closed;
  }

  closeAllConnections(): void {
    for (const server of this.httpServers) server.closeAllConnections();
  }

  #route(socket: net.Socket): void {
    this.#sockets.add(socket);
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => {
      socket.destroy();
    });
    socket.once('close', () => this.#sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      this.#sockets.delete(socket);
      socket.setTimeout(0);
      socket.off('error', onError);
      // Back into the socket's buffer, paused: TLS reads what is buffered itself on its next tick
      // (flowing, it would be emitted to nobody); HTTP reads it through its 'data' listener.
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) this.#secure!.emit('connection', socket);
      else {
        (isLoopback(socket.remoteAddress ?? '') ? this.#plain : this.#redirect!).emit('connection', socket);
        socket.resume();
      }
    });
  }
}

function redirectToHttps(request: http.IncomingMessage, response: http.ServerResponse): void {
  const host = request.headers.host;
  if (!host) {
    response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    response.end('This port serves HTTPS: use https://\n');
    return;
  }
  const location = `https://${host}${request.url ?? '/'}`;
  response.writeHead(308, { location, 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  response.end(`This server uses HTTPS (browsers give the camera only to secure pages): ${location}\n`);
}

function refuseInsecureUpgrade(_request: http.IncomingMessage, socket: Duplex): void {
  socket.on('error', () => undefined);
  const body = 'This port serves WebSockets as wss://\n';
  socket.end(`HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}
