import t from 'tap';
import { ClusterEvents } from '../../server/cluster/ClusterEvents';
import { SignalingErrorCode } from '../../signaling/errors';
import { startTestNode, testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return condition();
}

/** How long the call took to fail, and with which code. */
async function failure(call: () => Promise<unknown>): Promise<{ code: unknown; ms: number }> {
  const start = Date.now();
  try {
    await call();
  } catch (error) {
    return { code: (error as { code?: unknown }).code, ms: Date.now() - start };
  }
  return { code: 'RESOLVED', ms: Date.now() - start };
}

const redis = privateRedis(t);
if (redis) {
  t.test('Redis stopped for 3 s: calls fail fast with CLUSTER_UNAVAILABLE, down/up fire, owned channels stay, the cluster re-forms by itself', async (t) => {
    const keys = testKeys();
    const a = await startTestNode({ url: redis.url, keys, nodeId: 'node-a', nodeTimeoutMs: 1000, leaseMs: 1500 });
    const b = await startTestNode({ url: redis.url, keys, nodeId: 'node-b', nodeTimeoutMs: 1000, leaseMs: 1500 });
    t.teardown(() => Promise.all([a.close(), b.close()]));
    const events = new ClusterEvents({ connection: a.connection, keys });
    t.match(await a.leases.claim('served'), { ours: true });

    const states: string[] = [];
    a.connection.on('down', () => states.push('down'));
    a.connection.on('up', () => states.push('up'));
    const downs: string[] = [];
    a.registry.on('nodeDown', (nodeId) => downs.push(nodeId));
    b.registry.on('nodeDown', (nodeId) => downs.push(nodeId));

    await redis.stop();
    t.ok(await until(() => states.includes('down'), 3000), 'down fired');
    t.notOk(a.connection.isUp);
    for (const [name, call] of [
      ['claim', () => a.leases.claim('new-while-down')],
      ['placement', () => b.leases.placement('new-while-down')],
      ['list', () => a.registry.list()],
      ['publish', () => events.publish({ recordingId: 'r', seq: 1 })],
    ] as const) {
      const { code, ms } = await failure(call);
      t.equal(code, SignalingErrorCode.ClusterUnavailable, `${name} fails with CLUSTER_UNAVAILABLE`);
      t.ok(ms < 500, `${name} fails fast (${ms} ms)`);
    }
    await a.leases.renew();
    await a.registry.heartbeat();
    t.ok(a.leases.owned.has('served'), 'the owned channel is still served while Redis is away');

    await sleep(3000);
    await redis.start();
    t.ok(await until(() => states.includes('up') && b.connection.isUp, 5000), 'up fired');
    t.same(states, ['down', 'up'], 'one down and one up for the outage');

    // Redis came back empty: the nodes re-register and the owner re-asserts its lease by themselves.
    t.ok(
      await until(async () => (await b.registry.list()).map((node) => node.nodeId).join() === 'node-a,node-b', 3000),
      'both nodes are listed again',
    );
    t.ok(await until(async () => (await b.leases.lookup('served'))?.owner === 'node-a', 2000), "node-a's lease on its channel is back");
    t.match(await b.leases.claim('served'), { owner: 'node-a', ours: false }, 'so nobody else can create that channel');
    t.match(await b.leases.claim('new-after'), { owner: 'node-b', ours: true }, 'new channels are placed again');
    // Past the registry's grace after Redis returned (nodeTimeoutMs + reconnect backoff + a heartbeat).
    await sleep(2500);
    t.same(downs, [], 'no node was reported down for the outage');
  });

  t.test('a Redis that hangs (SIGSTOP): calls end within the command deadline with CLUSTER_UNAVAILABLE', async (t) => {
    const keys = testKeys();
    const a = await startTestNode({ url: redis.url, keys, nodeId: 'node-a' });
    t.teardown(async () => {
      redis.thaw();
      await a.close();
    });
    redis.freeze();
    const { code, ms } = await failure(() => a.leases.claim('hung'));
    redis.thaw();
    t.equal(code, SignalingErrorCode.ClusterUnavailable);
    t.ok(ms < 3000, `failed after ${ms} ms, not hanging`);
    t.match(await a.leases.claim('after-thaw'), { ours: true }, 'works again once Redis answers');
  });
}
