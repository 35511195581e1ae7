import type { WebSocket, RawData } from 'ws';
import { CodedError, SignalingErrorCode, toCodedError } from '../signaling/errors';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../signaling/jsonDepth';
import { isMethod, requestEnvelopeSchema, requestSchemas, ResponseMessage } from '../signaling/protocol';
import { type Checker, SchemaError } from '../signaling/schemas/validate';
import { LogBindings, Logger } from './logger';
import { SocketLimits, SocketSupervisor } from './SocketSupervisor';

const logger = new Logger('Connection');

/** The methods a socket speaks, each with the checker of its request data. */
export interface RequestTable {
  has(method: string): boolean;
  checker(method: string): Checker<unknown>;
}

/** Channel signaling's methods (signaling/schemas/signaling.ts). */
export const SIGNALING_REQUESTS: RequestTable = {
  has: isMethod,
  checker: (method) => requestSchemas[method as keyof typeof requestSchemas] as Checker<unknown>,
};

export interface ConnectionOptions {
  maxMessageBytes: number;
  maxRequestsPerSecond: number;
  /** Serves one validated request; throws CodedError to answer with an error. */
  handle: (method: string, data: unknown) => Promise<unknown>;
  /** The protocol's methods, validated here before `handle` sees them. Default: channel signaling's. */
  requests?: RequestTable;
  /** Methods not in the protocol's schema table that a plugin claims (validated by the plugin). */
  extraMethods: (method: string) => boolean;
  /** Join deadline, pings, unread-bytes limit (config `signaling`). */
  limits: SocketLimits;
  /** True while the session behind the socket is joined; an unjoined socket is closed after joinTimeoutMs. */
  established: () => boolean;
  /** Names the socket in log lines (endpoint and client address). */
  label: string;
  /** Ids of the session behind the socket for its log lines (a joined peer: channelId, uid). */
  logFields?: () => LogBindings;
  onClose: () => void;
}

/**
 * One WebSocket: turns frames into validated requests, answers each exactly once, and keeps going
 * after bad input. Requests of one connection run one at a time, in order, so a client cannot race
 * its own join against its own produce. A SocketSupervisor closes the socket when it idles unjoined,
 * stops answering pings or does not read what it is sent.
 */
export class Connection {
  readonly #socket: WebSocket;
  readonly #options: ConnectionOptions;
  readonly #supervisor: SocketSupervisor;
  #queue: Promise<void> = Promise.resolve();
  /** Requests queued or being served. */
  #pending = 0;
  #windowStart = Date.now();
  #windowCount = 0;
  #closed = false;

  constructor(socket: WebSocket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.on('message', (raw, isBinary) => this.#onMessage(raw, isBinary));
    socket.on('close', () => this.close());
    socket.on('error', (error) => logger.warn(`socket error (${options.label}): ${error.message}`, options.logFields?.()));
    this.#supervisor = new SocketSupervisor(socket, {
      limits: options.limits,
      established: options.established,
      busy: () => this.#pending > 0,
      label: options.label,
      logFields: options.logFields,
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  notify(notification: string, data: unknown): void {
    this.#send({ notification, data });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#supervisor.stop();
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.close(1000, 'bye');
    this.#options.onClose();
  }

  #onMessage(raw: RawData, isBinary: boolean): void {
    // A socket being closed (slow consumer, timeouts, bye) can carry no answer: its requests are not served.
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    const size = Array.isArray(raw) ? raw.reduce((sum, part) => sum + part.length, 0) : (raw as Buffer).byteLength;
    if (size > this.#options.maxMessageBytes) {
      this.#replyError(null, new CodedError(SignalingErrorCode.MessageTooLarge, `message of ${size} bytes exceeds ${this.#options.maxMessageBytes}`));
      return;
    }
    // Every frame counts towards the rate; the answer carries the request's id when the frame has one,
    // so a client's own request fails at once instead of waiting out its timeout.
    const admitted = this.#admit();
    const rateLimited = (): CodedError => new CodedError(SignalingErrorCode.RateLimited, 'too many requests; slow down');
    if (isBinary) {
      this.#replyError(null, admitted ? new CodedError(SignalingErrorCode.BadJson, 'binary frames are not accepted; send JSON text') : rateLimited());
      return;
    }
    const text = raw.toString();
    if (jsonNestsDeeperThan(text)) {
      this.#replyError(null, admitted ? new CodedError(SignalingErrorCode.BadJson, `message nests deeper than ${MAX_JSON_DEPTH} levels`) : rateLimited());
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#replyError(null, admitted ? new CodedError(SignalingErrorCode.BadJson, 'message is not valid JSON') : rateLimited());
      return;
    }
    const rawId = (message as { id?: unknown } | null)?.id;
    const replyId = typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : null;
    if (!admitted) {
      this.#replyError(replyId, rateLimited());
      return;
    }
    let envelope;
    try {
      envelope = requestEnvelopeSchema.parse(message);
    } catch (error) {
      this.#replyError(replyId, new CodedError(SignalingErrorCode.BadRequest, (error as Error).message));
      return;
    }
    const { id, method } = envelope;
    let data: unknown = envelope.data;
    const requests = this.#options.requests ?? SIGNALING_REQUESTS;
    if (requests.has(method)) {
      try {
        data = requests.checker(method).parse(envelope.data, 'data');
      } catch (error) {
        const message = error instanceof SchemaError ? error.message : String(error);
        this.#replyError(id, new CodedError(SignalingErrorCode.BadRequest, message));
        return;
      }
    } else if (!this.#options.extraMethods(method)) {
      this.#replyError(id, new CodedError(SignalingErrorCode.UnknownMethod, `unknown method ${JSON.stringify(method.slice(0, 64))}`));
      return;
    }
    this.#pending++;
    this.#queue = this.#queue.then(() => this.#serve(id, method, data)).finally(() => {
      this.#pending--;
      this.#supervisor.requestSettled();
    });
  }

  async #serve(id: number, method: string, data: unknown): Promise<void> {
    if (this.#closed) return;
    try {
      const result = await this.#options.handle(method, data);
      this.#send({ id, ok: true, data: result ?? {} } satisfies ResponseMessage);
    } catch (error) {
      const coded = toCodedError(error);
      if (coded.code === SignalingErrorCode.Internal) logger.error(`${method} failed: ${(error as Error)?.stack ?? String(error)}`, this.#options.logFields?.());
      this.#replyError(id, coded);
    }
  }

  #admit(): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    this.#windowCount++;
    return this.#windowCount <= this.#options.maxRequestsPerSecond;
  }

  #replyError(id: number | null, error: CodedError): void {
    this.#send({ id, ok: false, error: error.toJSON() } satisfies ResponseMessage);
  }

  #send(message: unknown): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(JSON.stringify(message));
    this.#supervisor.checkBuffered();
  }
}
