import t from 'tap';
import WebSocket from 'ws';
import { publishTestMedia } from '../../scripts/publishRtp';
import { CodedError } from '../../signaling/errors';
import { MediaChannel, MediaChannelOptions, PropChangeParam } from '../../signaling/client/index';
import { buildLocalRecordParam } from '../../signaling/recordParam';
import type { WebSocketLike } from '../../signaling/SignalingClient';
import { RecordingTestServer, sleep, startRecordingServer, until } from '../support/recordingServer';

const webSocketFactory = (url: string): WebSocketLike => new WebSocket(url) as unknown as WebSocketLike;

function channelFor(env: RecordingTestServer, options: Partial<MediaChannelOptions> = {}): MediaChannel {
  return new MediaChannel({ serverUrl: env.url, webSocketFactory, ...options });
}

/** Resolves with the next event of that name satisfying `predicate`. */
function next<T extends unknown[]>(subscribe: (listener: (...args: T) => void) => () => void, predicate: (...args: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((...args) => {
      if (!predicate(...args)) return;
      off();
      resolve(args);
    });
  });
}

t.test('MediaChannel in Node: join with a record param, recordState, enableRecord, propertyChange', async (t) => {
  const env = await startRecordingServer({ overrides: { recording: { defaultStorage: 'none' } } });
  t.teardown(() => env.close());

  const watcher = channelFor(env);
  t.teardown(() => watcher.close());
  t.equal(watcher.connectionState, 'idle', 'idle before join');
  t.equal(watcher.recordState, 'None', 'None before join');
  await watcher.join('sdk-room', { token: env.token({ channelId: 'sdk-room', uid: 'watcher', privileges: { publish: true, record: false } }), displayName: 'Watcher' });
  t.equal(watcher.connectionState, 'connected', 'connected after join');
  t.equal(watcher.recordState, 'None', 'no record param and no default storage: None');
  t.same(watcher.privileges, { publish: true, record: false }, 'privileges from the token');

  const changes: PropChangeParam[] = [];
  watcher.on('propertyChange', (change) => changes.push(change));
  const peerJoined = next<[import('../../signaling/client/index').RemotePeer]>((listener) => watcher.on('peerJoined', listener));

  // Seed: joinParam.record.recordString = buildXxxRecordParam(...); mediaChannel.join(channelId, joinParam)
  const host = channelFor(env);
  t.teardown(() => host.close());
  await host.join('sdk-room', {
    token: env.token({ channelId: 'sdk-room', uid: 'host' }),
    displayName: 'Host',
    record: { recordString: buildLocalRecordParam(true, 'sdk/meeting.mp4') },
  });
  t.equal(host.recordState, 'Ready', 'a join with a record param: Ready');
  const [peer] = await peerJoined;
  t.equal(peer.uid, 'host', 'the watcher sees the host join');
  t.equal(watcher.peers.size, 1, 'one remote peer');
  t.equal(watcher.recordState, 'Ready', "the watcher's recordState followed");
  t.equal(changes[0]?.recordState, true, 'propertyChange says recordState changed (seed: changeParam.recordState)');

  // Seed: enableRecord decides from the current state.
  t.equal(await host.enableRecord(false, null), false, 'stop while Ready: false, nothing asked');
  await t.rejects(watcher.enableRecord(true, null), { code: 'FORBIDDEN', constructor: CodedError }, 'no record privilege: FORBIDDEN');
  await t.rejects(host.enableRecord(true, { recordString: 'rp1.garbage' }), { code: 'InvalidParameter' }, 'bad param: InvalidParameter');

  // A bot's plain RTP through the SDK's signaling connection, so the recording has a publisher.
  const media = await publishTestMedia({ client: host.signaling!, color: 0xff0000, frequency: 440 });
  t.teardown(() => media.stop());

  const running = next<[PropChangeParam]>((listener) => watcher.on('propertyChange', listener), () => watcher.recordState === 'Running');
  t.equal(await host.enableRecord(true, null), true, 'enableRecord(true) accepted');
  await running;
  t.equal(host.recordState, 'Running', 'Running');
  t.match(host.properties.recordingId, /^rec_/, 'the running recording id is a property');
  t.equal(await host.enableRecord(true, null), false, 'start while Running: false');

  await sleep(2000);
  const uploaded = next<[{ event: string; fileName?: string }]>((listener) => host.on('recordingEvent', listener), (event) => event.event === 'uploaded');
  t.equal(await host.enableRecord(false, null), true, 'enableRecord(false) accepted');
  t.equal(watcher.recordState, 'Ready', 'back to Ready');
  const [{ fileName }] = await uploaded;
  t.match(fileName, /^sdk\/meeting_\d{8}-\d{6}_[0-9a-f]{8}\.mp4$/, `recordingEvent uploaded names the file (${fileName})`);
  t.same(
    changes.filter((change) => change.recordState).map((change) => change.properties.recordState),
    ['Ready', 'Running', 'Ready'],
    'the watcher saw Ready → Running → Ready',
  );

  await host.leave();
  t.equal(host.connectionState, 'idle', 'idle after leave');
  t.equal(host.recordState, 'None', 'None after leave');
  await host.leave();
  t.pass('leave is idempotent');
});

t.test('MediaChannel errors are typed with the server codes', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const channel = channelFor(env);
  t.teardown(() => channel.close());

  await t.rejects(channel.enableRecord(true, null), { code: 'NOT_JOINED' }, 'enableRecord before join: NOT_JOINED');
  await t.rejects(channel.join('typed', { token: 'v1.garbage.garbage' }), { code: 'TOKEN_INVALID', constructor: CodedError }, 'bad token: TOKEN_INVALID');
  t.equal(channel.connectionState, 'idle', 'idle again after a refused join');
  await t.rejects(channel.join('typed', { token: env.token({ channelId: 'other', uid: 'x' }) }), { code: 'TOKEN_MISMATCH' }, "another channel's token: TOKEN_MISMATCH");
  await t.rejects(channel.join('typed', { token: env.token({ channelId: 'typed', uid: 'x', exp: 1 }) }), { code: 'TOKEN_EXPIRED' }, 'expired token: TOKEN_EXPIRED');
  t.throws(() => new MediaChannel({ serverUrl: 'http://nope' }), TypeError, 'serverUrl must be ws(s)');

  await channel.join('typed', { token: env.token({ channelId: 'typed', uid: 'x' }) });
  t.equal(channel.recordState, 'Ready', 'default local storage: Ready');
  await t.rejects(channel.join('typed', { token: env.token({ channelId: 'typed', uid: 'x' }) }), { code: 'ALREADY_JOINED' }, 'join twice: ALREADY_JOINED');
  await t.rejects(channel.publishCamera({ track: {} as MediaStreamTrack }), { code: 'BAD_REQUEST' }, 'publishing in Node: BAD_REQUEST with a hint');

  const unreachable = new MediaChannel({ serverUrl: 'ws://127.0.0.1:1/ws', webSocketFactory });
  await t.rejects(unreachable.join('typed', { token: 'x' }), { code: 'CONNECTION_CLOSED' }, 'no server: CONNECTION_CLOSED');
});

t.test('MediaChannel reconnects after the socket drops, and gives up when the server is gone', async (t) => {
  const env = await startRecordingServer();
  let serverClosed = false;
  t.teardown(() => (serverClosed ? undefined : env.close()));
  const alice = channelFor(env, { reconnect: { attempts: 3, initialDelayMs: 100, maxDelayMs: 200 } });
  t.teardown(() => alice.close());
  const bob = channelFor(env);
  t.teardown(() => bob.close());
  await alice.join('flaky', { token: env.token({ channelId: 'flaky', uid: 'alice' }) });
  await bob.join('flaky', { token: env.token({ channelId: 'flaky', uid: 'bob' }) });
  t.equal(alice.peers.size, 1, 'alice sees bob');

  const states: string[] = [];
  alice.on('connectionStateChange', (change) => states.push(change.state));
  const left: CodedError[] = [];
  alice.on('left', (error) => left.push(error));

  // A request in flight when the socket drops is rejected, not left hanging.
  const first = alice.signaling!;
  const pending = first.request('getChannelProperties');
  const back = next<[{ state: string }]>((listener) => alice.on('connectionStateChange', listener), (change) => change.state === 'connected');
  first.close();
  await t.rejects(pending, { code: 'CONNECTION_CLOSED' }, 'the pending request: CONNECTION_CLOSED');
  await back;
  t.same(states, ['reconnecting', 'connected'], 'reconnecting → connected');
  t.not(alice.signaling, first, 'a new connection');
  t.equal(alice.recordState, 'Ready', 'record state known again');
  t.same([...alice.peers.values()].map((peer) => peer.uid), ['bob'], 'bob is still there');
  const oneAlice = (): boolean => [...bob.peers.values()].map((peer) => peer.uid).join() === 'alice';
  t.ok(await until(oneAlice, 10_000) && oneAlice(), "bob sees exactly one alice (the server replaced alice's stale peer)");
  t.equal(await alice.enableRecord(true, null), true, 'the channel works after the reconnect');
  t.equal(await alice.enableRecord(false, null), true, 'and stops');

  serverClosed = true;
  const gone = next<[CodedError]>((listener) => alice.on('left', listener));
  await env.close();
  const [error] = await gone;
  t.equal(error.code, 'CONNECTION_CLOSED', 'server gone: left with CONNECTION_CLOSED');
  t.match(error.message, /gave up after 3 attempts/, `and says it gave up (${error.message})`);
  t.equal(alice.connectionState, 'idle', 'idle');
  t.equal(alice.recordState, 'None', 'None');
  t.equal(left.length, 1, 'left once');
});
