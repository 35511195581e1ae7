/**
 * Channel placement and node roles (ChannelLeases over a real Redis): a node without the media
 * role is never given a channel, whichever node places it and however idle it is; placing at it
 * answers another node; it refuses to claim one; and a lease it held in a run with the media role
 * is given up and the channel placed on a media node.
 */
import t from 'tap';
import { startTestNode, TestNode, testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

const redis = privateRedis(t);
if (redis) {
  t.test('3 nodes, one recorder-only: 10 channels placed from each node never land on it, even when the media nodes are busy', async (t) => {
    const keys = testKeys();
    const nodes = await Promise.all([
      startTestNode({ url: redis.url, keys, nodeId: 'media-a', load: { channels: 40, peers: 400 } }),
      startTestNode({ url: redis.url, keys, nodeId: 'media-b', roles: ['media'], load: { channels: 50, peers: 500 } }),
      startTestNode({ url: redis.url, keys, nodeId: 'rec-c', roles: ['recorder'] }),
    ]);
    t.teardown(() => Promise.all(nodes.map((node) => node.close())));
    const [, , recorder] = nodes as [TestNode, TestNode, TestNode];
    t.same((await recorder.registry.list()).map((node) => `${node.nodeId}:${node.roles.join('+')}`), ['media-a:media+recorder', 'media-b:media', 'rec-c:recorder'], 'the heartbeats say the roles');

    const owners = new Map<string, number>();
    for (const placer of nodes) {
      for (let index = 0; index < 10; index++) {
        const lease = await placer.leases.placement(`from-${placer.nodeId}-${index}`);
        owners.set(lease.owner, (owners.get(lease.owner) ?? 0) + 1);
        if (placer === recorder) t.equal(lease.ours, false, `placed at the recorder node: answered another node (${lease.owner}), to redirect to`);
      }
    }
    t.equal(owners.get('rec-c'), undefined, `none of the 30 channels is on the recorder node, the idlest (${[...owners].map(([id, n]) => `${id}: ${n}`).join(', ')})`);
    t.equal((owners.get('media-a') ?? 0) + (owners.get('media-b') ?? 0), 30, 'all on the media nodes');
    t.ok((owners.get('media-a') ?? 0) > 0 && (owners.get('media-b') ?? 0) > 0, 'spread over both by their load');
    t.equal(recorder.leases.owned.size, 0, 'the recorder node owns nothing');

    await t.rejects(recorder.leases.claim('mine'), { name: 'InvalidStateError', message: /no media role/ }, 'and refuses to claim a channel for itself');
    t.equal(await recorder.leases.lookup('mine'), undefined, 'writing no lease');
  });

  t.test("no live media node: CLUSTER_UNAVAILABLE, never a channel on the recorder node", async (t) => {
    const keys = testKeys();
    const recorder = await startTestNode({ url: redis.url, keys, nodeId: 'rec-only', roles: ['recorder'] });
    t.teardown(() => recorder.close());
    await t.rejects(recorder.leases.placement('nowhere'), { code: 'CLUSTER_UNAVAILABLE', message: /no live media node/ });
    t.equal(await recorder.leases.lookup('nowhere'), undefined);
  });

  t.test('a node restarted without the media role gives up the lease it held and the channel is placed on a media node', async (t) => {
    const keys = testKeys();
    const media = await startTestNode({ url: redis.url, keys, nodeId: 'media-x' });
    t.teardown(() => media.close());
    const before = await startTestNode({ url: redis.url, keys, nodeId: 'node-y', leaseMs: 5000 });
    t.match(await before.leases.claim('kept'), { owner: 'node-y', ours: true }, 'node-y had the channel while it had the media role');
    await before.crash();

    const after = await startTestNode({ url: redis.url, keys, nodeId: 'node-y', roles: ['recorder'], leaseMs: 5000 });
    t.teardown(() => after.close());
    t.match(await after.leases.lookup('kept'), { owner: 'node-y', ours: true }, 'its lease outlived the restart');
    const placed = await after.leases.placement('kept');
    t.match(placed, { owner: 'media-x', ours: false }, 'placing it there now answers the media node');
    t.equal(after.leases.owned.size, 0, 'and node-y holds nothing');
    t.match(await media.leases.claim('kept'), { owner: 'media-x', ours: true, state: 'active' }, 'the media node takes it when the redirected client arrives');
  });
}
