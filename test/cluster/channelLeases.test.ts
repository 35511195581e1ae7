import t from 'tap';
import Redis from 'ioredis';
import { ChannelLease } from '../../server/cluster/ChannelLeases';
import { ClusterKeys } from '../../server/cluster/ClusterKeys';
import { startTestNode, TestNode, testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

const LEASE_MS = 1500;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const redis = privateRedis(t);
if (redis) {
  const threeNodes = async (t: { teardown(fn: () => unknown): void }, keys: ClusterKeys, options: { pendingLeaseMs?: number } = {}): Promise<[TestNode, TestNode, TestNode]> => {
    const nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((nodeId) => startTestNode({ url: redis.url, keys, nodeId, leaseMs: LEASE_MS, ...options })));
    t.teardown(() => Promise.all(nodes.map((node) => node.close())));
    return nodes as [TestNode, TestNode, TestNode];
  };

  function ownersOf(nodes: TestNode[], channelId: string): string[] {
    return nodes.filter((node) => node.leases.owned.has(channelId)).map((node) => node.nodeId);
  }

  t.test('a race of 20 concurrent claims for one channel from 3 nodes ends with exactly one owner', async (t) => {
    const keys = testKeys();
    const nodes = await threeNodes(t, keys);
    for (let round = 0; round < 5; round++) {
      const channelId = `race-${round}`;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => nodes[index % 3]!.leases.claim(channelId)));
      const owners = new Set(answers.map((answer) => answer.owner));
      t.equal(owners.size, 1, `round ${round}: every claim was told the same owner`);
      const [owner] = owners;
      t.same(ownersOf(nodes, channelId), [owner], `round ${round}: exactly that node holds the channel`);
      t.ok(answers.every((answer) => answer.ours === (nodes[answers.indexOf(answer) % 3]!.nodeId === owner)), 'ours only on the owner');
      t.ok(answers.every((answer) => answer.publicUrl === `https://${owner}.test:8080`), "every answer carries the owner's publicUrl");
    }
  });

  t.test('a race of 20 concurrent placements (first joins on 3 nodes) also ends with one owner, whoever it was placed on', async (t) => {
    const keys = testKeys();
    const nodes = await threeNodes(t, keys);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => nodes[index % 3]!.leases.placement('placed-race')));
    const owners = new Set(answers.map((answer) => answer.owner));
    t.equal(owners.size, 1, 'every placement answered the same owner');
    const [owner] = owners as Set<string>;
    const target = nodes.find((node) => node.nodeId === owner)!;
    // The redirected client arrives at the owner, which claims for itself.
    const confirmed = await target.leases.claim('placed-race');
    t.match(confirmed, { owner, ours: true, state: 'active' });
    t.same(ownersOf(nodes, 'placed-race'), [owner]);
  });

  t.test('renewal keeps a lease past leaseMs; a node that stops renewing loses it and another can claim', async (t) => {
    const keys = testKeys();
    const [a, b] = await threeNodes(t, keys);
    t.match(await a.leases.claim('kept'), { owner: 'node-a', ours: true, state: 'active' });
    await sleep(2 * LEASE_MS);
    t.match(await b.leases.lookup('kept'), { owner: 'node-a', ours: false }, 'still node-a after twice leaseMs');
    t.match(await b.leases.claim('kept'), { owner: 'node-a', ours: false }, 'another claim is told the owner');

    await a.crash();
    t.match(await b.leases.claim('kept'), { owner: 'node-a', ours: false }, 'right after the crash the lease still stands');
    await sleep(LEASE_MS + 300);
    t.equal(await b.leases.lookup('kept'), undefined, 'gone after leaseMs');
    t.match(await b.leases.claim('kept'), { owner: 'node-b', ours: true }, 'another node can claim it');
  });

  t.test('renewal keeps 1200 leases of one node alive (renewed in batches)', async (t) => {
    const keys = testKeys();
    const [a, b] = await threeNodes(t, keys);
    const channelIds = Array.from({ length: 1200 }, (_, index) => `many-${index}`);
    await Promise.all(channelIds.map((channelId) => a.leases.claim(channelId)));
    await sleep(2 * LEASE_MS);
    t.equal((await a.leases.channelCounts(['node-a'])).get('node-a'), 1200, 'all 1200 unexpired');
    const sample = await Promise.all(['many-0', 'many-599', 'many-1199'].map((channelId) => b.leases.lookup(channelId)));
    t.ok(sample.every((lease) => lease?.owner === 'node-a'));
  });

  t.test('a renewal that finds the lease taken by another node emits lost and gives it up', async (t) => {
    const keys = testKeys();
    const [a, b] = await threeNodes(t, keys);
    await a.leases.claim('stolen');
    const admin = new Redis(redis.url);
    t.teardown(() => admin.quit());
    // As if node-a had been cut off past its lease and node-b took the channel meanwhile.
    await admin.del(keys.lease('stolen'));
    t.match(await b.leases.claim('stolen'), { owner: 'node-b', ours: true });
    const lost: string[] = [];
    a.leases.on('lost', (channelId) => lost.push(channelId));
    await a.leases.renew();
    t.same(lost, ['stolen']);
    t.notOk(a.leases.owned.has('stolen'));
    t.match(await a.leases.lookup('stolen'), { owner: 'node-b' }, "node-a's renewal did not touch node-b's lease");
    t.ok((await admin.pttl(keys.lease('stolen'))) > 0);
  });

  t.test('release deletes only our own lease', async (t) => {
    const keys = testKeys();
    const [a, b] = await threeNodes(t, keys);
    await a.leases.claim('mine');
    t.equal(await b.leases.release('mine'), false, "node-b cannot release node-a's lease");
    t.match(await b.leases.lookup('mine'), { owner: 'node-a' });
    t.equal(await a.leases.release('mine'), true);
    t.equal(await b.leases.lookup('mine'), undefined);
    t.notOk(a.leases.owned.has('mine'));
    t.match(await b.leases.claim('mine'), { owner: 'node-b', ours: true }, 'free for anyone once released');
  });

  t.test('a pending lease written for another node ends by itself unless that node confirms it', async (t) => {
    const keys = testKeys();
    const [a, b] = await threeNodes(t, keys, { pendingLeaseMs: 800 });
    // node-a is busier, so its placements go to the others (node-b first by id).
    for (let index = 0; index < 3; index++) await a.leases.claim(`busy-${index}`);
    const placed = await a.leases.placement('new-1');
    t.match(placed, { owner: 'node-b', state: 'pending', ours: false, publicUrl: 'https://node-b.test:8080' });
    t.match(await b.leases.claim('new-1'), { owner: 'node-b', state: 'active', ours: true }, 'the target confirms on the first join');
    await sleep(1200);
    t.match(await a.leases.lookup('new-1'), { owner: 'node-b', state: 'active' }, 'confirmed: renewed past pendingLeaseMs');

    t.match(await a.leases.placement('new-2'), { state: 'pending' });
    await sleep(1200);
    t.equal(await a.leases.lookup('new-2'), undefined, 'never confirmed: gone after pendingLeaseMs');
  });

  t.test('placement spreads 30 channels over 3 nodes with different loads: fewest channels first', async (t) => {
    const keys = testKeys();
    const nodes = await threeNodes(t, keys);
    const [a, b, c] = nodes;
    for (let index = 0; index < 10; index++) await a.leases.claim(`a-old-${index}`);
    for (let index = 0; index < 5; index++) await c.leases.claim(`c-old-${index}`);
    const placedOn = new Map<string, number>();
    const answers: ChannelLease[] = [];
    for (let index = 0; index < 30; index++) {
      // The first joins arrive at any node.
      const lease = await nodes[index % 3]!.leases.placement(`spread-${index}`);
      answers.push(lease);
      placedOn.set(lease.owner, (placedOn.get(lease.owner) ?? 0) + 1);
    }
    t.same(Object.fromEntries(placedOn), { 'node-a': 5, 'node-b': 15, 'node-c': 10 }, 'every node ends with 15 channels');
    t.same(answers.slice(0, 5).map((lease) => lease.owner), Array(5).fill('node-b'), 'the empty node fills first');
    t.same(
      Object.fromEntries(await a.leases.channelCounts(['node-a', 'node-b', 'node-c'])),
      { 'node-a': 15, 'node-b': 15, 'node-c': 15 },
    );

    // An overloaded node (cpu at 95 %) gets nothing while others are not.
    b.load.cpu = 0.95;
    await b.registry.heartbeat();
    const next = await Promise.all(Array.from({ length: 6 }, (_, index) => c.leases.placement(`cpu-${index}`).then((lease) => lease.owner)));
    t.notOk(next.includes('node-b'), `none on the overloaded node: ${next.join(',')}`);
  });

  t.test('bad arguments and calls after close', async (t) => {
    const keys = testKeys();
    const [a] = await threeNodes(t, keys);
    await t.rejects(a.leases.claim(''), { name: 'TypeError', message: /channelId/ });
    await a.leases.close();
    await a.leases.close();
    await t.rejects(a.leases.claim('x'), { name: 'InvalidStateError' });
  });
}
