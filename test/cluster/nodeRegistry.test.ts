import t from 'tap';
import { NodeInfo, NodeRegistry } from '../../server/cluster/NodeRegistry';
import { startTestNode, testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

const redis = privateRedis(t);
if (redis) {
  const NODE_TIMEOUT_MS = 1000;

  t.test('three nodes list each other with their load; a crashed one is gone within nodeTimeoutMs and reported once', async (t) => {
    const keys = testKeys();
    const nodes = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((nodeId, index) =>
        startTestNode({ url: redis.url, keys, nodeId, nodeTimeoutMs: NODE_TIMEOUT_MS, load: { channels: index, peers: 10 * index } }),
      ),
    );
    t.teardown(() => Promise.all(nodes.map((node) => node.close())));
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];

    const listed = await a.registry.list();
    t.same(listed.map((node) => node.nodeId), ['node-a', 'node-b', 'node-c']);
    const nodeB = listed.find((node) => node.nodeId === 'node-b') as NodeInfo;
    t.equal(nodeB.publicUrl, 'https://node-b.test:8080');
    t.equal(nodeB.rtpAddress, '127.0.0.1');
    t.same(nodeB.roles, ['media', 'recorder']);
    t.match(nodeB.load, { channels: 1, peers: 10, producers: 0, recordings: 0, cpu: 0 });
    t.ok(nodeB.startedAt <= nodeB.seenAt && nodeB.seenAt <= Date.now());

    // Heartbeats carry the current load.
    b.load.channels = 7;
    await b.registry.heartbeat();
    t.equal((await c.registry.list()).find((node) => node.nodeId === 'node-b')?.load.channels, 7);

    // Several heartbeat intervals later everyone is still there: the TTL is renewed.
    await new Promise((resolve) => setTimeout(resolve, 2 * NODE_TIMEOUT_MS));
    t.equal((await a.registry.list()).length, 3, 'heartbeats keep every node alive past nodeTimeoutMs');

    const downSeenByA: string[] = [];
    a.registry.on('nodeDown', (nodeId) => downSeenByA.push(nodeId));
    const crashedAt = Date.now();
    await c.crash();
    const deadline = crashedAt + NODE_TIMEOUT_MS + 2000;
    while (downSeenByA.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const detectedAfter = Date.now() - crashedAt;
    t.same(downSeenByA, ['node-c'], 'nodeDown(node-c) on another node');
    t.ok(detectedAfter <= NODE_TIMEOUT_MS + 2000, `noticed within nodeTimeoutMs + 2 s (${detectedAfter} ms)`);
    t.same((await b.registry.list()).map((node) => node.nodeId), ['node-a', 'node-b'], 'the crashed node is not listed');
    await new Promise((resolve) => setTimeout(resolve, NODE_TIMEOUT_MS));
    t.same(downSeenByA, ['node-c'], 'reported once');
  });

  t.test('a node that leaves (close) is unlisted at once; close() is idempotent', async (t) => {
    const keys = testKeys();
    const a = await startTestNode({ url: redis.url, keys, nodeId: 'node-a', nodeTimeoutMs: 5000 });
    const ups: string[] = [];
    a.registry.on('nodeUp', (node) => ups.push(node.nodeId));
    const b = await startTestNode({ url: redis.url, keys, nodeId: 'node-b', nodeTimeoutMs: 5000 });
    t.teardown(() => a.close());
    t.equal((await a.registry.list()).length, 2);
    await a.registry.heartbeat();
    t.same(ups, ['node-b'], 'nodeUp for the newcomer, once');
    await Promise.all([b.registry.close(), b.registry.close()]);
    t.same((await a.registry.list()).map((node) => node.nodeId), ['node-a']);
    await b.close();
    await b.close();
  });

  t.test('bad options are TypeErrors naming the field', async (t) => {
    const keys = testKeys();
    const a = await startTestNode({ url: redis.url, keys, nodeId: 'node-a' });
    t.teardown(() => a.close());
    const base = { connection: a.connection, keys, publicUrl: '', rtpAddress: '', load: () => a.load, nodeTimeoutMs: 1000 };
    t.throws(() => new NodeRegistry({ ...base, nodeId: 'bad id!' }), { name: 'TypeError', message: /nodeId/ });
    t.throws(() => new NodeRegistry({ ...base, nodeId: 'ok', nodeTimeoutMs: 5 }), { name: 'TypeError', message: /nodeTimeoutMs/ });
  });
}
