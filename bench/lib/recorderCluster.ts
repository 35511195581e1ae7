/**
 * The cluster the recorder-node measurements run in: a private redis-server and three server
 * processes — node-1 a media node only, node-2 a recorder node only, node-3 both — with one channel
 * on each media node and a replay publisher in it (it answers PLI at once with a key frame, like a
 * browser, so a recorder's first frame waits for its key-frame request, not for a publisher's
 * key-frame interval). The channel on node-3 is recorded by node-3 itself (local: placement prefers
 * the channel's own node); the one on node-1 by a recorder node over the media link (remote).
 * Every call goes through node-1's HTTP API, which answers for the whole cluster.
 */
import path from 'node:path';
import { apiClient, ApiClient } from '../../test/backend/support';
import { clusterChannel, ClusterServer, pollFor, startCluster, TestCluster, token } from '../../test/support/clusterServers';
import { redisServerMissing, RedisTestServer, startRedisServer } from '../../test/support/redisServer';
import { TEST_SECRET } from '../../test/support/server';
import type { MediaChannel } from '../../signaling/client/index';
import { PublisherHost, publishReplay, ReplayPublisher } from './publishers';

/** The config defaults: the bench measures what an operator gets without tuning. */
export const RECORDER_NODE_TIMEOUT_MS = 5000;
const TIMING = { nodeTimeoutMs: RECORDER_NODE_TIMEOUT_MS, leaseMs: 10_000 };
const ROLES = ['media', 'recorder', 'media,recorder'] as const;
export const RECORDER_CANVAS = { width: 320, height: 240, layout: 'BestFit' } as const;

/** Local: recorded by the channel's own node; remote: by another node over the media link. */
export type RecorderSide = 'local' | 'remote';

export interface StartedRecording {
  recordingId: string;
  /** The node that records it. */
  nodeId: string;
}

export class RecorderCluster {
  readonly #redis: RedisTestServer;
  readonly #nodes: TestCluster;
  readonly #channelOf: Record<RecorderSide, { channelId: string; owner: ClusterServer }>;
  readonly #clients: MediaChannel[];
  readonly #publishers: ReplayPublisher[];
  readonly api: ApiClient;

  /** Starts the cluster and its two published channels; on failure, stops what it started. */
  static async start(host: PublisherHost): Promise<RecorderCluster> {
    const missing = redisServerMissing();
    if (missing) throw new Error(missing);
    const redis = await startRedisServer();
    let nodes: TestCluster | undefined;
    const clients: MediaChannel[] = [];
    const publishers: ReplayPublisher[] = [];
    try {
      nodes = await startCluster(redis.url, TIMING, 3, { nodeEnv: (index) => ({ CONFREC_CLUSTER_ROLES: ROLES[index]! }) });
      const [mediaOnly, , both] = nodes.servers as [ClusterServer, ClusterServer, ClusterServer];
      // Channels placed by first joins through node-1 until one lives on each media node.
      const placed = new Map<ClusterServer, string>();
      for (let i = 0; placed.size < 2 && i < 20; i++) {
        const channelId = `bench-rec-${i}`;
        const client = clusterChannel(mediaOnly, nodes.servers);
        clients.push(client);
        await client.join(channelId, { token: token(channelId, 'pub'), displayName: 'pub' });
        const owner = nodes.servers.find((server) => server.wsUrl === client.connectedUrl)!;
        if (placed.has(owner)) continue;
        placed.set(owner, channelId);
        publishers.push(await publishReplay(host, client.signaling!, 'pub', { clip: 'moving' }));
      }
      const local = placed.get(both);
      const remote = placed.get(mediaOnly);
      if (!local || !remote) throw new Error('placement put no channel on one of the media nodes');
      return new RecorderCluster(redis, nodes, { local: { channelId: local, owner: both }, remote: { channelId: remote, owner: mediaOnly } }, clients, publishers);
    } catch (error) {
      await stopAll(publishers, clients, nodes, redis);
      throw error;
    }
  }

  private constructor(
    redis: RedisTestServer,
    nodes: TestCluster,
    channelOf: Record<RecorderSide, { channelId: string; owner: ClusterServer }>,
    clients: MediaChannel[],
    publishers: ReplayPublisher[],
  ) {
    this.#redis = redis;
    this.#nodes = nodes;
    this.#channelOf = channelOf;
    this.#clients = clients;
    this.#publishers = publishers;
    this.api = apiClient(nodes.servers[0]!.url, 'confrec', TEST_SECRET);
  }

  /** node-1 (media), node-2 (recorder), node-3 (media and recorder). */
  get servers(): readonly ClusterServer[] {
    return this.#nodes.servers;
  }

  channelId(side: RecorderSide): string {
    return this.#channelOf[side].channelId;
  }

  /** POST /recordings of `side`'s channel; resolves on the 201 (the recorder runs), checking who records it. */
  async startRecording(side: RecorderSide): Promise<StartedRecording> {
    const { channelId, owner } = this.#channelOf[side];
    const start = await this.api.request('POST', '/recordings', { channelName: channelId, recordingConfig: { transcodingConfig: RECORDER_CANVAS } });
    if (start.status !== 201) throw new Error(`start of ${channelId}: ${start.status} ${JSON.stringify(start.body)}`);
    const started = start.body as StartedRecording;
    if ((started.nodeId === owner.nodeId) !== (side === 'local')) throw new Error(`${channelId} was recorded on ${started.nodeId}, which is not a ${side} recorder`);
    return { recordingId: started.recordingId, nodeId: started.nodeId };
  }

  /** Resolves once the recording lists a participant (its stream consumed into the recorder); false after `timeoutMs`. */
  async wired(recordingId: string, timeoutMs: number): Promise<boolean> {
    const participants = (body: unknown): number => ((body as { participants?: string[] }).participants ?? []).length;
    const answer = await pollFor(() => this.api.request('GET', `/recordings/${recordingId}`), ({ body }) => participants(body) > 0, timeoutMs, 20);
    return participants(answer.body) > 0;
  }

  async stopRecording(recordingId: string): Promise<void> {
    const stop = await this.api.request('POST', `/recordings/${recordingId}/stop`, {});
    if (stop.status !== 200) throw new Error(`stop of ${recordingId}: ${stop.status} ${JSON.stringify(stop.body)}`);
  }

  /**
   * After the stop: waits until the recording's (composite) file is uploaded. Its path in the
   * recorder node's local store, and `startedAtMs`: when the recorder started the file (its time 0),
   * by the recorder node's clock — this machine's, every node runs here.
   */
  async storedFile(recording: StartedRecording, timeoutMs = 60_000): Promise<{ file: string; startedAtMs: number }> {
    const answer = await pollFor(
      () => this.api.request('GET', `/recordings/${recording.recordingId}`),
      ({ body }) => (body as { uploads?: { state: string }[] }).uploads?.some((upload) => upload.state === 'uploaded') === true,
      timeoutMs,
    );
    const status = answer.body as { startedAt?: string; files?: { objectKey: string }[] };
    const objectKey = status.files?.[0]?.objectKey;
    if (!objectKey) throw new Error(`${recording.recordingId}: not uploaded within ${timeoutMs} ms (${JSON.stringify(answer.body).slice(0, 300)})`);
    const startedAtMs = Date.parse(status.startedAt ?? '');
    if (!Number.isFinite(startedAtMs)) throw new Error(`${recording.recordingId}: no startedAt in its status (${JSON.stringify(status).slice(0, 300)})`);
    return { file: path.join(this.#nodes.dir, recording.nodeId, 'recordings', objectKey), startedAtMs };
  }

  /** The node as it runs now (a restarted node is a new process). */
  server(nodeId: string): ClusterServer {
    const server = this.#nodes.servers.find((candidate) => candidate.nodeId === nodeId);
    if (!server) throw new Error(`no node ${nodeId}`);
    return server;
  }

  /** SIGKILL, as in a crash; resolves once the process is gone. */
  async kill(nodeId: string): Promise<void> {
    await this.server(nodeId).kill();
  }

  /** Starts a killed node again as itself (same directories and node id: it recovers what it left). */
  async restart(nodeId: string): Promise<void> {
    const index = this.#nodes.servers.indexOf(this.server(nodeId));
    this.#nodes.servers[index] = await this.#nodes.servers[index]!.restart();
  }

  /** Where a node's local store keeps an uploaded object. */
  storedPath(nodeId: string, objectKey: string): string {
    return path.join(this.#nodes.dir, nodeId, 'recordings', objectKey);
  }

  async close(): Promise<void> {
    await stopAll(this.#publishers, this.#clients, this.#nodes, this.#redis);
  }
}

async function stopAll(publishers: ReplayPublisher[], clients: MediaChannel[], nodes: TestCluster | undefined, redis: RedisTestServer): Promise<void> {
  await Promise.all(publishers.map((publisher) => publisher.stop().catch(() => undefined)));
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await nodes?.close();
  await redis.close();
}
