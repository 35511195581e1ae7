import os from 'node:os';
import t from 'tap';
import { ClusterMember, ClusterMemberOptions } from '../../server/cluster/ClusterMember';
import { RedisConnection } from '../../server/cluster/RedisConnection';
import { maskSecrets } from '../../server/logger';
import { SignalingErrorCode } from '../../signaling/errors';
import { testKeys } from '../support/clusterNode';
import { RedisTestServer, redisServerMissing, startRedisServer } from '../support/redisServer';
import { freePort } from '../support/freePort';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function memberOptions(redisUrl: string, nodeId: string, keyPrefix: string): ClusterMemberOptions {
  return {
    cluster: { redisUrl, nodeId, publicUrl: `http://127.0.0.1:8080/`, rtpAddress: '', nodeTimeoutMs: 1000, leaseMs: 1500 },
    stateDir: os.tmpdir(),
    defaultRtpAddress: '127.0.0.2',
    load: () => ({ channels: 0, peers: 0, producers: 0, recordings: 0 }),
    keyPrefix,
  };
}

t.test('RedisConnection to a Redis that is not there: down, waitUp and commands fail at once with CLUSTER_UNAVAILABLE', async (t) => {
  t.throws(() => new RedisConnection({ url: 'http://x' }), { name: 'TypeError', message: /url/ });
  const connection = new RedisConnection({ url: `redis://127.0.0.1:${await freePort()}` });
  const downs: string[] = [];
  connection.on('down', (reason) => downs.push(reason));
  await t.rejects(connection.waitUp(300), { code: SignalingErrorCode.ClusterUnavailable });
  t.equal(downs.length, 1, 'down once, however many reconnect attempts fail');
  const start = Date.now();
  await t.rejects(connection.run((redis) => redis.get('x')), { code: SignalingErrorCode.ClusterUnavailable });
  // Waiting would take the 2 s command deadline; well under it means it failed at once, loaded machine or not.
  t.ok(Date.now() - start < 1000, 'no waiting for a connection');
  await Promise.all([connection.close(), connection.close()]);
  await t.rejects(connection.run((redis) => redis.get('x')), { code: SignalingErrorCode.ClusterUnavailable, message: /closed/ });
});

t.test("Redis' password in cluster.redisUrl is masked in log lines", async (t) => {
  const connection = new RedisConnection({ url: `redis://:p%40ss-w0rd-7d1f@127.0.0.1:${await freePort()}/0` });
  t.teardown(() => connection.close());
  t.equal(maskSecrets('auth p@ss-w0rd-7d1f failed'), 'auth *** failed', 'the decoded password');
  t.notMatch(maskSecrets('url redis://:p%40ss-w0rd-7d1f@127.0.0.1/0'), /p%40ss-w0rd-7d1f/, 'the password as written in the URL');
});

const missing = redisServerMissing();
if (missing) {
  t.test('with Redis', { skip: missing }, async () => undefined);
} else {
  let redis: RedisTestServer;
  t.before(async () => {
    redis = await startRedisServer();
  });
  t.teardown(() => redis?.close());

  t.test('an error Redis answers is INTERNAL, not CLUSTER_UNAVAILABLE', async (t) => {
    const connection = new RedisConnection({ url: redis.url });
    t.teardown(() => connection.close());
    await connection.waitUp(5000);
    await t.rejects(connection.run((redis) => redis.call('NO-SUCH-COMMAND')), { code: SignalingErrorCode.Internal });
    t.equal(await connection.run((redis) => redis.ping()), 'PONG', 'the connection carries on');
  });

  t.test('ClusterMember validates its config section naming the field', async (t) => {
    const base = memberOptions(redis.url, 'node-a', testKeys().prefix);
    t.throws(() => new ClusterMember({ ...base, cluster: { ...base.cluster, redisUrl: '' } }), { name: 'TypeError', message: /cluster\.redisUrl/ });
    t.throws(() => new ClusterMember({ ...base, cluster: { ...base.cluster, publicUrl: 'node-a:8080' } }), { name: 'TypeError', message: /cluster\.publicUrl/ });
    t.throws(() => new ClusterMember({ ...base, cluster: { ...base.cluster, nodeTimeoutMs: 0 } }), { name: 'TypeError', message: /cluster\.nodeTimeoutMs/ });
    t.throws(() => new ClusterMember({ ...base, cluster: { ...base.cluster, leaseMs: 1.5 } }), { name: 'TypeError', message: /cluster\.leaseMs/ });
  });

  t.test('a member started while Redis is away fails its start with CLUSTER_UNAVAILABLE and registers by itself once Redis is there', async (t) => {
    const keys = testKeys();
    const observer = new ClusterMember(memberOptions(redis.url, 'observer', keys.prefix));
    t.teardown(() => observer.close());
    await observer.start();
    await redis.stop();
    const late = new ClusterMember(memberOptions(redis.url, 'late', keys.prefix));
    t.teardown(() => late.close());
    await t.rejects(late.start(300), { code: SignalingErrorCode.ClusterUnavailable });
    await sleep(500);
    await redis.start();
    let listed: string[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      listed = await observer.registry.list().then((nodes) => nodes.map((node) => `${node.nodeId}@${node.publicUrl}@${node.rtpAddress}`), () => []);
      if (listed.length === 2) break;
      await sleep(100);
    }
    t.same(listed, ['late@http://127.0.0.1:8080@127.0.0.2', 'observer@http://127.0.0.1:8080@127.0.0.2'], 'registered without another start(); rtpAddress defaults');
  });

  t.test('consumeEvents readers are closed with the member; close is idempotent and graceful', async (t) => {
    const keys = testKeys();
    const a = new ClusterMember(memberOptions(redis.url, 'node-a', keys.prefix));
    const b = new ClusterMember(memberOptions(redis.url, 'node-b', keys.prefix));
    t.teardown(() => b.close());
    await Promise.all([a.start(), b.start()]);
    const consumer = await a.consumeEvents({ blockMs: 200 });
    const seen: number[] = [];
    consumer.on('event', (event) => seen.push(event.seq));
    await b.events.publish({ recordingId: 'r', seq: 1 });
    const deadline = Date.now() + 3000;
    while (seen.length === 0 && Date.now() < deadline) await sleep(50);
    t.same(seen, [1], "node-a's reader got node-b's event");
    await a.leases.claim('channel-a');
    await Promise.all([a.close(), a.close()]);
    t.equal(await b.leases.lookup('channel-a'), undefined, 'leases released on a graceful close');
    t.same((await b.registry.list()).map((node) => node.nodeId), ['node-b'], 'left the registry');
  });
}
