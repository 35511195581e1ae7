/**
 * RecordingDirectory and ClusterEventPublisher on a real redis-server: a publish lands in the stream
 * and the recording's entry once per (recordingId, seq); a dead node's active recordings are declared
 * failed by exactly one of the nodes racing to do it, with one fatalError each — or, with a spec,
 * made orphans that exactly one of three racing recorders claims (a stale segment's publish refused
 * after), an unclaimed one failed once; events appended while Redis is away reach the stream in
 * order and once when it is back.
 */
import t from 'tap';
import { ClusterEventPublisher } from '../../plugin/recording/cluster/ClusterEventPublisher';
import { PublishedEvent, RecordingDirectory } from '../../plugin/recording/cluster/RecordingDirectory';
import { RecordingEventEntry, RecordingEventLog } from '../../plugin/recording/RecordingEventLog';
import type { RecordingView } from '../../plugin/recording/recordingView';
import type { ClusterKeys } from '../../server/cluster/ClusterKeys';
import { RedisConnection } from '../../server/cluster/RedisConnection';
import type { ClusterHandle } from '../../server/plugins/contract';
import { RecordingErrorCode } from '../../signaling/errors';
import { testKeys } from '../support/clusterNode';
import { privateRedis } from '../support/redisServer';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const RETAIN_FINISHED_MS = 400;

type Phase = RecordingView['phase'];

/** The part of a node the directory uses, on a connection of its own (no membership, no heartbeat). */
async function nodeHandle(t: { teardown(fn: () => unknown): void }, url: string, keys: ClusterKeys, nodeId: string): Promise<ClusterHandle> {
  const connection = new RedisConnection({ url, name: `${keys.prefix}-${nodeId}`, maxReconnectDelayMs: 300 });
  t.teardown(() => connection.close());
  await connection.waitUp(5000);
  return {
    nodeId,
    rtpAddress: '127.0.0.1',
    connection,
    keyPrefix: keys.prefix,
    eventStreamKey: keys.events,
    liveNodes: async () => [],
    onNodeDown: () => undefined,
    consumeEvents: () => Promise.reject(new Error('not used here')),
    channelOwner: async () => undefined,
    roles: ['media', 'recorder'],
    setRecorderLoad: () => undefined,
    heartbeat: async () => undefined,
  };
}

function view(recordingId: string, phase: Phase, lastSeq: number, channelId = `ch-${recordingId}`): RecordingView {
  return {
    recordingId,
    channelId,
    phase,
    mode: 'composite',
    startedAt: '2026-01-01T00:00:00.000Z',
    startedBy: 'backend',
    participants: ['alice'],
    files: [],
    uploads: [],
    lastSeq,
  };
}

function event(recordingId: string, seq: number, type: 'connecting' | 'started' | 'stopped' = 'started'): RecordingEventEntry {
  return { type, recordingId, channelId: `ch-${recordingId}`, seq, at: new Date().toISOString() };
}

/** Every event the stream holds, oldest first. */
async function streamEvents(handle: ClusterHandle): Promise<PublishedEvent[]> {
  const entries = await handle.connection.client.xrange(handle.eventStreamKey, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as PublishedEvent);
}

/** Runs the recording to `phase` with events 1 … lastSeq, as its owner would publish them. */
async function record(directory: RecordingDirectory, recordingId: string, lastSeq: number, phase: Phase): Promise<void> {
  for (let seq = 1; seq <= lastSeq; seq++) {
    const current = seq === lastSeq ? phase : seq === 1 ? 'starting' : 'running';
    await directory.publish(event(recordingId, seq, seq === 1 ? 'connecting' : current === 'stopped' ? 'stopped' : 'started'), view(recordingId, current, seq));
  }
}

const redis = privateRedis(t);
if (redis) {
  t.test('publish: one stream entry per (recordingId, seq), a repeat or an older seq dropped; get() and list() read it back; finished entries expire', async (t) => {
    const keys = testKeys();
    const handle = await nodeHandle(t, redis.url, keys, 'node-a');
    const directory = new RecordingDirectory(handle, { retainFinishedMs: RETAIN_FINISHED_MS });

    t.equal(await directory.publish(event('rec-1', 1, 'connecting'), view('rec-1', 'starting', 1)), 'published', 'seq 1 published');
    t.equal(await directory.publish(event('rec-1', 1, 'connecting'), view('rec-1', 'starting', 1)), 'repeat', 'seq 1 again: a repeat');
    t.equal(await directory.publish(event('rec-1', 2), view('rec-1', 'running', 2)), 'published', 'seq 2 published');
    t.equal(await directory.publish(event('rec-1', 1, 'connecting'), view('rec-1', 'starting', 1)), 'repeat', 'seq 1 after seq 2: older, a repeat');
    t.equal(await directory.publish(event('rec-1', 2), view('rec-1', 'running', 2)), 'repeat', 'seq 2 again: a repeat');

    const stream = await streamEvents(handle);
    t.same(
      stream.map((entry) => [entry.recordingId, entry.seq, entry.type, entry.nodeId]),
      [
        ['rec-1', 1, 'connecting', 'node-a'],
        ['rec-1', 2, 'started', 'node-a'],
      ],
      'the stream holds seq 1 and seq 2 once each, in order, with the publishing node',
    );

    const entry = await directory.get('rec-1');
    t.match(entry, { recordingId: 'rec-1', nodeId: 'node-a', channelId: 'ch-rec-1', phase: 'running', lastSeq: 2, lost: false }, 'get(): the last publish wins, an older one changed nothing');
    t.match(entry?.view, { recordingId: 'rec-1', phase: 'running', lastSeq: 2, nodeId: 'node-a', startedBy: 'backend', participants: ['alice'] }, 'its view, with the node');
    t.notOk(entry?.view.nodeLost, 'not lost');
    t.equal(await directory.get('rec-none'), undefined, 'an unknown recording: undefined');

    // A finished recording is kept retainFinishedMs, then forgotten by list() too.
    await record(directory, 'rec-2', 3, 'stopped');
    const ttl = await handle.connection.client.pttl(`${keys.prefix}:rec:rec-2`);
    t.ok(ttl > 0 && ttl <= RETAIN_FINISHED_MS, `the finished entry expires in ${ttl} ms`);
    t.equal(await handle.connection.client.pttl(`${keys.prefix}:rec:rec-1`), -1, 'a running one does not expire');
    t.same((await directory.list()).map((listed) => [listed.recordingId, listed.phase, listed.lastSeq]), [['rec-1', 'running', 2], ['rec-2', 'stopped', 3]], 'list(): both');
    await sleep(RETAIN_FINISHED_MS + 200);
    t.equal(await directory.get('rec-2'), undefined, 'the finished entry is gone');
    t.same((await directory.list()).map((listed) => listed.recordingId), ['rec-1'], 'list(): only the running one');
    t.equal(await handle.connection.client.zscore(`${keys.prefix}:recs`, 'rec-2'), null, 'and the index forgot the expired one');
  });

  t.test("failNode from 3 connections at once: one call declares the dead node's active recordings failed, once each", async (t) => {
    const keys = testKeys();
    const dead = new RecordingDirectory(await nodeHandle(t, redis.url, keys, 'node-dead'), { retainFinishedMs: 60_000 });
    const live = new RecordingDirectory(await nodeHandle(t, redis.url, keys, 'node-live'), { retainFinishedMs: 60_000 });
    await record(dead, 'rec-running', 2, 'running');
    await record(dead, 'rec-stopping', 4, 'stopping');
    await record(dead, 'rec-done', 3, 'stopped');
    await record(live, 'rec-other', 2, 'running');
    const reader = await nodeHandle(t, redis.url, keys, 'reader');
    const before = (await streamEvents(reader)).length;

    const racers = await Promise.all(['node-x', 'node-y', 'node-z'].map(async (nodeId) => new RecordingDirectory(await nodeHandle(t, redis.url, keys, nodeId), { retainFinishedMs: 60_000 })));
    const answers = await Promise.all(racers.map((racer) => racer.failNode('node-dead', { takeover: true })));
    const winners = answers.filter((events) => events.length > 0);
    t.equal(winners.length, 1, `exactly one call declared them (${answers.map((events) => events.length).join(',')} events)`);
    const declared = [...(winners[0] ?? [])].sort((a, b) => a.recordingId.localeCompare(b.recordingId));
    t.same(
      declared.map((entry) => [entry.type, entry.recordingId, entry.seq, entry.nodeId, entry.channelId, (entry as { code?: string }).code]),
      [
        ['fatalError', 'rec-running', 3, 'node-dead', 'ch-rec-running', RecordingErrorCode.RecorderFailed],
        ['fatalError', 'rec-stopping', 5, 'node-dead', 'ch-rec-stopping', RecordingErrorCode.RecorderFailed],
      ],
      'one fatalError per active recording of the dead node, numbered lastSeq + 1 under its node',
    );

    for (const [recordingId, seq] of [['rec-running', 3], ['rec-stopping', 5]] as const) {
      const entry = await dead.get(recordingId);
      t.match(entry, { nodeId: 'node-dead', phase: 'failed', lost: true, lastSeq: seq }, `${recordingId}: failed, lost, lastSeq ${seq}`);
      t.match(entry?.view, { phase: 'failed', nodeLost: true, lastSeq: seq }, `${recordingId}: its view says nodeLost`);
      t.same(entry?.lostEvent, declared.find((event) => event.recordingId === recordingId), `${recordingId}: the entry keeps the fatalError published`);
    }
    t.match(await dead.get('rec-done'), { phase: 'stopped', lost: false, lastSeq: 3 }, 'its already stopped recording: untouched');
    t.match(await live.get('rec-other'), { nodeId: 'node-live', phase: 'running', lost: false, lastSeq: 2 }, "another node's recording: untouched");

    const added = (await streamEvents(reader)).slice(before);
    t.same(
      added.map((entry) => [entry.type, entry.recordingId, entry.seq, entry.nodeId]).sort(),
      [
        ['fatalError', 'rec-running', 3, 'node-dead'],
        ['fatalError', 'rec-stopping', 5, 'node-dead'],
      ],
      'the stream got exactly one fatalError per recording, nothing else',
    );
    t.same((await racers[0]!.failNode('node-dead', { takeover: true })).length, 0, 'a later call declares nothing more');
    t.equal((await streamEvents(reader)).length, before + 2, '… and publishes nothing');

    const lost = (await racers[1]!.lostEventsOf('node-dead')).sort((a, b) => a.recordingId.localeCompare(b.recordingId));
    t.same(lost, declared, 'lostEventsOf(dead): the fatalErrors published for it');
    t.same(await racers[1]!.lostEventsOf('node-live'), [], 'none for the live node');

    // The dead node is back: its recovery numbers on after the fatalError and finishes the recording.
    t.equal(await dead.publish({ type: 'uploaded', recordingId: 'rec-running', channelId: 'ch-rec-running', fileName: 'f.mp4', seq: 3, at: new Date().toISOString() }, view('rec-running', 'failed', 3)), 'repeat', "the recovered node's event numbered as the fatalError: dropped");
    t.equal(await dead.publish({ type: 'uploaded', recordingId: 'rec-running', channelId: 'ch-rec-running', fileName: 'f.mp4', seq: 4, at: new Date().toISOString() }, view('rec-running', 'failed', 4)), 'published', 'its next event is published');
    t.match(await dead.get('rec-running'), { phase: 'failed', lastSeq: 4 }, 'the entry follows it');
    t.same((await dead.lostEventsOf('node-dead')).map((entry) => entry.recordingId), ['rec-stopping'], 'the finished recording left the active set; the other is still there');
    t.same(await racers[2]!.failNode('node-dead', { takeover: true }), [], 'the node dying again declares nothing twice');
  });

  t.test("takeover: a dead node's running recordings with a spec become orphans; of 3 racing recorders one claims each, the dead node's later publishes are refused; an unclaimed orphan fails once", async (t) => {
    const keys = testKeys();
    const dead = new RecordingDirectory(await nodeHandle(t, redis.url, keys, 'node-dead'), { retainFinishedMs: 60_000 });
    const sealed = (recordingId: string): string => `s1.${recordingId}.sealed-spec`;
    for (const recordingId of ['rec-claimed', 'rec-unclaimed']) {
      for (let seq = 1; seq <= 2; seq++) {
        await dead.publish(event(recordingId, seq, seq === 1 ? 'connecting' : 'started'), view(recordingId, seq === 1 ? 'starting' : 'running', seq), seq === 2 ? { spec: sealed(recordingId) } : {});
      }
    }
    await record(dead, 'rec-nospec', 2, 'running');
    const reader = await nodeHandle(t, redis.url, keys, 'reader');
    const before = (await streamEvents(reader)).length;
    const racers = await Promise.all(['node-x', 'node-y', 'node-z'].map(async (nodeId) => new RecordingDirectory(await nodeHandle(t, redis.url, keys, nodeId), { retainFinishedMs: 60_000 })));

    const declared = (await Promise.all(racers.map((racer) => racer.failNode('node-dead', { takeover: true })))).flat();
    t.same(declared.map((entry) => entry.recordingId), ['rec-nospec'], 'only the recording without a spec is declared failed');
    t.same((await racers[0]!.orphansOf('node-dead')).map((entry) => [entry.recordingId, entry.orphaned, entry.phase]).sort(), [['rec-claimed', 'node-dead', 'running'], ['rec-unclaimed', 'node-dead', 'running']], 'the two with a spec are orphans of the dead node, still running');
    t.equal(await racers[0]!.claimable('rec-claimed'), sealed('rec-claimed'), 'an orphan offers its sealed spec');

    const claims = await Promise.all(racers.map((racer) => racer.claim('rec-claimed', 'node-dead')));
    const won = claims.flatMap((claim, index) => (claim ? [{ claim, index }] : []));
    t.equal(won.length, 1, 'exactly one racer claimed it');
    const winner = racers[won[0]!.index]!;
    t.match(won[0]!.claim, { segment: 1, lastSeq: 2, spec: sealed('rec-claimed'), view: { recordingId: 'rec-claimed', startedAt: '2026-01-01T00:00:00.000Z' } }, 'the claim: segment 1, numbering on after seq 2, the spec and the last view');
    const nodeIds = ['node-x', 'node-y', 'node-z'];
    t.match(await winner.get('rec-claimed'), { nodeId: nodeIds[won[0]!.index], segment: 1, phase: 'running' }, 'the entry names the claimer, segment 1');
    t.notOk((await winner.get('rec-claimed'))?.orphaned, 'no longer an orphan');
    t.equal(await racers[(won[0]!.index + 1) % 3]!.claim('rec-claimed', 'node-dead'), undefined, 'a later claim gets nothing');

    t.equal(
      await dead.publish(event('rec-claimed', 3, 'stopped'), view('rec-claimed', 'stopped', 3)),
      'superseded',
      'the dead node, back (or cut off and still recording), cannot publish into segment 0 any more',
    );
    t.equal(await winner.publish(event('rec-claimed', 3), view('rec-claimed', 'running', 3), { segment: 1, spec: sealed('rec-claimed') }), 'published', "the claimer's event numbered on (seq 3) is published");
    t.match(await winner.get('rec-claimed'), { lastSeq: 3, phase: 'running', nodeId: nodeIds[won[0]!.index] }, '… and the entry stays the claimer’s');
    t.equal(await racers[0]!.failOrphan('rec-claimed', 'node-dead', 'nobody'), undefined, 'a claimed orphan cannot be failed');

    const failed = await Promise.all([racers[0]!.failOrphan('rec-unclaimed', 'node-dead', 'no room'), racers[1]!.failOrphan('rec-unclaimed', 'node-dead', 'no room')]);
    const fatal = failed.filter((entry) => entry !== undefined);
    t.equal(fatal.length, 1, 'the unclaimed orphan is failed once by two racing nodes');
    t.match(fatal[0], { type: 'fatalError', recordingId: 'rec-unclaimed', seq: 3, nodeId: 'node-dead', code: RecordingErrorCode.RecorderFailed, message: /no room/ }, 'its fatalError, numbered lastSeq + 1');
    t.match(await racers[2]!.get('rec-unclaimed'), { phase: 'failed', lost: true }, 'failed and lost');
    t.equal(await racers[2]!.claim('rec-unclaimed', 'node-dead'), undefined, 'and it can no longer be claimed');
    t.equal(await racers[2]!.claimable('rec-unclaimed'), undefined, 'its spec is gone from Redis');
    t.same((await racers[2]!.lostEventsOf('node-dead')).map((entry) => entry.recordingId).sort(), ['rec-nospec', 'rec-unclaimed'], 'the dead node will take in the two fatalErrors when it is back, not the claimed one');
    t.same((await racers[2]!.orphansOf('node-dead')).length, 0, 'no orphans are left');

    const added = (await streamEvents(reader)).slice(before).map((entry) => [entry.type, entry.recordingId, entry.seq]).sort();
    t.same(added, [['fatalError', 'rec-nospec', 3], ['fatalError', 'rec-unclaimed', 3], ['started', 'rec-claimed', 3]], 'the stream: the two fatalErrors and the claimer’s event, nothing of the superseded publish');
    t.equal(await racers[0]!.publish(event('rec-claimed', 4, 'stopped'), view('rec-claimed', 'stopped', 4), { segment: 1 }), 'published', 'the claimer stops it');
    t.equal(await racers[0]!.claimable('rec-claimed'), undefined, 'a finished recording keeps no spec in Redis');
  });

  t.test('ClusterEventPublisher: events appended while Redis is down reach the stream in seq order, once each, when it is back', async (t) => {
    const keys = testKeys();
    const handle = await nodeHandle(t, redis.url, keys, 'node-a');
    const directory = new RecordingDirectory(handle, { retainFinishedMs: 60_000 });
    const log = new RecordingEventLog();
    const phases = new Map<string, Phase>();
    const publisher = new ClusterEventPublisher(directory, log, (entry) => {
      const phase = entry.type === 'connecting' ? 'starting' : entry.type === 'stopped' ? 'stopped' : 'running';
      phases.set(entry.recordingId, phase);
      return { view: view(entry.recordingId, phase, entry.seq) };
    });
    t.teardown(() => publisher.close());

    await redis.stop();
    const appended: RecordingEventEntry[] = [];
    const append = (recordingId: string, type: 'connecting' | 'started' | 'recorderFailure' | 'stopped'): void => {
      const body = type === 'recorderFailure'
        ? { type, recordingId, channelId: `ch-${recordingId}`, code: RecordingErrorCode.RecorderFailed, message: 'x' }
        : { type, recordingId, channelId: `ch-${recordingId}` };
      appended.push(log.append(body)!);
    };
    for (const recordingId of ['rec-a', 'rec-b']) append(recordingId, 'connecting');
    for (let round = 0; round < 10; round++) append(round % 3 === 0 ? 'rec-b' : 'rec-a', round < 2 ? 'started' : 'recorderFailure');
    append('rec-a', 'stopped');
    await sleep(1200); // a few failed attempts, retried
    t.equal(publisher.pending, appended.length, `all ${appended.length} events wait for Redis`);
    let idle = false;
    void publisher.idle().then(() => (idle = true));
    t.notOk(idle, 'not idle while they wait');

    await redis.start();
    // Appended once Redis is back, while the backlog may still drain: behind it.
    append('rec-b', 'stopped');
    const settled = await Promise.race([publisher.idle().then(() => true), sleep(10_000).then(() => false)]);
    t.ok(settled, 'idle() resolved once Redis was back');
    t.equal(publisher.pending, 0, 'nothing waits');
    await sleep(100);
    t.ok(idle, 'and the idle() asked for while Redis was away resolved too');

    const stream = await streamEvents(handle);
    t.same(
      stream.map(({ recordingId, seq, type }) => ({ recordingId, seq, type })),
      appended.map(({ recordingId, seq, type }) => ({ recordingId, seq, type })),
      `the stream: all ${appended.length} events, once each, in the order the log numbered them`,
    );
    t.ok(stream.every((entry) => entry.nodeId === 'node-a'), 'under the node');
    t.match(await directory.get('rec-a'), { phase: 'stopped', lastSeq: log.lastSeq('rec-a') }, 'the directory has rec-a at its last event');
    t.match(await directory.get('rec-b'), { phase: 'stopped', lastSeq: log.lastSeq('rec-b') }, '… and rec-b');
  });

  t.test('ClusterEventPublisher: a publish whose answer was lost (Redis hung) is retried and lands once', async (t) => {
    const keys = testKeys();
    const handle = await nodeHandle(t, redis.url, keys, 'node-a');
    const directory = new RecordingDirectory(handle, { retainFinishedMs: 60_000 });
    const log = new RecordingEventLog();
    const publisher = new ClusterEventPublisher(directory, log, (entry) => ({ view: view(entry.recordingId, entry.type === 'connecting' ? 'starting' : 'running', entry.seq) }));
    t.teardown(() => {
      redis.thaw();
      publisher.close();
    });

    const evalCalls = async (): Promise<number> => Number(/cmdstat_eval:calls=(\d+)/.exec(await handle.connection.client.info('commandstats'))?.[1] ?? 0);
    const callsBefore = await evalCalls();
    redis.freeze();
    const appended = [log.append({ type: 'connecting', recordingId: 'rec-h', channelId: 'ch-h' })!, log.append({ type: 'started', recordingId: 'rec-h', channelId: 'ch-h' })!];
    // Past the command deadline (2 s): the first publish timed out unanswered, its retries wait in Redis' socket.
    await sleep(3000);
    t.equal(publisher.pending, 2, 'both wait');
    redis.thaw();
    const settled = await Promise.race([publisher.idle().then(() => true), sleep(10_000).then(() => false)]);
    t.ok(settled, 'idle() resolved once Redis answered again');
    const calls = (await evalCalls()) - callsBefore;
    t.ok(calls > appended.length, `Redis ran the publish script ${calls} times for ${appended.length} events: a timed-out one was retried`);
    const stream = await streamEvents(handle);
    t.same(stream.map((entry) => entry.seq), appended.map((entry) => entry.seq), `the stream has seq ${appended.map((entry) => entry.seq).join(',')} once each`);
  });
}
