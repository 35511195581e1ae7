/**
 * ChannelRecordingTracker: which recordings of each channel are open, from the events of any node's
 * recordings — connecting opens, started runs, stopped or fatalError ends (also one named by its
 * recording id only, as the cluster's fatalError for a dead node may be) — and settled(), which a
 * start or stop on another node waits on until its events came back.
 */
import t from 'tap';
import { ChannelRecordingTracker } from '../../plugin/recording/ChannelRecordingTracker';
import type { RecordingEventEntry } from '../../plugin/recording/RecordingEventLog';

let seq = 0;
const event = (type: string, recordingId: string, channelId?: string): RecordingEventEntry =>
  ({ type, recordingId, ...(channelId !== undefined ? { channelId } : {}), seq: ++seq, at: new Date().toISOString() }) as unknown as RecordingEventEntry;

t.test('connecting opens a recording, started makes it run, stopped or fatalError ends it', async (t) => {
  const tracker = new ChannelRecordingTracker();
  t.equal(tracker.of('room'), undefined, 'nothing open at first');
  tracker.observe(event('connecting', 'rec_1', 'room'));
  t.same(tracker.of('room'), { recordingId: 'rec_1', running: false }, 'connecting: open, not running');
  tracker.observe(event('started', 'rec_1', 'room'));
  t.same(tracker.of('room'), { recordingId: 'rec_1', running: true }, 'started: running');
  tracker.observe(event('uploadingProgress', 'rec_1', 'room'));
  t.same(tracker.of('room'), { recordingId: 'rec_1', running: true }, 'other events change nothing');
  tracker.observe(event('stopped', 'rec_1', 'room'));
  t.equal(tracker.of('room'), undefined, 'stopped: ended');
  tracker.observe(event('started', 'rec_1', 'room'));
  t.equal(tracker.of('room'), undefined, 'a late event of an ended recording does not open it again');

  tracker.observe(event('connecting', 'rec_2', 'room'));
  tracker.observe(event('started', 'rec_2', 'room'));
  tracker.observe(event('fatalError', 'rec_2', ''));
  t.equal(tracker.of('room'), undefined, 'a fatalError naming no channel ends the recording by its id');
});

t.test("a channel's running recording comes before one still starting; channels are apart", async (t) => {
  const tracker = new ChannelRecordingTracker();
  tracker.observe(event('connecting', 'rec_a', 'room'));
  tracker.observe(event('connecting', 'rec_b', 'room'));
  tracker.observe(event('started', 'rec_b', 'room'));
  tracker.observe(event('connecting', 'rec_c', 'other'));
  t.same(tracker.of('room'), { recordingId: 'rec_b', running: true }, 'the running one');
  t.same(tracker.of('other'), { recordingId: 'rec_c', running: false }, 'the other channel has its own');
  tracker.observe(event('stopped', 'rec_b', 'room'));
  t.same(tracker.of('room'), { recordingId: 'rec_a', running: false }, 'then the one left');
});

t.test('settled() waits for a recording to run or end, at most its timeout', async (t) => {
  const tracker = new ChannelRecordingTracker();
  const running = tracker.settled('rec_1', 'running', 5000);
  setTimeout(() => tracker.observe(event('connecting', 'rec_1', 'room')), 10);
  setTimeout(() => tracker.observe(event('started', 'rec_1', 'room')), 30);
  const startedAt = Date.now();
  await running;
  t.equal(tracker.of('room')?.running, true, "'running' resolves once it runs (not at connecting)");
  t.ok(Date.now() - startedAt < 1000, 'at once then');

  await tracker.settled('rec_1', 'running', 5000);
  t.pass("'running' of a running recording resolves at once");

  const ended = tracker.settled('rec_1', 'ended', 5000);
  setTimeout(() => tracker.observe(event('stopped', 'rec_1', 'room')), 10);
  await ended;
  t.equal(tracker.of('room'), undefined, "'ended' resolves once it ended");

  const failed = tracker.settled('rec_2', 'running', 5000);
  setTimeout(() => tracker.observe(event('fatalError', 'rec_2', 'room')), 10);
  await failed;
  t.pass("'running' also resolves when the recording ends without running");

  const waitedAt = Date.now();
  await tracker.settled('rec_never', 'running', 100);
  t.ok(Date.now() - waitedAt >= 90, 'a recording never heard of: resolves after the timeout');
  t.equal(tracker.listenerCount('changed'), 0, 'and leaves no listener behind');
});
