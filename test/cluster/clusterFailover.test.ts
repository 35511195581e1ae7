/**
 * A cluster of three server processes losing a part: the channel's node SIGKILLed mid-call (its
 * clients are back in the channel on another node within 10 s), and Redis stopped for 10 s mid-call
 * (the call carries on, new channels are refused with CLUSTER_UNAVAILABLE, everything is whole after).
 */
import t from 'tap';
import { SignalingErrorCode } from '../../signaling/errors';
import type { MediaChannel } from '../../signaling/client/index';
import {
  ClusterServer,
  clusterChannel,
  exchangeMedia,
  listNodes,
  mediaFlows,
  NodeView,
  pollFor,
  rawClient,
  startCluster,
  startClusterServer,
  TestCluster,
  token,
} from '../support/clusterServers';
import { privateRedis } from '../support/redisServer';
import { TEST_SECRET } from '../support/server';
import { apiClient } from '../backend/support';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
const RECONNECT = { attempts: 20, initialDelayMs: 300, maxDelayMs: 1000 };

const api = (server: ClusterServer) => apiClient(server.url, 'confrec', TEST_SECRET);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a raw join of `channelId` at `server` answers: 'joined', or the error's code and data. */
async function joinAt(server: ClusterServer, channelId: string, uid: string): Promise<{ code: string; url?: string }> {
  const client = await rawClient(server);
  try {
    await client.request('join', { channelId, displayName: uid, token: token(channelId, uid) });
    return { code: 'joined' };
  } catch (error) {
    const coded = error as { code: string; data?: { url?: string } };
    return { code: coded.code, ...(coded.data?.url ? { url: coded.data.url } : {}) };
  } finally {
    client.close();
  }
}

let cluster: TestCluster;
const redis = privateRedis(t, async (started) => (cluster = await startCluster(started.url, TIMING)));
if (redis) {
  const channels: MediaChannel[] = [];
  t.afterEach(async () => {
    await Promise.all(channels.splice(0).map((channel) => channel.close()));
  });

  const serverOf = (channel: MediaChannel): ClusterServer | undefined => cluster.servers.find((server) => server.wsUrl === channel.connectedUrl);

  t.test("the channel's node is SIGKILLed mid-call: both clients are back in the channel on another node within 10 s", async (t) => {
    const alice = clusterChannel(cluster.servers[0]!, cluster.servers, RECONNECT);
    const bob = clusterChannel(cluster.servers[1]!, cluster.servers, RECONNECT);
    channels.push(alice, bob);
    await alice.join('failover', { token: token('failover', 'alice'), displayName: 'Alice' });
    await bob.join('failover', { token: token('failover', 'bob'), displayName: 'Bob' });
    const owner = serverOf(alice)!;
    t.equal(serverOf(bob), owner, `both on ${owner.nodeId}`);
    const before = await exchangeMedia(alice.signaling!, bob.signaling!);
    t.ok(await mediaFlows(before, 15_000), 'media flows before the kill');
    await before.stop();

    await owner.kill();
    const killedAt = Date.now();
    const back = await pollFor(
      async () => [alice, bob].map((peer) => ({ state: peer.connectionState, node: serverOf(peer), peers: [...peer.peers.values()].map((other) => other.uid) })),
      ([a, b]) => a!.state === 'connected' && b!.state === 'connected' && a!.node !== undefined && a!.node !== owner && a!.node === b!.node && a!.peers.join() === 'bob' && b!.peers.join() === 'alice',
      10_000,
      100,
    );
    const elapsed = Date.now() - killedAt;
    t.ok(elapsed < 10_000, `back within 10 s (${elapsed} ms)`);
    t.equal(back[0]?.state, 'connected', 'alice is connected again');
    t.equal(back[1]?.state, 'connected', 'bob is connected again');
    t.not(back[0]?.node, owner, `on another node (${back[0]?.node?.nodeId})`);
    t.equal(back[0]?.node, back[1]?.node, 'both on the same one');
    t.same([back[0]?.peers, back[1]?.peers], [['bob'], ['alice']], 'each sees the other');

    const after = await exchangeMedia(alice.signaling!, bob.signaling!);
    t.teardown(() => after.stop());
    t.ok(await mediaFlows(after, 15_000), `the call goes on there: RTP flows again (video ${after.packets.video}, audio ${after.packets.audio})`);

    // The killed node comes back as itself (same node id from its state dir) for the next test.
    const index = cluster.servers.indexOf(owner);
    cluster.servers[index] = await startClusterServer({ index, redisUrl: redis.url, dir: cluster.dir, timing: TIMING });
    const nodes = await pollFor(() => listNodes(cluster.servers[index]!), ({ body }) => body.nodes?.length === 3, 10_000);
    t.equal(nodes.body.nodes.length, 3, `${owner.nodeId} restarted and is listed again`);
  });

  t.test('Redis stopped for 10 s mid-call: the call carries on, new channels are refused with CLUSTER_UNAVAILABLE, the cluster is whole again after', async (t) => {
    const alice = clusterChannel(cluster.servers[2]!, cluster.servers, RECONNECT);
    const bob = clusterChannel(cluster.servers[0]!, cluster.servers, RECONNECT);
    channels.push(alice, bob);
    await alice.join('steady', { token: token('steady', 'alice'), displayName: 'Alice' });
    await bob.join('steady', { token: token('steady', 'bob'), displayName: 'Bob' });
    const owner = serverOf(alice)!;
    const flow = await exchangeMedia(alice.signaling!, bob.signaling!);
    t.teardown(() => flow.stop());
    t.ok(await mediaFlows(flow, 15_000), 'media flows');
    const start = await api(owner).request('POST', '/recordings', { channelName: 'steady' });
    t.equal(start.status, 201, 'a recording of the call runs on its node');
    const recordingId = (start.body as { recordingId: string }).recordingId;

    await redis.stop();
    const stoppedAt = Date.now();
    const atStop = { ...flow.packets };
    await sleep(500);
    for (const server of cluster.servers) {
      t.same(await joinAt(server, `new-${server.nodeId}`, 'newcomer'), { code: SignalingErrorCode.ClusterUnavailable }, `a new channel at ${server.nodeId} is refused with CLUSTER_UNAVAILABLE`);
    }
    t.same(await joinAt(owner, 'steady', 'carol'), { code: 'joined' }, `the owner (${owner.nodeId}) still takes joins of its channel`);
    const nodesDuring = await listNodes(cluster.servers[0]!);
    t.equal(nodesDuring.status, 503, 'the node list answers 503 meanwhile');
    t.equal(nodesDuring.body.error?.code, SignalingErrorCode.ClusterUnavailable);

    await sleep(Math.max(0, 10_000 - (Date.now() - stoppedAt)));
    const during = { video: flow.packets.video - atStop.video, audio: flow.packets.audio - atStop.audio };
    t.ok(during.video >= 50 && during.audio >= 200, `RTP flowed all along the 10 s outage (video ${during.video}, audio ${during.audio} packets)`);
    t.same([alice.connectionState, bob.connectionState], ['connected', 'connected'], 'both clients stayed connected');
    t.same([serverOf(alice), serverOf(bob)], [owner, owner], 'on the same node');

    await redis.start();
    const whole = await pollFor(
      () => listNodes(cluster.servers[1]!),
      ({ status, body }) => status === 200 && body.nodes.length === 3,
      10_000,
    );
    t.same((whole.body.nodes as NodeView[]).map((node) => node.nodeId), ['node-1', 'node-2', 'node-3'], 'the 3 nodes re-registered');
    const other = cluster.servers.find((server) => server !== owner)!;
    t.same(await joinAt(other, 'steady', 'dave'), { code: SignalingErrorCode.Redirect, url: owner.url }, `the owner re-asserted its lease: a join at ${other.nodeId} is redirected to it`);
    const late = clusterChannel(other, cluster.servers);
    channels.push(late);
    const joined = await pollFor(
      () => late.join('after-outage', { token: token('after-outage', 'erin'), displayName: 'Erin' }).then(() => true),
      (ok) => ok === true,
      5000,
    );
    t.equal(joined, true, 'a new channel is created again');
    t.ok(await mediaFlows(flow, 5000, 20, { ...flow.packets }), 'and the call still carries media');

    // Redis came back empty: the recording, which had no event to tell meanwhile, is in the directory again.
    const listed = await pollFor(() => api(other).request('GET', `/recordings/${recordingId}`), ({ status }) => status === 200, 5000);
    t.equal(listed.status, 200, `${other.nodeId} knows the recording again after the outage`);
    t.match(listed.body, { phase: 'running', nodeId: owner.nodeId }, 'running on its node');
    const stop = await api(other).request('POST', `/recordings/${recordingId}/stop`, {});
    t.match({ status: stop.status, body: stop.body }, { status: 200, body: { phase: 'stopped' } }, `and ${other.nodeId} stops it there`);
    const stored = await pollFor(
      () => api(other).request('GET', `/recordings/${recordingId}`),
      ({ body }) => (body as { uploads?: { state: string }[] }).uploads?.some((upload) => upload.state === 'uploaded') === true,
      15_000,
    );
    const uploads = (stored.body as { uploads: { state: string; size?: number }[] }).uploads;
    t.ok(uploads.length > 0 && uploads.every((upload) => upload.state === 'uploaded'), `nothing recorded is lost: its files are stored (${uploads.map((upload) => upload.state).join()})`);
  });

  t.test('a node frozen past leaseMs loses its channel to another node: it does not renew it, closes it with CHANNEL_MOVED, and its clients follow', async (t) => {
    const alice = clusterChannel(cluster.servers[0]!, cluster.servers, RECONNECT);
    channels.push(alice);
    await alice.join('frozen', { token: token('frozen', 'alice'), displayName: 'Alice' });
    const frozen = serverOf(alice)!;
    const watcher = await rawClient(frozen);
    t.teardown(() => watcher.close());
    await watcher.request('join', { channelId: 'frozen', displayName: 'watcher', token: token('frozen', 'watcher') });
    const moved = watcher.waitFor('channelClosed', undefined, 20_000);
    const changes: { state: string; code?: string }[] = [];
    alice.on('connectionStateChange', (change) => changes.push({ state: change.state, ...(change.error ? { code: change.error.code } : {}) }));

    // SIGSTOP: the node holds its sockets but runs nothing, so its lease and registry entry run out.
    frozen.child.kill('SIGSTOP');
    t.teardown(() => void frozen.child.kill('SIGCONT'));
    await sleep(TIMING.leaseMs + 500);
    const other = cluster.servers.find((server) => server !== frozen)!;
    const bob = clusterChannel(other, cluster.servers, RECONNECT);
    channels.push(bob);
    await bob.join('frozen', { token: token('frozen', 'bob'), displayName: 'Bob' });
    const taker = serverOf(bob)!;
    t.not(taker, frozen, `the channel is created again on ${taker.nodeId}`);

    frozen.child.kill('SIGCONT');
    const closed = await moved;
    t.equal(closed.code, SignalingErrorCode.ChannelMoved, `the woken node closes its copy with CHANNEL_MOVED ("${closed.reason}")`);
    const back = await pollFor(
      async () => ({ state: alice.connectionState, node: serverOf(alice), peers: [...alice.peers.values()].map((peer) => peer.uid) }),
      (view) => view.state === 'connected' && view.node === taker && view.peers.includes('bob'),
      10_000,
      100,
    );
    t.same(back, { state: 'connected', node: taker, peers: ['bob'] }, `alice followed the channel to ${taker.nodeId} and sees bob`);
    t.ok(changes.some((change) => change.state === 'reconnecting' && change.code === SignalingErrorCode.ChannelMoved), 'her SDK reconnected because of CHANNEL_MOVED');
    await sleep(TIMING.leaseMs);
    t.same(await joinAt(frozen, 'frozen', 'probe'), { code: SignalingErrorCode.Redirect, url: taker.url }, `${frozen.nodeId} no longer claims it: a join there is redirected to ${taker.nodeId}`);
  });
}
