import t from 'tap';
import Redis from 'ioredis';
import { ClusterEventConsumer } from '../../server/cluster/ClusterEventConsumer';
import { ClusterEvent, ClusterEvents } from '../../server/cluster/ClusterEvents';
import { RedisConnection } from '../../server/cluster/RedisConnection';
import { testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
  return condition();
}

const redis = privateRedis(t);
if (redis) {
  t.test('2 consumers on different connections each receive all 50 events exactly once, in order, across a reconnect', async (t) => {
    const keys = testKeys();
    const admin = new Redis(redis.url);
    t.teardown(() => admin.quit());
    const connections = ['publisher', 'consumer-1', 'consumer-2'].map((name) => new RedisConnection({ url: redis.url, name: `${keys.prefix}-${name}` }));
    t.teardown(() => Promise.all(connections.map((connection) => connection.close())));
    await Promise.all(connections.map((connection) => connection.waitUp(5000)));
    const [publisherConnection, firstConnection, secondConnection] = connections as [RedisConnection, RedisConnection, RedisConnection];
    const events = new ClusterEvents({ connection: publisherConnection, keys });

    // Events from before the consumers started are not theirs.
    await events.publish({ recordingId: 'rec-old', seq: 1 });
    const consumers = [firstConnection, secondConnection].map((connection) => new ClusterEventConsumer({ connection, keys, blockMs: 500 }));
    t.teardown(() => Promise.all(consumers.map((consumer) => consumer.close())));
    const received: ClusterEvent[][] = [[], []];
    consumers.forEach((consumer, index) => consumer.on('event', (event) => received[index]!.push(event)));
    await Promise.all(consumers.map((consumer) => consumer.start()));

    const published: ClusterEvent[] = [];
    const seqs = new Map<string, number>();
    const publish = async (index: number): Promise<void> => {
      const recordingId = `rec-${index % 3}`;
      const seq = (seqs.get(recordingId) ?? 0) + 1;
      seqs.set(recordingId, seq);
      const event = { recordingId, seq, type: 'onRecordingStateChanged', index };
      published.push(event);
      await events.publish(event);
    };
    for (let index = 0; index < 20; index++) await publish(index);

    // Cut the second consumer's connection (as a network blip would) and publish while it reconnects.
    const states: string[] = [];
    secondConnection.on('down', () => states.push('down'));
    secondConnection.on('up', () => states.push('up'));
    const clients = (await admin.call('CLIENT', 'LIST')) as string;
    const line = clients.split('\n').find((entry) => entry.includes(`name=${keys.prefix}-consumer-2 `));
    t.ok(line, 'the consumer connection is in CLIENT LIST under its name');
    const clientId = /\bid=(\d+)/.exec(line ?? '')?.[1];
    t.equal(await admin.call('CLIENT', 'KILL', 'ID', clientId ?? '0'), 1);
    t.ok(await until(() => states.includes('down'), 2000), 'the consumer saw its connection drop');
    await publish(20);
    t.notOk(states.includes('up'), 'an event was published while it was reconnecting');
    for (let index = 21; index < 35; index++) await publish(index);
    for (let index = 35; index < 50; index++) await publish(index);
    t.ok(await until(() => states.includes('up'), 5000), 'it reconnected');

    // A publisher that retried an XADD whose answer it lost: the repeat is not delivered again.
    await events.publish(published[10]!);

    t.ok(await until(() => received.every((list) => list.length >= 50), 5000), 'both consumers got 50');
    await sleep(700);
    for (const [index, list] of received.entries()) {
      t.equal(list.length, 50, `consumer ${index + 1}: 50 events, no repeats`);
      t.same(list, published, `consumer ${index + 1}: every event in publishing order`);
    }
    t.match(consumers[1]!.cursor, /^\d+-\d+$/);
  });

  t.test('a consumer resumes from a saved cursor; bad events and calls after close', async (t) => {
    const keys = testKeys();
    const connection = new RedisConnection({ url: redis.url });
    const readConnection = new RedisConnection({ url: redis.url });
    t.teardown(() => Promise.all([connection.close(), readConnection.close()]));
    await Promise.all([connection.waitUp(5000), readConnection.waitUp(5000)]);
    const events = new ClusterEvents({ connection, keys });
    const first = await events.publish({ recordingId: 'r', seq: 1 });
    await events.publish({ recordingId: 'r', seq: 2 });
    const consumer = new ClusterEventConsumer({ connection: readConnection, keys, after: first, blockMs: 300 });
    const seen: number[] = [];
    consumer.on('event', (event) => seen.push(event.seq));
    await consumer.start();
    // Entries written by something else are skipped, the stream goes on.
    await connection.client.xadd(keys.events, '*', 'event', 'not json');
    await connection.client.xadd(keys.events, '*', 'other', '{}');
    await events.publish({ recordingId: 'r', seq: 3 });
    t.ok(await until(() => seen.length === 2, 3000));
    await sleep(400);
    t.same(seen, [2, 3], 'everything after the cursor, nothing before, nothing unreadable');
    await t.rejects(events.publish({ recordingId: 'r' } as unknown as ClusterEvent), { name: 'TypeError' });
    await consumer.close();
    await consumer.close();
    await t.rejects(consumer.start(), { name: 'InvalidStateError' });
  });
}
