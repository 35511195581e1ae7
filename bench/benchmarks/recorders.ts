/**
 * Recorder nodes (issue 13): three server processes on one private redis-server — node-1 a media
 * node only, node-2 a recorder node only, node-3 both. A channel on node-3 is recorded by node-3
 * itself (local: the placement prefers the channel's own node); a channel on node-1 is recorded by
 * a recorder node over the media link (remote). Start latency of each, alternating in one run:
 * POST /recordings answered 201 (the recorder writes its file and the channel's streams are wired),
 * and until the publisher's stream is listed as recorded.
 */
import { percentile } from '../lib/analyze';
import { figure } from '../lib/report';
import { apiClient } from '../../test/backend/support';
import { clusterChannel, ClusterServer, pollFor, startCluster, TestCluster, token } from '../../test/support/clusterServers';
import { redisServerMissing, RedisTestServer, startRedisServer } from '../../test/support/redisServer';
import { TEST_SECRET } from '../../test/support/server';
import { publishTestMedia, Publication } from '../../scripts/publishRtp';
import type { MediaChannel } from '../../signaling/client/index';
import type { Benchmark } from './types';

const TIMING = { nodeTimeoutMs: 5000, leaseMs: 10_000 };
const CONFIG = { transcodingConfig: { width: 320, height: 240, layout: 'BestFit' } };

type Started = { toRunningMs: number; toWiredMs: number };

export const recorders: Benchmark = {
  name: 'recorders',
  title: 'Recorder nodes: start latency of a recording through a remote recorder (media link) vs a local one',
  async run(_env, options) {
    const missing = redisServerMissing();
    if (missing) throw new Error(missing);
    const rounds = options.quick ? 4 : 12;
    let redis: RedisTestServer | undefined;
    let nodes: TestCluster | undefined;
    const channels: MediaChannel[] = [];
    const publications: Publication[] = [];
    try {
      redis = await startRedisServer();
      nodes = await startCluster(redis.url, TIMING, 3, { nodeEnv: (index) => ({ CONFREC_CLUSTER_ROLES: ['media', 'recorder', 'media,recorder'][index]! }) });
      const [mediaOnly, , both] = nodes.servers as [ClusterServer, ClusterServer, ClusterServer];
      // Channels placed by first joins until one lives on each media node; a publisher in each.
      const placed = new Map<ClusterServer, string>();
      for (let i = 0; placed.size < 2 && i < 20; i++) {
        const channelId = `bench-rec-${i}`;
        const channel = clusterChannel(mediaOnly, nodes.servers);
        channels.push(channel);
        await channel.join(channelId, { token: token(channelId, 'pub'), displayName: 'pub' });
        const owner = nodes.servers.find((server) => server.wsUrl === channel.connectedUrl)!;
        if (placed.has(owner)) continue;
        placed.set(owner, channelId);
        publications.push(await publishTestMedia({ client: channel.signaling!, color: 0x3366ff, width: 320, height: 240 }));
      }
      const localChannel = placed.get(both);
      const remoteChannel = placed.get(mediaOnly);
      if (!localChannel || !remoteChannel) throw new Error('placement put no channel on one of the media nodes');
      const api = apiClient(mediaOnly.url, 'confrec', TEST_SECRET);

      const startOnce = async (channelId: string, expectRemote: boolean): Promise<Started> => {
        const t0 = performance.now();
        const start = await api.request('POST', '/recordings', { channelName: channelId, recordingConfig: CONFIG });
        const toRunningMs = performance.now() - t0;
        if (start.status !== 201) throw new Error(`start of ${channelId}: ${start.status} ${JSON.stringify(start.body)}`);
        const { recordingId, nodeId } = start.body as { recordingId: string; nodeId: string };
        const owner = channelId === localChannel ? both.nodeId : mediaOnly.nodeId;
        if ((nodeId !== owner) !== expectRemote) throw new Error(`${channelId} was recorded on ${nodeId}, which is not what the case measures`);
        const wired = await pollFor(
          () => api.request('GET', `/recordings/${recordingId}`),
          ({ body }) => ((body as { participants?: string[] }).participants ?? []).length > 0,
          10_000,
          20,
        );
        const toWiredMs = performance.now() - t0;
        if (((wired.body as { participants?: string[] }).participants ?? []).length === 0) throw new Error(`${recordingId}: the publisher's stream was never wired`);
        const stop = await api.request('POST', `/recordings/${recordingId}/stop`, {});
        if (stop.status !== 200) throw new Error(`stop of ${recordingId}: ${stop.status}`);
        return { toRunningMs, toWiredMs };
      };

      // The first of each kind warms up connections and code paths and is not counted.
      const local: Started[] = [];
      const remote: Started[] = [];
      for (let i = 0; i <= rounds; i++) {
        const l = await startOnce(localChannel, false);
        const r = await startOnce(remoteChannel, true);
        if (i === 0) continue;
        local.push(l);
        remote.push(r);
      }
      const p = (values: Started[], key: keyof Started, q: number): number => percentile(values.map((value) => value[key]), q);
      return {
        params: { nodes: 3, roles: 'node-1 media, node-2 recorder, node-3 both', rounds, canvas: '320x240 BestFit', publisher: 'VP8 320x240@15 + Opus, plain RTP' },
        figures: [
          figure('recorders.start.local.running.p50', 'local recorder: POST → 201 running, p50', p(local, 'toRunningMs', 50), 'ms'),
          figure('recorders.start.remote.running.p50', 'remote recorder: POST → 201 running, p50', p(remote, 'toRunningMs', 50), 'ms'),
          figure('recorders.start.local.running.p95', 'local recorder: POST → 201 running, p95', p(local, 'toRunningMs', 95), 'ms'),
          figure('recorders.start.remote.running.p95', 'remote recorder: POST → 201 running, p95', p(remote, 'toRunningMs', 95), 'ms'),
          figure('recorders.start.runningRatio.p50', 'remote / local to running (p50)', p(remote, 'toRunningMs', 50) / p(local, 'toRunningMs', 50), '×'),
          figure('recorders.start.local.wired.p50', 'local recorder: POST → stream wired, p50', p(local, 'toWiredMs', 50), 'ms'),
          figure('recorders.start.remote.wired.p50', 'remote recorder: POST → stream wired, p50', p(remote, 'toWiredMs', 50), 'ms'),
          figure('recorders.start.wiredRatio.p50', 'remote / local to stream wired (p50)', p(remote, 'toWiredMs', 50) / p(local, 'toWiredMs', 50), '×'),
        ],
        notes: [
          'Starts through node-1 (the media-only node) by the HTTP API: a local start is passed on to node-3, the channel\'s node; a remote one to the recorder node the placement picks, which opens a media link to node-1.',
          '"Running" is the 201, sent once the recorder wrote its first bytes; "wired" is when the recording lists the publisher among its participants (its stream consumed into the recorder). Not yet measured: time to the first decoded frame, and failover gaps (recorder failover is not built).',
        ],
      };
    } finally {
      await Promise.all(publications.map((publication) => publication.stop().catch(() => undefined)));
      await Promise.all(channels.map((channel) => channel.close().catch(() => undefined)));
      await nodes?.close();
      await redis?.close();
    }
  },
};
