import type { WebSocket } from 'ws';
import { SOCKET_CLOSE_REASONS, SocketCloseCode } from '../signaling/errors';
import { LogBindings, Logger } from './logger';

const logger = new Logger('SocketSupervisor');

/** The per-socket limits of config `signaling` (both socket paths). */
export interface SocketLimits {
  maxBufferedBytes: number;
  joinTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/**
 * After a close frame, how long a client gets to answer it before the TCP connection is cut. A
 * client that does not read never sees the close frame queued behind what it did not read.
 */
const CLOSE_GRACE_MS = 2000;

export interface SocketSupervisorOptions {
  limits: SocketLimits;
  /** True while the socket's session is joined (recorder SDK: follows a recording). */
  established: () => boolean;
  /** True while a request of the socket is queued or being served (a slow join is not idleness). */
  busy: () => boolean;
  /** For log lines: which endpoint and client. */
  label: string;
  /** Ids of the session behind the socket, for log lines. */
  logFields?: () => LogBindings;
}

/**
 * Keeps one server-side WebSocket from holding server resources for nothing: closes it when it has
 * not joined in time (4001), stops answering pings (4002) or leaves more than maxBufferedBytes
 * unread (4008). Once closed the socket gets nothing more, so what the server holds for it is
 * bounded by the limit plus one message.
 */
export class SocketSupervisor {
  readonly #socket: WebSocket;
  readonly #options: SocketSupervisorOptions;
  readonly #pingTimer: NodeJS.Timeout;
  #joinTimer: NodeJS.Timeout | undefined;
  #pongTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(socket: WebSocket, options: SocketSupervisorOptions) {
    this.#socket = socket;
    this.#options = options;
    const alive = (): void => {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    };
    socket.on('pong', alive);
    socket.on('message', alive);
    socket.once('close', () => this.stop());
    this.#pingTimer = setInterval(() => this.#ping(), options.limits.pingIntervalMs).unref();
    this.#armJoinTimer();
  }

  /** Call after every send: closes the socket once its unsent bytes pass the limit. */
  checkBuffered(): void {
    const buffered = this.#socket.bufferedAmount;
    if (buffered > this.#options.limits.maxBufferedBytes) {
      this.#closeWith(SocketCloseCode.SlowConsumer, `${buffered} bytes unread, more than signaling.maxBufferedBytes (${this.#options.limits.maxBufferedBytes})`);
    }
  }

  /** Call when a request settles: a session that is not (or no longer) joined must join again in time. */
  requestSettled(): void {
    this.#armJoinTimer();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#joinTimer);
    clearTimeout(this.#pongTimer);
  }

  #armJoinTimer(): void {
    if (this.#stopped || this.#joinTimer || this.#options.established()) return;
    this.#joinTimer = setTimeout(() => {
      this.#joinTimer = undefined;
      if (this.#options.established()) return;
      if (this.#options.busy()) this.#armJoinTimer();
      else this.#closeWith(SocketCloseCode.JoinTimeout, `not joined within signaling.joinTimeoutMs (${this.#options.limits.joinTimeoutMs} ms)`);
    }, this.#options.limits.joinTimeoutMs).unref();
  }

  #ping(): void {
    if (this.#stopped || this.#pongTimer || this.#socket.readyState !== this.#socket.OPEN) return;
    // A session that left (or whose channel closed under it) is held to the join deadline again.
    this.#armJoinTimer();
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = undefined;
      this.#closeWith(SocketCloseCode.PingTimeout, `no pong within signaling.pingTimeoutMs (${this.#options.limits.pingTimeoutMs} ms)`);
    }, this.#options.limits.pingTimeoutMs).unref();
    this.#socket.ping();
  }

  #closeWith(code: SocketCloseCode, why: string): void {
    if (this.#stopped) return;
    this.stop();
    logger.info(`close() | ${this.#options.label}: ${code} ${SOCKET_CLOSE_REASONS[code]} (${why})`, this.#options.logFields?.());
    const socket = this.#socket;
    if (socket.readyState === socket.OPEN) socket.close(code, SOCKET_CLOSE_REASONS[code]);
    // A client that reads nothing will not answer the close either: stop reading what it keeps sending.
    if (code === SocketCloseCode.SlowConsumer) socket.pause();
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
