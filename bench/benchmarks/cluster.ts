/**
 * Cluster mode as a client sees it: three server processes (127.0.0.1/.2/.3) on one private
 * redis-server. Join latency (connect + join answered) entering at a node that is not the channel's
 * owner and following its REDIRECT, against entering at the owner directly, measured alternately in
 * the same run; and how placement spreads new channels over the nodes when every first join enters
 * at the same node.
 */
import { percentile } from '../lib/analyze';
import { figure } from '../lib/report';
import { clusterChannel, ClusterServer, startCluster, TestCluster, token } from '../../test/support/clusterServers';
import { redisServerMissing, RedisTestServer, startRedisServer } from '../../test/support/redisServer';
import type { MediaChannel } from '../../signaling/client/index';
import type { Benchmark } from './types';

const NODES = 3;
const CHANNELS = 30;
/** The config defaults: the bench measures what an operator gets without tuning. */
const TIMING = { nodeTimeoutMs: 5000, leaseMs: 10_000 };

function ownerOf(channel: MediaChannel, servers: readonly ClusterServer[]): ClusterServer {
  const owner = servers.find((server) => server.wsUrl === channel.connectedUrl);
  if (!owner) throw new Error(`joined at ${channel.connectedUrl}, which is none of the nodes`);
  return owner;
}

/** One join through `entry` (MediaChannel, signaling only), timed from connect to the join answer; left at once. */
async function timedJoin(entry: ClusterServer, servers: readonly ClusterServer[], channelId: string, uid: string): Promise<{ ms: number; url: string }> {
  const channel = clusterChannel(entry, [...servers]);
  try {
    const t0 = performance.now();
    await channel.join(channelId, { token: token(channelId, uid), displayName: uid });
    return { ms: performance.now() - t0, url: channel.connectedUrl! };
  } finally {
    await channel.close();
  }
}

export const cluster: Benchmark = {
  name: 'cluster',
  group: 'cluster',
  title: 'Cluster: join latency through a REDIRECT vs direct, placement of 30 channels over 3 nodes',
  async run(_env, options) {
    const missing = redisServerMissing();
    if (missing) throw new Error(missing);
    const joins = options.quick ? 20 : 100;
    let redis: RedisTestServer | undefined;
    let nodes: TestCluster | undefined;
    const owners: MediaChannel[] = [];
    const notes: string[] = [];
    try {
      redis = await startRedisServer();
      nodes = await startCluster(redis.url, TIMING, NODES);
      const servers = nodes.servers;
      const entry = servers[0]!;

      // Placement: every first join enters at node 1, so only placement decides where a channel lives.
      // The owners stay joined, holding their channels (and leases) for the latency part.
      for (let i = 0; i < CHANNELS; i++) {
        const channel = clusterChannel(entry, servers);
        owners.push(channel);
        await channel.join(`place-${i}`, { token: token(`place-${i}`, 'owner'), displayName: 'owner' });
      }
      const perNode = servers.map((server) => owners.filter((channel) => channel.connectedUrl === server.wsUrl).length);
      const placedElsewhere = owners.filter((channel) => channel.connectedUrl !== entry.wsUrl).length;

      // Latency: alternate direct and redirected joins of the placed channels, so both see the same load.
      // The first join of each kind warms up connections and code paths and is not counted.
      const direct: number[] = [];
      const redirected: number[] = [];
      for (let i = 0; i <= joins; i++) {
        const channelIndex = i % CHANNELS;
        const channelId = `place-${channelIndex}`;
        const owner = ownerOf(owners[channelIndex]!, servers);
        const other = servers.filter((server) => server !== owner)[i % (NODES - 1)]!;
        const straight = await timedJoin(owner, servers, channelId, `direct-${i}`);
        if (straight.url !== owner.wsUrl) throw new Error(`a direct join of ${channelId} ended at ${straight.url}, not its owner ${owner.wsUrl}`);
        const viaRedirect = await timedJoin(other, servers, channelId, `redirected-${i}`);
        if (viaRedirect.url !== owner.wsUrl) throw new Error(`a join of ${channelId} through ${other.nodeId} ended at ${viaRedirect.url}, not its owner ${owner.wsUrl}`);
        if (i === 0) continue;
        direct.push(straight.ms);
        redirected.push(viaRedirect.ms);
      }
      const directP50 = percentile(direct, 50);
      const redirectP50 = percentile(redirected, 50);
      const max = Math.max(...perNode);
      const min = Math.min(...perNode);
      if (min === 0) notes.push('a node received no channel: the max/min ratio is n/a');
      return {
        params: { nodes: NODES, channels: CHANNELS, joinsEach: joins, nodeTimeoutMs: TIMING.nodeTimeoutMs, leaseMs: TIMING.leaseMs, client: 'MediaChannel (Node, media off), ws://' },
        figures: [
          figure('cluster.join.direct.p50', 'join at the owner (direct) p50', directP50, 'ms'),
          figure('cluster.join.direct.p95', 'join at the owner (direct) p95', percentile(direct, 95), 'ms'),
          figure('cluster.join.redirect.p50', 'join via another node + REDIRECT p50', redirectP50, 'ms'),
          figure('cluster.join.redirect.p95', 'join via another node + REDIRECT p95', percentile(redirected, 95), 'ms'),
          figure('cluster.join.redirectRatio.p50', 'redirect / direct (p50)', redirectP50 / directP50, '×'),
          figure('cluster.join.redirectRatio.p95', 'redirect / direct (p95)', percentile(redirected, 95) / percentile(direct, 95), '×'),
          ...servers.map((server, index) => figure(`cluster.placement.${server.nodeId}`, `channels on ${server.nodeId}`, perNode[index], 'channels')),
          figure('cluster.placement.maxMinRatio', 'placement max / min channels per node', min > 0 ? max / min : null, '×', { op: '<=', value: 1.5 }),
          figure('cluster.placement.elsewhere', 'first joins at node-1 placed on another node', placedElsewhere, 'channels'),
        ],
        notes: [
          `${CHANNELS} channels created one after another by first joins all entering at node-1; placement = least-loaded live node by the leases in Redis.`,
          'Join latency = WebSocket connect + join answered (plus, through a non-owner node, the REDIRECT answer and the second connect), with a fresh client per join; direct and redirected joins alternate over the same channels.',
          ...notes,
        ],
      };
    } finally {
      await Promise.all(owners.map((channel) => channel.close().catch(() => undefined)));
      await nodes?.close();
      await redis?.close();
    }
  },
};
