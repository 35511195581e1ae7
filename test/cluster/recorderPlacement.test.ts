/**
 * RecorderPlacement: which recorder node a recording goes to. The choice over given node lists
 * (most free capacity; ties: this node, then node id; only recorder nodes that report a recorder
 * load; "the cluster is full" at once when none fits), then the same over a real Redis, with the
 * loads the nodes heartbeat through ClusterMember.setRecorderLoad.
 */
import t from 'tap';
import { clusterHandle } from '../../server/cluster/clusterHandle';
import type { NodeInfo, NodeRole, RecorderLoad } from '../../server/cluster/NodeRegistry';
import { pickRecorderNode, RecorderPlacement } from '../../plugin/recording/cluster/RecorderPlacement';
import { RecordingErrorCode } from '../../signaling/errors';
import { startTestNode, testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

function node(nodeId: string, recorder: RecorderLoad | undefined, roles: NodeRole[] = ['media', 'recorder']): NodeInfo {
  return {
    nodeId,
    publicUrl: `https://${nodeId}.test:8080`,
    rtpAddress: '127.0.0.1',
    roles,
    load: { channels: 0, peers: 0, producers: 0, recordings: 0, cpu: 0, ...(recorder ? { recorder } : {}) },
    startedAt: 0,
    seenAt: 0,
  };
}

const ids = (nodes: NodeInfo[], cost: number, self: string): string => pickRecorderNode(nodes, cost, self).nodeId;

t.test('the recorder node with the most free capacity; ties go to this node, then to the lowest node id', async (t) => {
  const nodes = [node('r-a', { capacity: 1600, used: 1000 }), node('r-b', { capacity: 800, used: 100 }), node('r-c', { capacity: 1600, used: 1200 })];
  t.equal(ids(nodes, 175, 'r-a'), 'r-b', 'most free (700), not the largest capacity nor this node');

  const tied = [node('r-c', { capacity: 800, used: 300 }), node('r-b', { capacity: 1000, used: 500 }), node('r-a', { capacity: 500, used: 0 })];
  t.equal(ids(tied, 175, 'r-b'), 'r-b', 'a tie at 500 free: this node first');
  t.equal(ids(tied, 175, 'media-1'), 'r-a', 'a tie and this node not among them: the lowest node id');
  t.equal(ids(tied, 500, 'r-c'), 'r-c', 'free exactly the cost fits');
});

t.test('only live recorder nodes reporting a recorder load are candidates', async (t) => {
  const nodes = [
    node('media-1', { capacity: 9000, used: 0 }, ['media']),
    node('no-plugin', undefined, ['recorder']),
    node('recorder-1', { capacity: 400, used: 100 }, ['recorder']),
  ];
  t.equal(ids(nodes, 175, 'media-1'), 'recorder-1', 'a media-only node is never chosen, however free; nor one whose plugin reports nothing');
});

t.test('none has room: InvalidOperation at once, saying the cluster is full and how close it came', async (t) => {
  const full = [node('r-a', { capacity: 400, used: 350 }), node('r-b', { capacity: 400, used: 300 }), node('media-1', { capacity: 9000, used: 0 }, ['media'])];
  t.throws(() => pickRecorderNode(full, 175, 'r-a'), {
    code: RecordingErrorCode.InvalidOperation,
    message: /^the cluster is full: no recorder node has 175 units free for this recording \(the most free: r-b, 100 of 400; 2 recorder nodes\)/,
  });
  const overbooked = [node('r-a', { capacity: 400, used: 500 })];
  t.throws(() => pickRecorderNode(overbooked, 10, 'r-a'), { code: RecordingErrorCode.InvalidOperation, message: /the most free: r-a, 0 of 400; 1 recorder node\)/ }, 'an overbooked node shows 0 free');
  t.throws(() => pickRecorderNode([node('media-1', { capacity: 9000, used: 0 }, ['media'])], 175, 'media-1'), {
    code: RecordingErrorCode.InvalidOperation,
    message: /^the cluster is full: no live node has the recorder role/,
  });
  t.throws(() => pickRecorderNode([], 175, 'x'), { code: RecordingErrorCode.InvalidOperation, message: /cluster is full/ }, 'an empty list too');
  t.throws(() => pickRecorderNode(full, 0, 'r-a'), { name: 'TypeError' }, 'a cost must be positive');
});

const redis = privateRedis(t);
if (redis) {
  t.test('over Redis: the nodes heartbeat their recorder load (setRecorderLoad) and placement reads it from the registry', async (t) => {
    const keys = testKeys();
    const loads: Record<string, RecorderLoad> = { 'node-a': { capacity: 800, used: 700 }, 'node-b': { capacity: 800, used: 200 } };
    const [a, b, media] = await Promise.all([
      startTestNode({ url: redis.url, keys, nodeId: 'node-a', roles: ['recorder'] }),
      startTestNode({ url: redis.url, keys, nodeId: 'node-b', roles: ['media', 'recorder'] }),
      startTestNode({ url: redis.url, keys, nodeId: 'node-m', roles: ['media'] }),
    ]);
    t.teardown(() => Promise.all([a.close(), b.close(), media.close()]));
    a.member.setRecorderLoad(() => loads['node-a']!);
    b.member.setRecorderLoad(() => loads['node-b']!);
    media.member.setRecorderLoad(() => ({ capacity: 0, used: 0 }));
    await Promise.all([a, b, media].map((each) => each.registry.heartbeat()));

    const listed = await media.registry.list();
    t.same(listed.find((each) => each.nodeId === 'node-a')?.load.recorder, { capacity: 800, used: 700 }, 'the heartbeat carries load.recorder');
    t.same(listed.find((each) => each.nodeId === 'node-a')?.roles, ['recorder'], 'and the roles');

    const placement = new RecorderPlacement(clusterHandle(media.member));
    t.equal((await placement.choose(175)).nodeId, 'node-b', 'from the media node: node-b has 600 free');
    loads['node-b'] = { capacity: 800, used: 750 };
    await b.registry.heartbeat();
    await t.rejects(placement.choose(175), { code: RecordingErrorCode.InvalidOperation, message: /the cluster is full.*the most free: node-a, 100 of 800/ }, 'both nearly full: refused');
    t.equal((await placement.choose(100)).nodeId, 'node-a', 'a smaller recording still fits on node-a');
  });
}
