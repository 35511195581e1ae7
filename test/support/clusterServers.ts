/**
 * Cluster nodes for tests: real server processes (dist/server/main.js, as `npm start` runs it), each
 * on its own loopback address (127.0.0.1, .2, .3), with its own state and recordings directories,
 * joined to one test redis-server; plus the clients' side (MediaChannel from Node, plain RTP).
 */
import { ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { publishTestMedia, Publication } from '../../scripts/publishRtp';
import { mintToken } from '../../server/auth/token';
import { findProjectRoot } from '../../server/config';
import { MediaChannel, ReconnectOptions } from '../../signaling/client/index';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';
import { until } from './recordingServer';
import { TEST_SECRET } from './server';
import { freePort } from './freePort';

export const webSocketFactory = (url: string): WebSocketLike => new WebSocket(url) as unknown as WebSocketLike;

export type ClusterServer = {
  nodeId: string;
  ip: string;
  port: number;
  /** http://ip:port: its cluster.publicUrl. */
  url: string;
  wsUrl: string;
  child: ChildProcess;
  /** SIGKILL: the node dies as in a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the node shuts down as an operator stops it. Resolves once the process is gone. */
  stop(): Promise<void>;
  /**
   * After kill(): true once every process holding the node's output pipes exited — the recorders it
   * forked outlive a SIGKILL, finalize their files and exit on their own; false after `timeoutMs`.
   * Closes this side of the pipes either way.
   */
  outputClosed(timeoutMs: number): Promise<boolean>;
  /** Starts the node again as itself after kill() or stop(): same address, port, directories, node id and env. */
  restart(): Promise<ClusterServer>;
};

export type ClusterTiming = { nodeTimeoutMs: number; leaseMs: number };

export type ClusterServerOptions = {
  index: number;
  redisUrl: string;
  dir: string;
  timing: ClusterTiming;
  /** Default: a free one. */
  port?: number;
  /** Extra environment (config overrides such as CONFREC_WEBHOOKS_URLS), applied last. */
  env?: NodeJS.ProcessEnv;
};

/** Starts node `index` (0, 1, 2 → 127.0.0.1, .2, .3) of a cluster on `redisUrl`, in `dir`. */
export async function startClusterServer(options: ClusterServerOptions): Promise<ClusterServer> {
  const { index, dir, timing } = options;
  const ip = `127.0.0.${index + 1}`;
  const port = options.port ?? (await freePort(ip));
  const nodeId = `node-${index + 1}`;
  const url = `http://${ip}:${port}`;
  // Separate WebRTC port ranges: three processes on one machine never race for a port.
  const rtcMinPort = 41000 + index * 1000;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: process.env.CLUSTER_TEST_LOG_LEVEL ?? 'warn',
    CONFREC_HTTP_LISTEN_IP: ip,
    CONFREC_HTTP_PORT: String(port),
    CONFREC_HTTP_TLS: 'off',
    CONFREC_AUTH_SECRET: TEST_SECRET,
    CONFREC_MEDIASOUP_NUM_WORKERS: '1',
    CONFREC_MEDIASOUP_LISTEN_IP: ip,
    CONFREC_MEDIASOUP_ANNOUNCED_IP: ip,
    CONFREC_MEDIASOUP_RTC_MIN_PORT: String(rtcMinPort),
    CONFREC_MEDIASOUP_RTC_MAX_PORT: String(rtcMinPort + 999),
    CONFREC_RECORDING_STATE_DIR: path.join(dir, nodeId, 'state'),
    CONFREC_RECORDING_RECORDINGS_DIR: path.join(dir, nodeId, 'recordings'),
    CONFREC_CLUSTER_REDIS_URL: options.redisUrl,
    CONFREC_CLUSTER_PUBLIC_URL: url,
    CONFREC_CLUSTER_NODE_ID: nodeId,
    CONFREC_CLUSTER_NODE_TIMEOUT_MS: String(timing.nodeTimeoutMs),
    CONFREC_CLUSTER_LEASE_MS: String(timing.leaseMs),
    ...options.env,
  };
  const child = spawn(process.execPath, [path.join(findProjectRoot(__dirname), 'dist', 'server', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.pipe(process.stderr, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pipesClosed = Promise.all([child.stdout!, child.stderr!].map((stream) => new Promise<void>((resolve) => stream.once('close', () => resolve()))));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('confrec is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${nodeId} exited (${code}) before it was ready: ${out}`)));
  });
  return {
    nodeId,
    ip,
    port,
    url,
    wsUrl: `ws://${ip}:${port}/ws`,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      releaseOutput();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      releaseOutput();
    },
    async outputClosed(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([pipesClosed.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
      clearTimeout(timer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      return closed;
    },
    restart: () => startClusterServer({ ...options, port }),
  };

  /**
   * A dead node's pipes stay open while recorders it forked still hold them: closing them here
   * would break those recorders' output (EPIPE) as they finalize, so they are only kept from
   * holding this process up; outputClosed() closes them.
   */
  function releaseOutput(): void {
    for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
  }
}

export type TestCluster = { servers: ClusterServer[]; dir: string; close(): Promise<void> };

/** `count` nodes on `redisUrl`; `env` is every node's extra environment, `nodeEnv(index)` one node's (applied after). */
export async function startCluster(
  redisUrl: string,
  timing: ClusterTiming,
  count = 3,
  options: { env?: NodeJS.ProcessEnv; nodeEnv?: (index: number) => NodeJS.ProcessEnv } = {},
): Promise<TestCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-cluster-'));
  const servers = await Promise.all(
    Array.from({ length: count }, (_, index) => startClusterServer({ index, redisUrl, dir, timing, env: { ...options.env, ...options.nodeEnv?.(index) } })),
  );
  return {
    servers,
    dir,
    async close() {
      await Promise.all(servers.map(async (server) => {
        await server.kill();
        await server.outputClosed(0);
      }));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function token(channelId: string, uid: string): string {
  return mintToken(TEST_SECRET, { appId: 'confrec', channelId, uid, role: 'host', privileges: { publish: true, record: true }, exp: Math.floor(Date.now() / 1000) + 600 });
}

/** A Node MediaChannel entering the cluster at `entry`, with the other nodes as fallbacks. */
export function clusterChannel(entry: ClusterServer, all: ClusterServer[], reconnect?: ReconnectOptions): MediaChannel {
  return new MediaChannel({
    serverUrl: entry.wsUrl,
    fallbackServerUrls: all.filter((server) => server !== entry).map((server) => server.wsUrl),
    webSocketFactory,
    media: false,
    ...(reconnect ? { reconnect } : {}),
  });
}

/** A raw signaling client on one node: what a join there answers, without following anything. */
export function rawClient(server: ClusterServer): Promise<SignalingClient> {
  return SignalingClient.connect(server.wsUrl, webSocketFactory);
}

export type NodeView = {
  nodeId: string;
  publicUrl: string;
  rtpAddress: string;
  roles: string[];
  load: { channels: number; peers: number; producers: number; recordings: number; cpu: number; recorder?: { capacity: number; used: number } };
};

/** GET /api/v1/cluster/nodes on a node, with the API's credentials unless `auth` is false. */
export async function listNodes(server: ClusterServer, auth = true): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = auth ? { authorization: `Basic ${Buffer.from(`confrec:${TEST_SECRET}`).toString('base64')}` } : {};
  const response = await fetch(`${server.url}/api/v1/cluster/nodes`, { headers });
  return { status: response.status, body: await response.json() };
}

/** Polls `read` until `accept` holds; resolves with the last value read (check it). */
export async function pollFor<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, stepMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (error) {
      last = error as T;
    }
    if (Date.now() >= deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** RTP that one peer publishes (GStreamer, plain RTP) and another receives into a UDP socket it counts. */
export type MediaFlow = { packets: { video: number; audio: number }; stop(): Promise<void> };

export async function exchangeMedia(publisher: SignalingClient, receiver: SignalingClient): Promise<MediaFlow> {
  const publication: Publication = await publishTestMedia({ client: publisher, color: 0x3366ff });
  const socket = dgram.createSocket('udp4');
  const packets = { video: 0, audio: 0 };
  const kinds = new Map<number, 'video' | 'audio'>();
  socket.on('message', (message) => {
    if (message.length < 12) return;
    const payloadType = message[1]! & 0x7f;
    if (payloadType >= 72 && payloadType <= 76) return; // RTCP
    const kind = kinds.get(message.readUInt32BE(8));
    if (kind) packets[kind]++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transport = await receiver.request('createPlainTransport', { direction: 'recv', comedia: false, rtcpMux: true });
  await receiver.request('connectPlainTransport', { transportId: transport.transportId, ip: '127.0.0.1', port: socket.address().port });
  for (const producerId of [publication.videoProducerId!, publication.audioProducerId!]) {
    const consumer = await receiver.request('consume', { transportId: transport.transportId, producerId });
    kinds.set(consumer.rtpParameters.encodings[0].ssrc, consumer.kind);
    await receiver.request('resumeConsumer', { consumerId: consumer.consumerId });
  }
  return {
    packets,
    async stop() {
      await publication.stop();
      socket.close();
    },
  };
}

/** Waits until both kinds reached `count` packets more than `from`. */
export function mediaFlows(flow: MediaFlow, timeoutMs: number, count = 20, from = { video: 0, audio: 0 }): Promise<boolean> {
  return until(() => flow.packets.video - from.video >= count && flow.packets.audio - from.audio >= count, timeoutMs);
}
