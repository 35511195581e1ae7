// One recording event model: start() answers the recording id before anything is awaited, every
// event is appended once to the log (seq 1, 2, …) and the in-channel recordingEvent carries the same
// typed events.
import t from 'tap';
import { resolveRecordingConfig } from '../../plugin/recording/recordingConfig';
import { validateStorageTarget } from '../../signaling/recordParam';
import type { RecordingEvent } from '../../signaling/recordingEvent';
import { startRecordingServer } from '../support/recordingServer';
import { LocalChannelMedia } from '../../plugin/recording/media/LocalChannelMedia';

t.test('start() answers the id first; the log, the channel and an in-process observer see the same events', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const host = await env.join('model', 'host');
  const engine = env.recording.engine;
  const appended: RecordingEvent[] = [];
  engine.eventLog.on('appended', (event) => appended.push(event));
  const channel = env.server.registry.find('model')!;

  const handle = engine.start({ channel: new LocalChannelMedia(channel), config: resolveRecordingConfig({ transcodingConfig: { width: 320, height: 240 } }), target: validateStorageTarget({ vendor: 'local' }), startedBy: 'test' });
  t.match(handle.recordingId, /^rec_\d{14}_[0-9a-f]{8}$/, 'the handle carries the id at once');
  t.same(appended, [], 'before any event is appended');
  const uploaded = host.client.waitFor('recordingEvent', (data) => data.type === 'uploaded', 40_000);
  await handle.started;
  t.match(appended[0], { type: 'connecting', recordingId: handle.recordingId, seq: 1, channelId: 'model' }, 'its first event is connecting, seq 1');
  await engine.stop(handle.recordingId, 'test stop');
  const told = await uploaded;
  const logged = engine.eventLog.since(handle.recordingId).entries;
  t.same(logged.map((event) => event.seq), logged.map((_, index) => index + 1), 'numbered 1, 2, … in the log');
  const inLog = logged.find((event) => event.type === 'uploaded')!;
  t.match(told, { ...inLog, event: 'uploaded' }, 'the channel hears the logged event itself (type, seq, at, fileName), plus its first-version name');
  t.same(appended.filter((event) => event.recordingId === handle.recordingId), logged, 'every event was appended once, in log order');
});
