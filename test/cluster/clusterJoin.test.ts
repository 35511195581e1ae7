/**
 * Three server processes on one Redis act as one server for channels: a join through any node
 * reaches the channel's node (REDIRECT, followed by the SDK), concurrent first joins make one
 * channel, and GET /api/v1/cluster/nodes lists the live nodes with their load.
 */
import t from 'tap';
import { SignalingErrorCode } from '../../signaling/errors';
import { ClusterNodesAnswerSchema } from '../../signaling/schemas/httpApi';
import { checker } from '../../signaling/schemas/validate';
import type { MediaChannel } from '../../signaling/client/index';
import { clusterChannel, exchangeMedia, listNodes, mediaFlows, NodeView, pollFor, rawClient, startCluster, TestCluster, token } from '../support/clusterServers';
import { TEST_SECRET } from '../support/server';
import { privateRedis } from '../support/redisServer';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };

let cluster: TestCluster;
const redis = privateRedis(t, async (started) => (cluster = await startCluster(started.url, TIMING)));
if (redis) {
  const channels: MediaChannel[] = [];
  t.afterEach(async () => {
    await Promise.all(channels.splice(0).map((channel) => channel.close()));
  });

  t.test('two peers join one channel through different nodes: one is redirected to the owner, and media flows between them', async (t) => {
    const [a, b] = cluster.servers as [TestCluster['servers'][0], TestCluster['servers'][0]];
    const alice = clusterChannel(a, cluster.servers);
    const bob = clusterChannel(b, cluster.servers);
    channels.push(alice, bob);
    await alice.join('meet', { token: token('meet', 'alice'), displayName: 'Alice' });
    const owner = cluster.servers.find((server) => server.wsUrl === alice.connectedUrl)!;
    t.ok(owner, `the channel lives on ${owner?.nodeId}`);

    // What the SDK does, over the raw protocol: a join at a node that is not the owner is REDIRECT with its publicUrl.
    const other = cluster.servers.find((server) => server !== owner)!;
    const raw = await rawClient(other);
    t.teardown(() => raw.close());
    const refused = await raw.request('join', { channelId: 'meet', displayName: 'probe', token: token('meet', 'probe') }).then(
      () => undefined,
      (error) => error,
    );
    t.equal(refused?.code, SignalingErrorCode.Redirect, `a join at ${other.nodeId} is answered REDIRECT`);
    t.equal(refused?.data?.url, owner.url, "carrying the owner's publicUrl");
    // A recording API start at a node that does not own the channel is passed on to the owner.
    const auth = { authorization: `Basic ${Buffer.from(`confrec:${TEST_SECRET}`).toString('base64')}`, 'content-type': 'application/json' };
    const start = await fetch(`${other.url}/api/v1/recordings`, { method: 'POST', headers: auth, body: JSON.stringify({ channelName: 'meet' }) });
    const started = (await start.json()) as { recordingId?: string; nodeId?: string; phase?: string };
    t.equal(start.status, 201, 'an HTTP API start at a non-owner node starts the recording');
    t.equal(start.headers.get('x-confrec-node'), owner.nodeId, 'answered by the owner');
    t.equal(started.nodeId, owner.nodeId, 'which records it');
    const stop = await fetch(`${other.url}/api/v1/recordings/${started.recordingId}/stop`, { method: 'POST', headers: auth, body: '{}' });
    t.equal(stop.status, 200, 'and a stop at the same non-owner node stops it');
    t.equal(((await stop.json()) as { phase?: string }).phase, 'stopped', 'on the owner');

    await bob.join('meet', { token: token('meet', 'bob'), displayName: 'Bob' });
    t.equal(bob.connectedUrl, alice.connectedUrl, 'bob, who came through another node, is on the same node as alice');
    t.ok(alice.connectedUrl !== a.wsUrl || bob.connectedUrl !== b.wsUrl, 'at least one of them followed a redirect');
    t.ok(await pollFor(async () => alice.peers.size, (size) => size === 1, 5000), 'alice sees bob');
    t.equal([...bob.peers.values()][0]?.uid, 'alice', 'bob sees alice');

    const flow = await exchangeMedia(alice.signaling!, bob.signaling!);
    t.teardown(() => flow.stop());
    t.ok(await mediaFlows(flow, 15_000), `bob receives alice's RTP (video ${flow.packets.video}, audio ${flow.packets.audio} packets)`);
  });

  t.test('20 concurrent first joins of one channel spread over the 3 nodes end in one channel on one node', async (t) => {
    const peers = Array.from({ length: 20 }, (_, index) => clusterChannel(cluster.servers[index % 3]!, cluster.servers));
    channels.push(...peers);
    const results = await Promise.allSettled(peers.map((peer, index) => peer.join('race', { token: token('race', `racer-${index}`), displayName: `racer ${index}` })));
    const failed = results.filter((result) => result.status === 'rejected');
    t.equal(failed.length, 0, `all 20 joined${failed.length ? `: ${(failed[0] as PromiseRejectedResult).reason}` : ''}`);
    const urls = new Set(peers.map((peer) => peer.connectedUrl));
    t.equal(urls.size, 1, `all 20 are on one node (${[...urls].join(', ')})`);
    t.ok(await pollFor(async () => peers.every((peer) => peer.peers.size === 19), (all) => all, 10_000), 'every one of them sees the 19 others');
    const view = await pollFor(
      () => listNodes(cluster.servers[0]!),
      // Heartbeats lag (nodeTimeoutMs / 3): the previous test's channel may still be reported for a moment.
      ({ body }) => (body.nodes as NodeView[]).filter((node) => node.load.channels > 0).map((node) => node.load.peers).join() === '20',
      8000,
    );
    const hosting = (view.body.nodes as NodeView[]).filter((node) => node.load.channels > 0);
    t.equal(hosting.length, 1, 'one node reports the channel');
    t.equal(hosting[0]?.load.peers, 20, 'with the 20 peers');
  });

  t.test('GET /api/v1/cluster/nodes lists the 3 live nodes with their load, and 2 once one is killed', async (t) => {
    const unauthorized = await listNodes(cluster.servers[1]!, false);
    t.equal(unauthorized.status, 401, 'without the API credentials: 401');
    t.equal(unauthorized.body.error.code, 'UNAUTHORIZED');

    const publisher = clusterChannel(cluster.servers[2]!, cluster.servers);
    channels.push(publisher);
    await publisher.join('loaded', { token: token('loaded', 'pub'), displayName: 'Pub' });
    const media = await exchangeMedia(publisher.signaling!, publisher.signaling!);
    t.teardown(() => media.stop());
    const host = cluster.servers.find((server) => server.wsUrl === publisher.connectedUrl)!;

    const { status, body } = await pollFor(
      () => listNodes(cluster.servers[1]!),
      (answer) => (answer.body.nodes as NodeView[]).find((node) => node.nodeId === host.nodeId)?.load.producers === 2,
      8000,
    );
    t.equal(status, 200);
    t.doesNotThrow(() => checker(ClusterNodesAnswerSchema).parse(body, 'answer'), 'the answer matches its documented schema');
    const nodes = body.nodes as NodeView[];
    t.same(nodes.map((node) => node.nodeId), ['node-1', 'node-2', 'node-3'], 'the 3 nodes, by id');
    t.same(nodes.map((node) => node.publicUrl), cluster.servers.map((server) => server.url), 'each with its publicUrl');
    for (const node of nodes) {
      t.ok(['channels', 'peers', 'producers', 'recordings', 'cpu'].every((field) => typeof (node.load as Record<string, unknown>)[field] === 'number'), `${node.nodeId} reports its load`);
    }
    const hosting = nodes.find((node) => node.nodeId === host.nodeId)!;
    t.ok(hosting.load.channels >= 1 && hosting.load.peers >= 1, `${host.nodeId} counts its channel and peer`);
    t.equal(hosting.load.producers, 2, 'and its 2 producers');

    const victim = cluster.servers.find((server) => server !== host && server !== cluster.servers[1])!;
    await victim.kill();
    const killedAt = Date.now();
    const after = await pollFor(
      () => listNodes(cluster.servers[1]!),
      (answer) => answer.status === 200 && (answer.body.nodes as NodeView[]).length === 2,
      TIMING.nodeTimeoutMs + 2000,
      100,
    );
    t.same((after.body.nodes as NodeView[]).map((node) => node.nodeId).sort(), cluster.servers.filter((server) => server !== victim).map((server) => server.nodeId), `${victim.nodeId} is gone from the list`);
    t.ok(Date.now() - killedAt <= TIMING.nodeTimeoutMs + 2000, `within nodeTimeoutMs + 2 s (${Date.now() - killedAt} ms)`);
  });

  t.test('a node stopped with SIGTERM leaves at once: its leases are released and it is gone from the list before its entry could expire', async (t) => {
    const live = cluster.servers.filter((server) => server.child.exitCode === null && server.child.signalCode === null);
    t.ok(live.length >= 2, 'two nodes left from the previous test');
    const gina = clusterChannel(live[0]!, live, { attempts: 0 });
    channels.push(gina);
    await gina.join('graceful', { token: token('graceful', 'gina'), displayName: 'Gina' });
    const host = live.find((server) => server.wsUrl === gina.connectedUrl)!;
    const witness = live.find((server) => server !== host)!;
    const stopped = host.stop();
    const left = await pollFor(
      () => listNodes(witness),
      ({ body }) => Array.isArray(body.nodes) && !(body.nodes as NodeView[]).some((node) => node.nodeId === host.nodeId),
      5000,
      50,
    );
    t.notOk((left.body.nodes as NodeView[]).some((node) => node.nodeId === host.nodeId), `${host.nodeId} left the registry`);
    // A lease (leaseMs) outlives a registry entry that merely expired (nodeTimeoutMs): only a released one is gone now.
    const probe = await rawClient(witness);
    t.teardown(() => probe.close());
    const answer = await probe.request('join', { channelId: 'graceful', displayName: 'probe', token: token('graceful', 'probe') }).then(
      () => ({ code: 'joined' }),
      (error) => ({ code: error.code, url: error.data?.url }),
    );
    t.same(answer, { code: 'joined' }, `the channel is created afresh on ${witness.nodeId}: no lease of ${host.nodeId} was left behind`);
    await stopped;
  });
}
