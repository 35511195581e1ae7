/**
 * Node roles across real server processes on one Redis: node-1 and node-2 with the default roles
 * (media and recorder), node-3 started with CONFREC_CLUSTER_ROLES=recorder. Every join that reaches
 * node-3 is answered REDIRECT — to the channel's owner, or for a new channel to a media node — and
 * 10 new channels entering there all live on media nodes; GET /api/v1/cluster/nodes shows each
 * node's roles and its recorder room (load.recorder), whose `used` rises by a recording's cost
 * while it runs (an HTTP API start) and falls back after its stop.
 */
import t from 'tap';
import { SignalingErrorCode } from '../../signaling/errors';
import { ClusterNodesAnswerSchema } from '../../signaling/schemas/httpApi';
import { checker } from '../../signaling/schemas/validate';
import type { MediaChannel } from '../../signaling/client/index';
import { apiClient } from '../backend/support';
import { ClusterServer, clusterChannel, listNodes, NodeView, pollFor, rawClient, startCluster, TestCluster, token } from '../support/clusterServers';
import { privateRedis } from '../support/redisServer';
import { TEST_SECRET } from '../support/server';
import { defaultCompositeCost } from '../support/recorderRoom';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
const CAPACITY = 400;
/** An empty channel's default composite (360×640@15, nobody publishing): one participant's worth. */
const EMPTY_COMPOSITE_COST = defaultCompositeCost(0);

let cluster: TestCluster;
const redis = privateRedis(t, async (started) => {
  cluster = await startCluster(started.url, TIMING, 3, {
    env: { CONFREC_RECORDING_CAPACITY_UNITS: String(CAPACITY) },
    nodeEnv: (index) => (index === 2 ? { CONFREC_CLUSTER_ROLES: 'recorder' } : {}),
  });
  return cluster;
});

if (redis) {
  const channels: MediaChannel[] = [];
  t.afterEach(async () => {
    await Promise.all(channels.splice(0).map((channel) => channel.close()));
  });
  const nodes = () => cluster.servers as [ClusterServer, ClusterServer, ClusterServer];
  const viewOf = async (server: ClusterServer, nodeId: string): Promise<NodeView | undefined> => ((await listNodes(server)).body.nodes as NodeView[]).find((node) => node.nodeId === nodeId);

  t.test('the registry shows the roles and every node its recorder room', async (t) => {
    const [media1, , recorder] = nodes();
    const answer = await pollFor(
      () => listNodes(recorder),
      ({ body }) => (body.nodes as NodeView[]).length === 3 && (body.nodes as NodeView[]).every((node) => node.load.recorder !== undefined),
      8000,
    );
    t.equal(answer.status, 200);
    t.doesNotThrow(() => checker(ClusterNodesAnswerSchema).parse(answer.body, 'answer'), 'the answer matches its documented schema');
    const byId = new Map((answer.body.nodes as NodeView[]).map((node) => [node.nodeId, node]));
    t.same(byId.get(media1.nodeId)?.roles, ['media', 'recorder'], 'node-1: both roles, the default');
    t.same(byId.get(recorder.nodeId)?.roles, ['recorder'], 'node-3: recorder only');
    for (const node of byId.values()) t.same(node.load.recorder, { capacity: CAPACITY, used: 0 }, `${node.nodeId}: capacity ${CAPACITY} (recording.capacityUnits), nothing used`);
  });

  t.test('a recorder-only node redirects every join: a new channel to a media node, an existing one to its owner; 10 channels entering there never live on it', async (t) => {
    const [media1, media2, recorder] = nodes();
    const media = new Set([media1.url, media2.url]);
    const raw = await rawClient(recorder);
    t.teardown(() => raw.close());
    const join = (channelId: string) => raw.request('join', { channelId, displayName: 'probe', token: token(channelId, 'probe') }).then(() => undefined, (error) => error);

    const first = await join('fresh');
    t.equal(first?.code, SignalingErrorCode.Redirect, 'a first join at the recorder node: REDIRECT');
    t.ok(media.has(first?.data?.url), `to a media node (${first?.data?.url})`);

    const alice = clusterChannel(media1, cluster.servers);
    channels.push(alice);
    await alice.join('existing', { token: token('existing', 'alice'), displayName: 'Alice' });
    const owner = cluster.servers.find((server) => server.wsUrl === alice.connectedUrl)!;
    const again = await join('existing');
    t.equal(again?.code, SignalingErrorCode.Redirect, 'a join of a live channel at the recorder node: REDIRECT');
    t.equal(again?.data?.url, owner.url, `to its owner (${owner.nodeId})`);

    const entering = Array.from({ length: 10 }, () => clusterChannel(recorder, cluster.servers));
    channels.push(...entering);
    await Promise.all(entering.map((peer, index) => peer.join(`placed-${index}`, { token: token(`placed-${index}`, `peer-${index}`), displayName: `peer ${index}` })));
    const hosts = entering.map((peer) => cluster.servers.find((server) => server.wsUrl === peer.connectedUrl)?.nodeId);
    t.notOk(hosts.includes(recorder.nodeId), `none of the 10 is on the recorder node (${hosts.join(', ')})`);
    t.ok(hosts.every((host) => host === media1.nodeId || host === media2.nodeId), 'all on media nodes');

    const view = await pollFor(() => viewOf(media1, recorder.nodeId), (node) => node !== undefined, 3000);
    t.match(view?.load, { channels: 0, peers: 0 }, 'the recorder node reports no channel and no peer');
  });

  t.test("load.recorder.used rises by a running recording's cost and falls back after its stop", async (t) => {
    const [media1, , recorder] = nodes();
    const api = apiClient(recorder.url, 'confrec', TEST_SECRET);
    // Entering at the recorder node: the start is passed on to the media node the channel is placed on.
    const started = await api.request('POST', '/recordings', { channelName: 'loaded-rec' });
    t.equal(started.status, 201, 'started');
    const recordingNode = started.headers.get('x-confrec-node');
    t.ok(recordingNode && recordingNode !== recorder.nodeId, `recorded by a media node (${recordingNode})`);
    const running = await pollFor(() => viewOf(media1, recordingNode!), (node) => node?.load.recorder?.used === EMPTY_COMPOSITE_COST && node.load.recordings === 1, 5000);
    t.same(running?.load.recorder, { capacity: CAPACITY, used: EMPTY_COMPOSITE_COST }, `${recordingNode} heartbeats the recording's cost as used`);
    t.equal(running?.load.recordings, 1, 'beside its count of recordings (once the channel says Running)');
    t.same((await viewOf(media1, recorder.nodeId))?.load.recorder, { capacity: CAPACITY, used: 0 }, 'the recorder node (which records nothing yet) still uses none');

    const stopped = await api.request('POST', `/recordings/${started.body.recordingId}/stop`, {});
    t.equal(stopped.status, 200, 'stopped');
    const after = await pollFor(() => viewOf(media1, recordingNode!), (node) => node?.load.recorder?.used === 0, 5000);
    t.same(after?.load.recorder, { capacity: CAPACITY, used: 0 }, 'and used falls back to 0');
  });
}
