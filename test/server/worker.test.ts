import t from 'tap';
import { startTestServer } from '../support/server';

t.test('a dead worker closes its channels with a reason, is replaced, and new joins succeed', async (t) => {
  const env = await startTestServer({ overrides: { mediasoup: { numWorkers: 2 } } });
  t.teardown(() => env.close());
  const pool = env.server.pool;
  t.equal(pool.workers.length, 2, 'two workers as configured');

  const a = await env.join('on-first', 'a');
  const b = await env.join('on-second', 'b');
  const victim = env.server.registry.find('on-first')!;
  // The channel's router lives on one worker; find it by asking each worker for its routers.
  let pid: number | undefined;
  for (const worker of pool.workers) {
    const dump = await worker.dump();
    if ((dump as any).routerIds.includes(victim.router.id)) pid = worker.pid;
  }
  t.ok(pid, 'found the worker carrying the channel');

  const closed = a.client.waitFor('channelClosed');
  const replaced = new Promise((resolve) => pool.once('workerReplaced', resolve));
  process.kill(pid!, 'SIGKILL');
  const notice = await closed;
  t.match(notice.reason, /worker.*died/, 'peers are told the worker died');
  t.equal(notice.code, 'CHANNEL_CLOSED', 'with a code');
  await replaced;
  t.equal(pool.workers.length, 2, 'the pool is back to two workers');

  // The other channel, on the other worker, is untouched.
  const answer = await b.client.request('getChannelProperties');
  t.equal(answer.properties.recordState, 'None', 'the other channel still answers');

  // The disconnected peer can join again, on a live worker.
  const rejoined = await a.client.request('join', { channelId: 'on-first', displayName: 'a', token: env.token({ channelId: 'on-first', uid: 'a' }) });
  t.equal(rejoined.channel.id, 'on-first', 'joining again after the crash works');
  t.ok(process.pid, 'the server process is still alive');
});
