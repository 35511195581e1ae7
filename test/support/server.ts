import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { ServerConfig } from '../../config/defaults';
import { mintToken, TokenClaims } from '../../server/auth/token';
import { DeepPartial, loadConfig } from '../../server/config';
import { MediaServer, PluginFactory } from '../../server/MediaServer';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';

export const TEST_SECRET = 'test-secret-0123456789abcdef';

export interface TestServer {
  server: MediaServer;
  url: string;
  httpUrl: string;
  tmpDir: string;
  token(claims: Partial<TokenClaims> & { channelId: string; uid: string }): string;
  connect(): Promise<SignalingClient>;
  /** Connects and joins; returns the client and the join answer. */
  join(channelId: string, uid: string, extra?: { role?: 'host' | 'audience'; joinParam?: unknown; displayName?: string; record?: boolean }): Promise<{ client: SignalingClient; joined: any }>;
  close(): Promise<void>;
}

/** A real server (real mediasoup worker) in this process on a free port, with a temp state dir. */
export async function startTestServer(options: { overrides?: DeepPartial<ServerConfig>; plugins?: PluginFactory[] } = {}): Promise<TestServer> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-test-'));
  const config = loadConfig({
    env: {},
    file: undefined,
    overrides: {
      ...options.overrides,
      http: { listenIp: '127.0.0.1', port: 0, ...options.overrides?.http },
      auth: { enabled: true, appId: 'confrec', secret: TEST_SECRET, ...options.overrides?.auth },
      mediasoup: { numWorkers: 1, logLevel: 'warn', ...options.overrides?.mediasoup },
      recording: {
        recordingsDir: path.join(tmpDir, 'recordings'),
        stateDir: path.join(tmpDir, 'state'),
        ...options.overrides?.recording,
      },
    },
  });
  const server = await MediaServer.start(config, { plugins: options.plugins ?? [] });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const clients: SignalingClient[] = [];
  const token: TestServer['token'] = (claims) =>
    mintToken(TEST_SECRET, {
      appId: 'confrec',
      role: 'host',
      privileges: { publish: true, record: true },
      exp: Math.floor(Date.now() / 1000) + 3600,
      ...claims,
    });
  const connect = async (): Promise<SignalingClient> => {
    const client = await SignalingClient.connect(url, (target) => new WebSocket(target) as unknown as WebSocketLike);
    clients.push(client);
    return client;
  };
  return {
    server,
    url,
    httpUrl: `http://127.0.0.1:${server.port}`,
    tmpDir,
    token,
    connect,
    async join(channelId, uid, extra = {}) {
      const client = await connect();
      const joined = await client.request('join', {
        channelId,
        displayName: extra.displayName ?? uid,
        token: token({ channelId, uid, role: extra.role ?? 'host', privileges: { publish: true, record: extra.record ?? true } }),
        ...(extra.joinParam ? { joinParam: extra.joinParam } : {}),
      });
      return { client, joined };
    },
    async close() {
      for (const client of clients) client.close();
      await server.close();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}
