import { fork, ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ServerConfig } from '../../config/defaults';
import type { RecordingPluginOverrides } from '../../plugin/recording/createRecordingPlugin';
import type { BackendControl, BackendControlOptions } from '../../plugin/recording/api/BackendControl';
import type { DeepPartial } from '../../server/config';
import { startRecordingServer, RecordingTestServer } from '../support/recordingServer';
import { TEST_SECRET } from '../support/server';

export interface BackendTestServer extends RecordingTestServer {
  backend: BackendControl;
  api: ApiClient;
}

/** A recording test server with backend control attached (HTTP API, recorder socket, webhooks). */
export async function startBackendServer(
  options: { overrides?: DeepPartial<ServerConfig>; plugin?: RecordingPluginOverrides; backend?: BackendControlOptions } = {},
): Promise<BackendTestServer> {
  // Tests do not wait for webhooks at shutdown unless they ask to.
  const plugin = { ...options.plugin, backend: { shutdownDrainMs: 0, ...options.backend } };
  const env = await startRecordingServer({ ...(options.overrides ? { overrides: options.overrides } : {}), plugin });
  const backend = env.recording.backend!;
  const closeServer = env.close;
  return Object.assign(env, {
    backend,
    api: apiClient(env.httpUrl, 'confrec', TEST_SECRET),
    close: async () => {
      await closeServer();
      await backend.close();
    },
  });
}

export interface ApiAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export interface ApiClient {
  request(method: string, path: string, body?: unknown, init?: { raw?: string; headers?: Record<string, string> }): Promise<ApiAnswer>;
}

/** HTTP API calls with Basic auth (appId:secret); `raw` sends a body as is. */
export function apiClient(baseUrl: string, appId: string, secret: string): ApiClient {
  return {
    async request(method, apiPath, body, init = {}) {
      const response = await fetch(`${baseUrl}/api/v1${apiPath}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${appId}:${secret}`).toString('base64')}`,
          ...(body !== undefined || init.raw !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        ...(init.raw !== undefined ? { body: init.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
  };
}

export interface SdkEvent {
  name: string;
  recordingId: string;
  args: unknown[];
}

/** The recorder SDK in a child process (test/backend/fixtures/sdkProcess), driven over IPC. */
export class SdkProcess {
  readonly child: ChildProcess;
  readonly events: SdkEvent[] = [];
  readonly connectionStates: string[] = [];
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (message: any) => {
      if (message.type === 'event') this.events.push({ name: message.name, recordingId: message.recordingId, args: message.args });
      else if (message.type === 'connection') this.connectionStates.push(message.state);
      else if (message.type === 'result') {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(Object.assign(new Error(message.error.message), { code: message.error.code, errorName: message.error.name }));
      }
    });
    child.on('exit', () => {
      for (const pending of this.#pending.values()) pending.reject(new Error('SDK process exited'));
      this.#pending.clear();
    });
  }

  static async spawn(serverUrl: string): Promise<SdkProcess> {
    const child = fork(path.join(__dirname, 'fixtures', 'sdkProcess.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sdk = new SdkProcess(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`SDK process exited early (${code})`)));
    });
    await sdk.call({ cmd: 'create', url: serverUrl });
    return sdk;
  }

  call(command: Record<string, unknown>): Promise<any> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.child.send({ id, ...command });
    });
  }

  names(recordingId?: string): string[] {
    return this.events.filter((event) => !recordingId || event.recordingId === recordingId).map((event) => event.name);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

/** The seed's order for one recording, progress events left out. */
export function milestones(names: string[]): string[] {
  return names.filter((name) => name !== 'uploadingProgress');
}

export interface TcpProxy {
  port: number;
  /** Destroys every connection and refuses new ones (accepted, then destroyed) until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A real TCP relay to 127.0.0.1:targetPort whose link a test can cut, like a network failure. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const net = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', kill);
      socket.on('close', kill);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    port,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls the HTTP API until the recording's first upload is acknowledged; returns its last status. */
export async function waitUploaded(api: ApiClient, recordingId: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await api.request('GET', `/recordings/${recordingId}`)).body;
    if (status?.uploads?.[0]?.state === 'uploaded') return status;
    if (Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Starts a video-only 640×360@15 composite of `channel` through the HTTP API and waits until its
 * inputs are wired: what the layer tests start from.
 */
export async function startVideoComposite(env: BackendTestServer, channel: string, layout = 'BestFit') {
  const started = await env.api.request('POST', '/recordings', {
    channelName: channel,
    uid: 'backend',
    recordingConfig: { recordingStreamTypes: 'VideoOnly', transcodingConfig: { width: 640, height: 360, fps: 15, layout } },
  });
  const recordingId: string = started.body.recordingId;
  const recording = started.status === 201 ? env.recording.engine.get(recordingId) : undefined;
  await recording?.inputsWired();
  return { status: started.status, recordingId, recording };
}
