import { RecordingErrorCode } from '../errors';
import { notifyObserver, type CloudRecorderObserver as SeedObserver } from './observer';
import { fromWireEvent, isFinalRecordingEvent } from '../recordingEvent';
import { SignalingClient, WebSocketFactory, WebSocketLike } from '../SignalingClient';
import { CloudRecordingError, toCloudRecordingError } from './CloudRecordingError';
import {
  RECORDER_SOCKET_PATH,
  RecorderMethod,
  RecorderNotifications,
  RecorderRequestData,
  RecorderResponses,
  RecordingEventNotification,
} from './protocol';

/** The seed's observer, plus the SDK's link state (recordings go on whatever it says). */
export interface CloudRecorderObserver extends SeedObserver {
  onConnectionStateChange?(state: ConnectionState, error?: CloudRecordingError): void;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'released';

export interface CloudRecorderOptions {
  /** How to open a WebSocket: browsers' WebSocket by default; the Node entry passes `ws`. */
  webSocketFactory?: WebSocketFactory;
  /** Per request (start waits for the recorder to run); default 30 s. */
  requestTimeoutMs?: number;
  /** Reconnection after the link drops while recordings are followed: exponential backoff with jitter. */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
}

/** Plain-object configs as the SDK sends them (validated by the server; errors name the field). */
export type RecordingConfigInput = Record<string, unknown>;
/** `vender` is the seed's spelling of `vendor`; 0/1 and numeric regions are Agora's numbers (README). */
export type CloudStorageConfigInput = {
  vendor?: 'Qiniu' | 'AWS' | 'S3' | 'Local' | 0 | 1;
  vender?: 'Qiniu' | 'AWS' | 'S3' | 'Local' | 0 | 1;
  region?: string | number;
  bucket?: string;
  accessKey?: string;
  secretKey?: string;
  endpoint?: string;
};

interface Followed {
  resumeKey?: string;
  lastSeq: number;
  ended: boolean;
}

/** Turns 'http://host:port', 'ws://host:port' or a full endpoint URL into the recorder socket URL. */
export function recorderSocketUrl(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new CloudRecordingError(RecordingErrorCode.InvalidParameter, `serverUrl ${JSON.stringify(serverUrl)} is not a URL`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new CloudRecordingError(RecordingErrorCode.InvalidParameter, 'serverUrl must be http(s):// or ws(s)://');
  if (url.pathname === '/' || url.pathname === '') url.pathname = RECORDER_SOCKET_PATH;
  return url.toString();
}

/**
 * ICloudRecorder of the Agora seed over the network: drives one recording at a time on a confrec
 * media server. The observer hears all nine callbacks for the recordings this instance started or
 * attached to, in order, exactly once — across reconnections (the server replays what was missed).
 * Every call rejects with a CloudRecordingError carrying one of the seed's fourteen codes.
 * Browser- and Node-safe (the Node entry supplies `ws`).
 */
export class RemoteCloudRecorder {
  readonly #url: string;
  readonly #observer: CloudRecorderObserver;
  readonly #factory: WebSocketFactory;
  readonly #timeoutMs: number;
  readonly #reconnect: { baseDelayMs: number; maxDelayMs: number; maxAttempts: number };
  readonly #followed = new Map<string, Followed>();
  #client: SignalingClient | undefined;
  #connecting: Promise<SignalingClient> | undefined;
  #state: ConnectionState = 'idle';
  #everConnected = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #current: string | undefined;
  #starting = false;
  #released = false;

  constructor(serverUrl: string, observer: CloudRecorderObserver, options: CloudRecorderOptions = {}) {
    this.#url = recorderSocketUrl(serverUrl);
    this.#observer = observer ?? {};
    const factory = options.webSocketFactory ?? browserWebSocketFactory();
    if (!factory) throw new CloudRecordingError(RecordingErrorCode.InvalidParameter, 'no WebSocket implementation: pass options.webSocketFactory');
    this.#factory = factory;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#reconnect = { baseDelayMs: 250, maxDelayMs: 5000, maxAttempts: Number.POSITIVE_INFINITY, ...options.reconnect };
  }

  /** The recording this instance drives (the last started or attached). */
  get recordingId(): string | undefined {
    return this.#current;
  }

  get connectionState(): ConnectionState {
    return this.#state;
  }

  /** StartCloudRecording: resolves with the recording id once the recorder writes the file. */
  async startCloudRecording(
    appId: string,
    channelName: string,
    token: string,
    uid: string | number,
    recordingConfig: RecordingConfigInput = {},
    storageConfig: CloudStorageConfigInput = { vendor: 'Local' },
  ): Promise<string> {
    this.#assertUsable();
    if (this.#current && !this.#followed.get(this.#current)?.ended) {
      throw new CloudRecordingError(RecordingErrorCode.InvalidOperation, `this recorder is already recording (${this.#current}); stop it first`);
    }
    this.#starting = true;
    try {
      const answer = await this.#request('startCloudRecording', {
        appId,
        channelName,
        token,
        uid: String(uid),
        recordingConfig,
        storageConfig: storageConfig as unknown as Record<string, unknown>,
      });
      this.#current = answer.recordingId;
      this.#follow(answer.recordingId).resumeKey = answer.resumeKey;
      return answer.recordingId;
    } finally {
      this.#starting = false;
    }
  }

  /** StopCloudRecording: the file is finalized; onRecordingStopped then onRecordingUploaded follow. */
  async stopCloudRecording(): Promise<void> {
    this.#assertUsable();
    if (!this.#current) throw new CloudRecordingError(RecordingErrorCode.InvalidOperation, 'nothing is being recorded by this recorder');
    await this.#request('stopCloudRecording', { recordingId: this.#current });
  }

  /**
   * Not in the seed: takes control of a recording another controller started (and left running
   * with release(true)), given a token with the record privilege for its channel. Events from
   * `afterSeq` on are delivered (default: only new ones).
   */
  async attachCloudRecording(appId: string, recordingId: string, token: string, afterSeq?: number): Promise<void> {
    this.#assertUsable();
    const answer = await this.#request('attach', { appId, recordingId, token, ...(afterSeq !== undefined ? { afterSeq } : {}) });
    const followed = this.#follow(recordingId);
    followed.resumeKey = answer.resumeKey;
    if (afterSeq === undefined) followed.lastSeq = Math.max(followed.lastSeq, answer.lastSeq);
    followed.ended = answer.phase !== 'starting' && answer.phase !== 'running';
    this.#current = recordingId;
  }

  /**
   * Release: true leaves the recording running (and uploading) on the server; false (the default,
   * the seed's 停止录制与上传) stops it and its uploads — files not yet stored stay in the server's
   * backup (listed by the HTTP API) until `POST /api/v1/recordings/{id}/resume-uploads`. The
   * observer hears nothing more either way, so wait for onRecordingUploaded before release().
   * The instance refuses every call afterwards. Rejects (after releasing) only when a stop was
   * asked for and could not be delivered.
   */
  async release(keepRecordingInBackground = false): Promise<void> {
    if (this.#released) return;
    // Also after the recording stopped: its uploads may still run, and false stops them.
    const stop = !keepRecordingInBackground && this.#current !== undefined;
    const running = this.#current !== undefined && !this.#followed.get(this.#current)?.ended;
    try {
      if (stop) {
        await this.#request('release', { keepRecordingInBackground: false, recordingId: this.#current! }).catch((error: unknown) => {
          // Stopping a running recording must be delivered; stopping the uploads of an ended one is
          // best effort (the server may be gone, and with it any upload of ours).
          if (running) throw error;
        });
      }
      else if (this.#client && !this.#client.closed) await this.#client.request('release', { keepRecordingInBackground: true }).catch(() => undefined);
    } finally {
      this.#released = true;
      clearTimeout(this.#reconnectTimer);
      this.#followed.clear();
      const client = this.#client;
      this.#client = undefined;
      client?.close();
      this.#setState('released');
    }
  }

  #assertUsable(): void {
    if (this.#released) throw new CloudRecordingError(RecordingErrorCode.InvalidOperation, 'this recorder was released');
  }

  async #request<M extends RecorderMethod>(method: M, data: RecorderRequestData<M>): Promise<RecorderResponses[M]> {
    const client = await this.#connect();
    try {
      return (await client.request(method, data)) as RecorderResponses[M];
    } catch (error) {
      throw toCloudRecordingError(error);
    }
  }

  #connect(): Promise<SignalingClient> {
    if (this.#client && !this.#client.closed) return Promise.resolve(this.#client);
    if (this.#connecting) return this.#connecting;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
    const connecting = this.#open().finally(() => {
      if (this.#connecting === connecting) this.#connecting = undefined;
    });
    this.#connecting = connecting;
    return connecting;
  }

  async #open(): Promise<SignalingClient> {
    let socket: WebSocketLike | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let client: SignalingClient;
    try {
      client = await Promise.race([
        SignalingClient.connect(this.#url, (url) => (socket = this.#factory(url)), { timeoutMs: this.#timeoutMs }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            socket?.close();
            reject(new Error(`no connection within ${this.#timeoutMs} ms`));
          }, this.#timeoutMs);
        }),
      ]);
    } catch (error) {
      const code = this.#everConnected ? RecordingErrorCode.Disconnected : RecordingErrorCode.ConnectError;
      throw new CloudRecordingError(code, `cannot connect to ${this.#url}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (this.#released) {
      client.close();
      throw new CloudRecordingError(RecordingErrorCode.InvalidOperation, 'this recorder was released');
    }
    client.on('recordingAttached', (data: RecorderNotifications['recordingAttached']) => this.#onAttached(data));
    client.on('recordingEvent', (data: RecordingEventNotification) => this.#onEvent(data));
    client.onClose((code, reason) => this.#onClose(client, code, reason));
    this.#client = client;
    // Catch up on every recording followed before the link dropped, in order, before anything else.
    for (const [recordingId, followed] of [...this.#followed]) {
      if (!followed.resumeKey) continue;
      try {
        await client.request('resume', { recordingId, resumeKey: followed.resumeKey, afterSeq: followed.lastSeq });
      } catch (error) {
        const coded = toCloudRecordingError(error);
        if (coded.code === RecordingErrorCode.Disconnected) throw coded;
        // The server no longer knows it (restarted, or the log was dropped): nothing more will come.
        this.#followed.delete(recordingId);
      }
    }
    this.#everConnected = true;
    this.#attempt = 0;
    this.#setState('connected');
    return client;
  }

  #onClose(client: SignalingClient, code: number, reason: string): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#released) return;
    // The server says why it closed (e.g. 4001 join timeout, 4008 slow consumer); the observer hears it.
    const error = code === 1000 ? undefined : new CloudRecordingError(RecordingErrorCode.Disconnected, `the link closed (${code}${reason ? ` ${reason}` : ''})`);
    if ([...this.#followed.values()].some((followed) => followed.resumeKey)) this.#scheduleReconnect(error);
    else this.#setState('disconnected', error);
  }

  #scheduleReconnect(cause?: CloudRecordingError): void {
    if (this.#released || this.#reconnectTimer) return;
    if (this.#attempt >= this.#reconnect.maxAttempts) {
      this.#setState('disconnected', new CloudRecordingError(RecordingErrorCode.Disconnected, `gave up reconnecting after ${this.#attempt} attempts`));
      return;
    }
    const delay = Math.min(this.#reconnect.maxDelayMs, this.#reconnect.baseDelayMs * 2 ** this.#attempt) * (0.5 + Math.random() * 0.5);
    this.#attempt++;
    this.#setState('reconnecting', cause);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect().catch(() => this.#scheduleReconnect());
    }, delay);
  }

  #follow(recordingId: string): Followed {
    let followed = this.#followed.get(recordingId);
    if (!followed) this.#followed.set(recordingId, (followed = { lastSeq: 0, ended: false }));
    return followed;
  }

  #onAttached({ recordingId, resumeKey }: RecorderNotifications['recordingAttached']): void {
    if (this.#released) return;
    this.#follow(recordingId).resumeKey = resumeKey;
    // Events of a recording being started arrive before start() answers: it is ours from here on.
    if (this.#starting) this.#current = recordingId;
  }

  #onEvent(wire: RecordingEventNotification): void {
    if (this.#released) return;
    const event = fromWireEvent(wire);
    if (!event) return;
    const followed = this.#follow(event.recordingId);
    if (event.seq <= followed.lastSeq) return;
    followed.lastSeq = event.seq;
    if (isFinalRecordingEvent(event)) followed.ended = true;
    try {
      notifyObserver(this.#observer, event);
    } catch {
      // A throwing observer must not break the link or the events that follow.
    }
  }

  #setState(state: ConnectionState, error?: CloudRecordingError): void {
    if (this.#state === state && !error) return;
    this.#state = state;
    try {
      this.#observer.onConnectionStateChange?.(state, error);
    } catch {
      // ignore observer errors
    }
  }
}

function browserWebSocketFactory(): WebSocketFactory | undefined {
  const Native = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  return Native ? (url) => new Native(url) : undefined;
}
