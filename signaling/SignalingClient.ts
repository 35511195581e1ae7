import { CodedError, isErrorCode, SignalingErrorCode } from './errors';
import type { Method, NotificationName, Notifications, RequestData } from './protocol';

/** The subset of the WebSocket API used here: satisfied by browsers' WebSocket and by `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

type Listener<T> = (data: T) => void;

/**
 * A signaling connection: request() answers with the response data or rejects with a CodedError
 * carrying the server's code; every pending request is rejected (CONNECTION_CLOSED) when the
 * socket closes. Browser- and Node-safe (pass a `ws` factory in Node).
 */
export class SignalingClient {
  readonly #socket: WebSocketLike;
  readonly #pending = new Map<number, { resolve: (data: unknown) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  readonly #listeners = new Map<string, Set<Listener<unknown>>>();
  readonly #closeListeners = new Set<(code: number, reason: string) => void>();
  readonly #timeoutMs: number;
  #nextId = 1;
  #closed = false;

  private constructor(socket: WebSocketLike, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onclose = (event) => this.#onClose(event?.code ?? 1006, event?.reason ?? '');
    socket.onerror = () => undefined;
  }

  /**
   * Opens the socket. A refused upgrade (TOO_MANY_CONNECTIONS: HTTP 429 per IP, 503 in total) rejects
   * with CONNECTION_CLOSED; in Node the message names the status, browsers do not expose it.
   */
  static connect(url: string, factory: WebSocketFactory, options: { timeoutMs?: number } = {}): Promise<SignalingClient> {
    const socket = factory(url);
    const client = new SignalingClient(socket, options.timeoutMs ?? 15_000);
    let failure = '';
    return new Promise((resolve, reject) => {
      socket.onopen = () => {
        socket.onerror = () => undefined;
        resolve(client);
      };
      socket.onerror = (event) => {
        const message = (event as { message?: unknown } | null)?.message;
        if (typeof message === 'string') failure = message;
      };
      socket.onclose = (event) => {
        client.#onClose(event?.code ?? 1006, event?.reason ?? '');
        const why = [event?.reason, failure].filter(Boolean).join(': ');
        reject(new CodedError(SignalingErrorCode.ConnectionClosed, `cannot connect to ${url} (close code ${event?.code ?? 1006}${why ? `, ${why}` : ''})`));
      };
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  request<M extends Method>(method: M, data?: RequestData<M>): Promise<any>;
  request(method: string, data?: unknown): Promise<any>;
  request(method: string, data?: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(new CodedError(SignalingErrorCode.ConnectionClosed, 'the connection is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CodedError(SignalingErrorCode.Timeout, `${method} got no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#socket.send(JSON.stringify(data === undefined ? { id, method } : { id, method, data }));
    });
  }

  /** Sends a raw frame (tests of malformed input). */
  sendRaw(frame: string): void {
    this.#socket.send(frame);
  }

  on<N extends NotificationName>(notification: N, listener: Listener<Notifications[N]>): () => void;
  on(notification: string, listener: Listener<any>): () => void;
  on(notification: string, listener: Listener<any>): () => void {
    let set = this.#listeners.get(notification);
    if (!set) this.#listeners.set(notification, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** Resolves with the first notification of that name satisfying `predicate`. */
  waitFor<N extends NotificationName, D extends Notifications[N]>(notification: N, predicate: (data: Notifications[N]) => data is D, timeoutMs?: number): Promise<D>;
  waitFor<N extends NotificationName>(notification: N, predicate?: (data: Notifications[N]) => boolean, timeoutMs?: number): Promise<Notifications[N]>;
  waitFor(notification: string, predicate?: (data: any) => boolean, timeoutMs?: number): Promise<any>;
  waitFor(notification: string, predicate: (data: any) => boolean = () => true, timeoutMs = this.#timeoutMs): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new CodedError(SignalingErrorCode.Timeout, `no ${notification} notification within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(notification, (data) => {
        if (!predicate(data)) return;
        clearTimeout(timer);
        off();
        resolve(data);
      });
    });
  }

  /**
   * Called once when the socket closes, with the close code and reason: besides 1000/1001, the
   * server's SocketCloseCode (4001 join timeout, 4002 ping timeout, 4008 slow consumer) or ws's 1009
   * for a message over the size limit.
   */
  onClose(listener: (code: number, reason: string) => void): void {
    this.#closeListeners.add(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.close(1000, 'client closed');
    this.#onClose(1000, 'client closed');
  }

  #onMessage(raw: unknown): void {
    let message: any;
    try {
      message = JSON.parse(String(raw));
    } catch {
      return;
    }
    if (typeof message?.notification === 'string') {
      for (const listener of this.#listeners.get(message.notification) ?? []) {
        try {
          listener(message.data);
        } catch {
          // A throwing listener must not stop the others.
        }
      }
      for (const listener of this.#listeners.get('*') ?? []) listener(message);
      return;
    }
    if (typeof message?.id === 'number') {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.data);
      else {
        const code = isErrorCode(message.error?.code) ? message.error.code : SignalingErrorCode.Internal;
        const data = message.error?.data;
        const url = typeof data?.url === 'string' ? data.url : undefined;
        pending.reject(new CodedError(code, String(message.error?.message ?? 'request failed'), url === undefined ? undefined : { url }));
      }
      return;
    }
    // Errors about frames the server could not tie to a request (id null).
    for (const listener of this.#listeners.get('error') ?? []) listener(message?.error);
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new CodedError(SignalingErrorCode.ConnectionClosed, `connection closed (${code}${reason ? ` ${reason}` : ''}) before ${id} was answered`));
    }
    this.#pending.clear();
    for (const listener of this.#closeListeners) listener(code, reason);
  }
}
