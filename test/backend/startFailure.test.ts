/**
 * StartCloudRecording after a failed start: a start that fails once Connecting was sent ends with
 * onRecordingFatalError (the seed's code of the failure) and leaves the recorder instance usable.
 * The failure is real: a recorder process given 1 ms to load GStreamer cannot start.
 */
import t from 'tap';
import { createCloudRecorderInstance, CloudRecordingError, RecordingErrorCode } from '../../signaling/recorder';
import type { RecorderProcessOptions } from '../../plugin/recording/recorder/RecorderProcess';
import { startRecordingServer, until } from '../support/recordingServer';
import { startBackendServer } from './support';

type Seen = Array<{ name: string; id: string; code?: string }>;

function observer(seen: Seen) {
  const push = (name: string) => (id: string, code?: string) => seen.push({ name, id, ...(code ? { code } : {}) });
  return {
    onRecordingConnecting: push('connecting'),
    onRecordingStarted: push('started'),
    onRecordingStopped: push('stopped'),
    onRecorderFailure: push('recorderFailure'),
    onRecordingUploaded: (id: string) => seen.push({ name: 'uploaded', id }),
    onRecordingFatalError: push('fatalError'),
  };
}

async function rejection(promise: Promise<unknown>): Promise<CloudRecordingError & { code: string }> {
  try {
    await promise;
  } catch (error) {
    return error as CloudRecordingError;
  }
  throw new Error('did not reject');
}

t.test('network SDK: a failed start ends in onRecordingFatalError(RecorderInitFailed); the same instance starts again', async (t) => {
  const recorderOptions: RecorderProcessOptions = { startTimeoutMs: 1 };
  const env = await startBackendServer({ plugin: { recorder: recorderOptions } });
  t.teardown(() => env.close());
  await env.join('fail-room', 'host');
  const seen: Seen = [];
  const recorder = createCloudRecorderInstance(env.httpUrl, observer(seen));
  t.teardown(() => recorder.release());
  const token = env.token({ channelId: 'fail-room', uid: 'backend' });
  const config = { transcodingConfig: { width: 320, height: 240 } };

  const error = await rejection(recorder.startCloudRecording('confrec', 'fail-room', token, 'backend', config, { vendor: 'Local' }));
  t.equal(error.code, RecordingErrorCode.RecorderInitFailed, 'the start rejects with RecorderInitFailed');
  const failedId = seen[0]?.id;
  t.ok(await until(() => seen.some((event) => event.name === 'fatalError'), 5000), 'the observer hears the end of it');
  t.same(seen, [
    { name: 'connecting', id: failedId },
    { name: 'fatalError', id: failedId, code: 'RecorderInitFailed' },
  ], 'Connecting, then onRecordingFatalError with the code — not silence');
  const events = await env.api.request('GET', `/recordings/${failedId}/events`);
  t.same(events.body.events.map((entry: any) => [entry.event, entry.code]), [['connecting', undefined], ['fatalError', 'RecorderInitFailed']], 'the HTTP event log says the same');
  const status = await env.api.request('GET', `/recordings/${failedId}`);
  t.equal(status.status, 200, 'the failed recording is still listed');
  t.equal(status.body.phase, 'failed', 'as failed');

  recorderOptions.startTimeoutMs = 15_000;
  const recordingId = await recorder.startCloudRecording('confrec', 'fail-room', token, 'backend', config, { vendor: 'Local' });
  t.not(recordingId, failedId, 'the same instance started a new recording');
  t.ok(seen.some((event) => event.name === 'started' && event.id === recordingId), 'onRecordingStarted for it');
  await recorder.stopCloudRecording();
  t.ok(await until(() => seen.some((event) => event.name === 'uploaded' && event.id === recordingId), 30_000), 'stopped and uploaded');
  t.equal(recorder.recordingId, recordingId);
});

t.test('in process: a failed start ends in onRecordingFatalError; the CloudRecorder starts again', async (t) => {
  const recorderOptions: RecorderProcessOptions = { startTimeoutMs: 1 };
  const env = await startRecordingServer({ plugin: { recorder: recorderOptions } });
  t.teardown(() => env.close());
  await env.join('fail-local', 'host');
  const seen: Seen = [];
  const recorder = env.recording.createCloudRecorder(observer(seen));
  t.teardown(() => recorder.release());
  const token = env.token({ channelId: 'fail-local', uid: 'backend' });

  const error = await rejection(recorder.startCloudRecording('confrec', 'fail-local', token, 'backend', {}, { vendor: 'Local' } as never));
  t.equal(error.code, RecordingErrorCode.RecorderInitFailed, 'RecorderInitFailed');
  const failedId = seen[0]?.id;
  t.same(seen, [
    { name: 'connecting', id: failedId },
    { name: 'fatalError', id: failedId, code: 'RecorderInitFailed' },
  ], 'Connecting, then onRecordingFatalError');
  t.equal(env.recording.engine.get(failedId!)?.phase, 'failed');

  recorderOptions.startTimeoutMs = 15_000;
  const recordingId = await recorder.startCloudRecording('confrec', 'fail-local', token, 'backend', {}, { vendor: 'Local' } as never);
  t.ok(seen.some((event) => event.name === 'started' && event.id === recordingId), 'started again on the same instance');
  await recorder.stopCloudRecording();
  t.ok(await until(() => seen.some((event) => event.name === 'stopped' && event.id === recordingId), 20_000), 'and stopped');
});
