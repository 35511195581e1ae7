import WebSocket from 'ws';
import { CodedError, isErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import {
  isMediaLinkNotification,
  MEDIA_LINK_PATH,
  mediaLinkNotificationSchemas,
  mediaLinkResponseSchemas,
  type MediaLinkMethod,
  type MediaLinkNotification,
  type MediaLinkNotifications,
  type MediaLinkRequestData,
  type MediaLinkResponses,
} from '../../../signaling/schemas/mediaLink';
import { SchemaError } from '../../../signaling/schemas/validate';
import { Logger } from '../../../server/logger';

const logger = new Logger('MediaLinkClient');

/** The deadline of every request, as the local recorder IPC has. */
export const MEDIA_LINK_REQUEST_TIMEOUT_MS = 5000;
/** Largest message taken from the media node (a snapshot of a channel with thousands of producers). */
const MAX_PAYLOAD = 1024 * 1024;
/** Largest refusal body read. */
const MAX_REFUSAL_BYTES = 16 * 1024;

export type MediaLinkNotificationListener = <N extends MediaLinkNotification>(notification: N, data: MediaLinkNotifications[N]) => void;

export interface MediaLinkClientOptions {
  /** The media node's publicUrl (http(s)://host:port). */
  url: string;
  channelId: string;
  /** This node's id: names the link's hold on the channel on the media node. */
  nodeId: string;
  /** Ask the media node to open the channel when it is not open yet (where its lease says it lives). */
  create?: boolean;
  /** The HTTP API's credentials (every node of a cluster shares them). */
  credentials: { appId: string; secret: string };
  /** Every notification, validated, in order: `snapshot` first. */
  onNotification: MediaLinkNotificationListener;
  /** Once, when the link closes after it opened (by either side, or lost). */
  onClose: (reason: string) => void;
  /** Default MEDIA_LINK_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** Until the snapshot is in. Default MEDIA_LINK_REQUEST_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** A ping this often; a media node that has not answered the last one by the next is gone. Default 5 s. */
  pingIntervalMs?: number;
}

type Pending = { method: MediaLinkMethod; resolve: (data: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

/**
 * The recorder node's end of a media link (signaling/schemas/mediaLink.ts): a WebSocket to the
 * media node with a deadline on every request, every message from it validated before it is
 * used, and pings that tell a media node that went silent from one that is merely quiet.
 * `open()` resolves once the snapshot arrived (it went to onNotification first).
 */
export class MediaLinkClient {
  readonly #socket: WebSocket;
  readonly #options: MediaLinkClientOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #label: string;
  #nextId = 1;
  #ready = false;
  #closed = false;
  #awaitingPong = false;
  #pingTimer: NodeJS.Timeout | undefined;

  private constructor(options: MediaLinkClientOptions) {
    this.#options = options;
    const base = options.url.replace(/\/+$/, '').replace(/^http/, 'ws');
    const query = new URLSearchParams({ channel: options.channelId, node: options.nodeId, ...(options.create ? { create: '1' } : {}) });
    this.#label = `${options.url} channel ${options.channelId}`;
    const authorization = `Basic ${Buffer.from(`${options.credentials.appId}:${options.credentials.secret}`).toString('base64')}`;
    this.#socket = new WebSocket(`${base}${MEDIA_LINK_PATH}?${query}`, { headers: { authorization }, maxPayload: MAX_PAYLOAD });
  }

  /** Rejects with the media node's refusal (UNAUTHORIZED, NOT_FOUND…), NODE_UNAVAILABLE or TIMEOUT. */
  static open(options: MediaLinkClientOptions): Promise<MediaLinkClient> {
    const client = new MediaLinkClient(options);
    return client.#open();
  }

  get closed(): boolean {
    return this.#closed;
  }

  request<M extends MediaLinkMethod>(method: M, data: MediaLinkRequestData<M>): Promise<MediaLinkResponses[M]> {
    if (this.#closed) return Promise.reject(new CodedError(SignalingErrorCode.ConnectionClosed, `the media link to ${this.#label} is closed`));
    const id = this.#nextId++;
    const timeoutMs = this.#options.requestTimeoutMs ?? MEDIA_LINK_REQUEST_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CodedError(SignalingErrorCode.Timeout, `${method} got no answer from ${this.#label} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (data: unknown) => void, reject, timer });
      this.#socket.send(JSON.stringify({ id, method, data }));
    });
  }

  /** Sends a raw frame (tests of malformed input). */
  sendRaw(frame: string): void {
    this.#socket.send(frame);
  }

  /** Idempotent; pending requests reject with CONNECTION_CLOSED. */
  close(reason = 'closed by this node'): void {
    if (this.#socket.readyState === WebSocket.OPEN || this.#socket.readyState === WebSocket.CONNECTING) this.#socket.close(1000, reason.slice(0, 120));
    this.#ended(reason);
  }

  #open(): Promise<MediaLinkClient> {
    const socket = this.#socket;
    const timeoutMs = this.#options.connectTimeoutMs ?? MEDIA_LINK_REQUEST_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let refusal: CodedError | undefined;
      let failure = '';
      const timer = setTimeout(() => {
        refusal ??= new CodedError(SignalingErrorCode.Timeout, `the media link to ${this.#label} was not up within ${timeoutMs} ms`);
        socket.terminate();
      }, timeoutMs);
      socket.on('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_REFUSAL_BYTES) chunks.push(chunk);
        });
        response.on('end', () => {
          refusal = refusalOf(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), this.#label);
          socket.terminate();
        });
        response.on('error', () => socket.terminate());
      });
      socket.on('error', (error) => (failure = error.message));
      socket.on('open', () => {
        this.#pingTimer = setInterval(() => this.#ping(), this.#options.pingIntervalMs ?? 5000);
      });
      socket.on('pong', () => (this.#awaitingPong = false));
      socket.on('message', (raw, isBinary) => {
        this.#awaitingPong = false;
        const snapshotBefore = this.#ready;
        this.#onMessage(isBinary ? '' : raw.toString());
        if (!snapshotBefore && this.#ready) {
          clearTimeout(timer);
          resolve(this);
        }
      });
      socket.on('close', (code, reason) => {
        clearTimeout(timer);
        const why = `${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`;
        if (!this.#ready) {
          reject(refusal ?? new CodedError(SignalingErrorCode.NodeUnavailable, `no media link to ${this.#label} (close ${why}${failure ? `: ${failure}` : ''})`));
        }
        this.#ended(`the media link to ${this.#label} closed (${why})`);
      });
    });
  }

  #onMessage(text: string): void {
    let message: { id?: unknown; ok?: unknown; data?: unknown; error?: { code?: unknown; message?: unknown }; notification?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
      if (typeof message !== 'object' || message === null) throw new TypeError('not an object');
    } catch {
      logger.warn(`a message of ${this.#label} is not a JSON object: ignored`);
      return;
    }
    if (typeof message.notification === 'string') {
      this.#onNotification(message.notification, message.data);
      return;
    }
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) {
      if (message.ok === false) logger.warn(`${this.#label} refused a message: ${String(message.error?.code)} ${String(message.error?.message)}`);
      return;
    }
    this.#pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.ok === true) {
      try {
        pending.resolve(mediaLinkResponseSchemas[pending.method].parse(message.data, 'data'));
      } catch (error) {
        pending.reject(new CodedError(SignalingErrorCode.Internal, `${this.#label} answered ${pending.method} wrongly: ${(error as Error).message}`));
      }
      return;
    }
    const code = isErrorCode(message.error?.code) ? message.error.code : SignalingErrorCode.Internal;
    pending.reject(new CodedError(code, String(message.error?.message ?? `${pending.method} failed`)));
  }

  #onNotification(name: string, data: unknown): void {
    if (!isMediaLinkNotification(name)) {
      logger.debug(`unknown notification ${name.slice(0, 64)} from ${this.#label}: ignored`);
      return;
    }
    let checked: MediaLinkNotifications[typeof name];
    try {
      checked = mediaLinkNotificationSchemas[name].parse(data, 'data');
    } catch (error) {
      logger.warn(`${name} from ${this.#label} is malformed (${error instanceof SchemaError ? error.message : String(error)}): ignored`);
      return;
    }
    // Everything the link says is relative to the snapshot: without one first it cannot be followed.
    if (!this.#ready && name !== 'snapshot') {
      this.close(`${this.#label} sent ${name} before its snapshot`);
      return;
    }
    if (name === 'snapshot') {
      if (this.#ready) return;
      this.#ready = true;
    }
    try {
      this.#options.onNotification(name, checked);
    } catch (error) {
      // A throwing listener must not unwind into ws's frame loop.
      logger.error(`the listener of ${name} from ${this.#label} threw: ${String(error)}`);
    }
  }

  #ping(): void {
    if (this.#awaitingPong) {
      logger.warn(`${this.#label} did not answer a ping: the link is lost`);
      this.#socket.terminate();
      return;
    }
    this.#awaitingPong = true;
    this.#socket.ping();
  }

  #ended(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new CodedError(SignalingErrorCode.ConnectionClosed, `${reason} before ${pending.method} (${id}) was answered`));
    }
    this.#pending.clear();
    if (this.#ready) this.#options.onClose(reason);
  }
}

/** The media node's HTTP answer to the upgrade, as the CodedError it names. */
function refusalOf(status: number, body: string, label: string): CodedError {
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  const code = isErrorCode(error?.code) ? error.code : SignalingErrorCode.NodeUnavailable;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  return new CodedError(code, `${label} refused the media link (HTTP ${status}): ${message}`);
}
