import Redis, { ReplyError } from 'ioredis';
import { CodedError, SignalingErrorCode } from '../../signaling/errors';
import { Logger, registerSecret } from '../logger';
import { TypedEmitter } from '../TypedEmitter';

const logger = new Logger('RedisConnection');

export type RedisConnectionOptions = {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** CLIENT SETNAME of the connection, so an operator can tell the nodes apart in CLIENT LIST. */
  name?: string;
  /** A command not answered within this time fails (CLUSTER_UNAVAILABLE) instead of hanging. 0: no limit (blocking reads). */
  commandTimeoutMs?: number;
  /** Longest wait between reconnect attempts. */
  maxReconnectDelayMs?: number;
};

export type RedisConnectionEvents = {
  /** Redis became unreachable (once per outage). The server refuses new channels until `up`. */
  down: [reason: string];
  /** Redis is reachable (again). */
  up: [];
};

const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** Other nodes are back within this (plus 100 ms jitter) after Redis is, unless they chose a longer maxReconnectDelayMs. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 2000;

/**
 * One connection of a cluster member to the cluster's Redis. A member must never wait on Redis: it
 * keeps serving what it owns while Redis is away, so commands fail at once when the connection is not
 * up (no offline queue), an in-flight command is not retried on another connection (one retry at
 * most), and every command has a deadline. Reconnecting goes on in the background, with backoff,
 * until close().
 */
export class RedisConnection extends TypedEmitter<RedisConnectionEvents> {
  readonly #redis: Redis;
  readonly #name: string;
  #state: 'connecting' | 'up' | 'down' = 'connecting';
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisConnectionOptions) {
    super();
    if (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url)) throw new TypeError('url must be a redis:// or rediss:// URL');
    this.#name = options.name ?? 'confrec';
    // The URL may carry Redis' password: masked in every log line for the process's lifetime, as the
    // config's own secrets are.
    const password = redisPassword(options.url);
    registerSecret(options.url);
    registerSecret(password.written);
    registerSecret(password.decoded);
    const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    const commandTimeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#redis = new Redis(options.url, {
      connectionName: this.#name,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      ...(commandTimeout > 0 ? { commandTimeout } : {}),
      // Exponential from 100 ms, capped, with jitter so a fleet does not reconnect in lock step.
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 10), maxDelay) + Math.floor(Math.random() * 100),
    });
    this.#redis.on('ready', () => this.#setState('up', ''));
    this.#redis.on('close', () => this.#setState('down', 'connection closed'));
    this.#redis.on('error', (error: Error) => {
      // ioredis reports every failed reconnect attempt; the state change is what matters.
      logger.debug('error | redis', { connection: this.#name, error: error.message });
      this.#setState('down', error.message);
    });
  }

  /** The ioredis client; its commands are best called through run() for CLUSTER_UNAVAILABLE errors. */
  get client(): Redis {
    return this.#redis;
  }

  get isUp(): boolean {
    return this.#state === 'up';
  }

  get closed(): boolean {
    return this.#closed;
  }

  get name(): string {
    return this.#name;
  }

  /** Resolves when the connection is up; rejects with CLUSTER_UNAVAILABLE after timeoutMs. */
  async waitUp(timeoutMs: number): Promise<void> {
    if (this.isUp) return;
    if (this.#closed) throw unavailable('connection closed');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('up', onUp);
        reject(unavailable(`not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onUp = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('up', onUp);
    });
  }

  /**
   * Runs Redis commands; any failure to reach Redis (not connected, connection lost, deadline passed)
   * becomes a CodedError CLUSTER_UNAVAILABLE; an error Redis itself answered stays an INTERNAL one.
   */
  async run<T>(commands: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.#closed) throw unavailable('connection closed');
    try {
      return await commands(this.#redis);
    } catch (error) {
      if (error instanceof CodedError) throw error;
      if (error instanceof ReplyError) throw new CodedError(SignalingErrorCode.Internal, `redis: ${(error as Error).message}`);
      throw unavailable(error instanceof Error ? error.message : String(error));
    }
  }

  /** Idempotent: ends the connection (QUIT when up, else at once) and stops reconnecting. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      try {
        if (this.isUp) await Promise.race([this.#redis.quit(), new Promise((resolve) => setTimeout(resolve, 500))]);
      } catch {
        // The connection went away while quitting: disconnect() below ends it either way.
      }
      this.#redis.disconnect(false);
      this.removeAllListeners();
    })();
    return this.#closing;
  }

  #setState(state: 'up' | 'down', reason: string): void {
    if (this.#state === state) return;
    // A close() in progress is not an outage.
    if (state === 'down' && this.#closed) return;
    this.#state = state;
    if (state === 'up') {
      logger.info('redis up', { connection: this.#name });
      this.safeEmit('up');
    } else {
      logger.warn('redis down', { connection: this.#name, reason });
      this.safeEmit('down', reason);
    }
  }
}

export function unavailable(reason: string): CodedError {
  return new CodedError(SignalingErrorCode.ClusterUnavailable, `cluster Redis unavailable: ${reason}`);
}

/** The password of a redis:// URL as written (percent-encoded) and decoded; '' when it has none. */
function redisPassword(url: string): { written: string; decoded: string } {
  try {
    const written = new URL(url).password;
    return { written, decoded: decodeURIComponent(written) };
  } catch {
    return { written: '', decoded: '' };
  }
}
