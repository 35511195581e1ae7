/**
 * The seed's NoUsers and RecorderExpireExit over the wire: an empty channel is told as NoUsers
 * (onRecorderFailure), and when maxIdleTime runs out the recorder exits with RecorderExpireExit
 * (onRecorderFailure), then onRecordingStopped; the same in the HTTP event log.
 */
import t from 'tap';
import { createCloudRecorderInstance } from '../../signaling/recorder';
import { sleep, until } from '../support/recordingServer';
import { startBackendServer } from './support';

t.test('network SDK and HTTP events: NoUsers when the channel empties, RecorderExpireExit at maxIdleTime', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const seen: string[] = [];
  const recorder = createCloudRecorderInstance(env.httpUrl, {
    onRecordingConnecting: () => seen.push('connecting'),
    onRecordingStarted: () => seen.push('started'),
    onRecordingStopped: () => seen.push('stopped'),
    onRecorderFailure: (_id, code) => seen.push(`recorderFailure:${code}`),
    onRecordingFatalError: (_id, code) => seen.push(`fatalError:${code}`),
  });
  t.teardown(() => recorder.release());
  const host = await env.join('idle-wire', 'host');
  const token = env.token({ channelId: 'idle-wire', uid: 'backend' });
  const recordingId = await recorder.startCloudRecording('confrec', 'idle-wire', token, 'backend', { maxIdleTime: 3, transcodingConfig: { width: 320, height: 240 } }, { vendor: 'Local' });
  await sleep(500);
  t.same(seen, ['connecting', 'started'], 'a user is in the channel: no NoUsers');

  await host.client.request('leave');
  t.ok(await until(() => seen.includes('recorderFailure:NoUsers'), 5000), 'the last user left: NoUsers');
  await sleep(1000);
  const back = await env.join('idle-wire', 'back');
  await sleep(3500);
  t.notOk(seen.includes('stopped'), 'someone came back within maxIdleTime: still recording');
  t.equal(env.recording.engine.get(recordingId)?.phase, 'running');

  await back.client.request('leave');
  t.ok(await until(() => seen.includes('stopped'), 15_000), 'empty for maxIdleTime: stopped by itself');
  const expected = ['connecting', 'started', 'recorderFailure:NoUsers', 'recorderFailure:NoUsers', 'recorderFailure:RecorderExpireExit', 'stopped'];
  t.same(seen, expected, 'the SDK observer: NoUsers each time the channel empties, RecorderExpireExit, then Stopped');
  const events = await env.api.request('GET', `/recordings/${recordingId}/events`);
  const logged = (events.body.events as Array<{ event: string; code?: string }>)
    .filter((entry) => entry.event !== 'uploadingProgress' && entry.event !== 'uploaded')
    .map((entry) => (entry.code ? `${entry.event}:${entry.code}` : entry.event));
  t.same(logged, expected, 'the HTTP event log: the same, with the codes');
});
