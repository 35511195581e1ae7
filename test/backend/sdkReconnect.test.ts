import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { createCloudRecorderInstance, CloudRecordingError, RecordingErrorCode } from '../../signaling/recorder';
import { sleep, until } from '../support/recordingServer';
import { milestones, startBackendServer, startTcpProxy } from './support';

function recordingObserver() {
  const names: string[] = [];
  const states: string[] = [];
  const record = (name: string) => () => names.push(name);
  return {
    names,
    states,
    observer: {
      onRecordingConnecting: record('connecting'),
      onRecordingStarted: record('started'),
      onRecordingStopped: record('stopped'),
      onRecorderFailure: record('recorderFailure'),
      onRecordingUploaded: record('uploaded'),
      onRecordingBackuped: record('backuped'),
      onRecordingUploadingProgress: record('uploadingProgress'),
      onUploaderFailure: record('uploaderFailure'),
      onRecordingFatalError: record('fatalError'),
      onConnectionStateChange: (state: string) => states.push(state),
    },
  };
}

t.test('SDK link drops: it reconnects, catches up on the events it missed, in order, exactly once', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const proxy = await startTcpProxy(env.server.port);
  t.teardown(() => proxy.close());
  const red = await env.join('reconnect-room', 'red');
  const media = await publishTestMedia({ client: red.client, color: 0xff0000 });
  t.teardown(() => media.stop());

  const seen = recordingObserver();
  const recorder = createCloudRecorderInstance(`http://127.0.0.1:${proxy.port}`, seen.observer, { reconnect: { baseDelayMs: 100, maxDelayMs: 400 } });
  t.teardown(() => recorder.release(true));
  const token = env.token({ channelId: 'reconnect-room', uid: 'backend' });
  const recordingId = await recorder.startCloudRecording('confrec', 'reconnect-room', token, 'backend', { transcodingConfig: { width: 320, height: 240 } }, { vendor: 'Local' });
  t.same(seen.names, ['connecting', 'started']);

  // 1. The server drops the SDK's socket: it comes back by itself.
  env.backend.recorderSockets.dropConnections();
  t.ok(await until(() => seen.states.includes('reconnecting'), 5000), 'the SDK noticed the drop');
  t.ok(await until(() => recorder.connectionState === 'connected' && env.backend.recorderSockets.connectionCount === 1, 10_000), 'and reconnected');

  // 2. The network fails for longer: the recording is stopped and uploaded meanwhile.
  proxy.cut();
  t.ok(await until(() => recorder.connectionState === 'reconnecting', 5000), 'link cut: reconnecting');
  await sleep(1500);
  const stopped = await env.api.request('POST', `/recordings/${recordingId}/stop`);
  t.equal(stopped.status, 200, 'stopped by another controller (HTTP API) while the SDK is away');
  t.ok(await until(() => env.backend.log.since(recordingId).entries.some((entry) => entry.type === 'uploaded'), 30_000), 'uploaded while the SDK is away');
  t.notOk(seen.names.includes('stopped'), 'the SDK has not heard of it yet');

  proxy.restore();
  t.ok(await until(() => seen.names.includes('uploaded'), 20_000), 'after the link is back, the missed events arrive');
  const logged = env.backend.log.since(recordingId).entries.map((entry) => entry.type);
  t.same(seen.names, logged, `every event exactly once, in the server's order (${seen.names.length} events)`);
  t.same(milestones(seen.names), ['connecting', 'started', 'stopped', 'uploaded'], 'Connecting → Started → Stopped → Uploaded');
  t.equal(recorder.recordingId, recordingId);
  await recorder.release();
  t.equal(recorder.connectionState, 'released');
});

t.test('SDK errors come back as the seed codes', async (t) => {
  const env = await startBackendServer({ overrides: { recording: { maxConcurrentRecordings: 1 } } });
  t.teardown(() => env.close());
  const token = env.token({ channelId: 'errors-room', uid: 'backend' });
  const recorder = createCloudRecorderInstance(env.httpUrl, {});
  t.teardown(() => recorder.release());

  const rejection = async (promise: Promise<unknown>): Promise<CloudRecordingError> => {
    try {
      await promise;
    } catch (error) {
      return error as CloudRecordingError;
    }
    throw new Error('did not reject');
  };
  let error = await rejection(recorder.startCloudRecording('confrec', 'errors-room', token, 'backend', { transcodingConfig: { layout: 'Diagonal' } }));
  t.ok(error instanceof CloudRecordingError, 'a CloudRecordingError');
  t.equal(error.code, RecordingErrorCode.InvalidParameter, 'bad layout → InvalidParameter');
  t.equal(error.errorNumber, 3, 'with the seed number (kRecordingErrorInvalidParameter = 3)');
  t.match(error.message, /recordingConfig\.transcodingConfig\.layout/, 'the message names the field');
  error = await rejection(recorder.startCloudRecording('confrec', 'errors-room', token, 'backend', {}, { vendor: 'Dropbox' } as never));
  t.match(error, { code: 'InvalidParameter', message: /cloudStorageConfig\.vendor/ }, 'bad vendor → InvalidParameter naming the field');
  error = await rejection(recorder.startCloudRecording('confrec', 'errors-room', 'v1.bogus.token', 'backend'));
  t.equal(error.code, RecordingErrorCode.ConnectError, 'bad token → ConnectError');
  error = await rejection(recorder.stopCloudRecording());
  t.equal(error.code, RecordingErrorCode.InvalidOperation, 'stop with nothing recording → InvalidOperation');

  const unreachable = createCloudRecorderInstance('http://127.0.0.1:1', {});
  error = await rejection(unreachable.startCloudRecording('confrec', 'errors-room', token, 'backend'));
  t.equal(error.code, RecordingErrorCode.ConnectError, 'no server → ConnectError');
  await unreachable.release();
  error = await rejection(unreachable.startCloudRecording('confrec', 'errors-room', token, 'backend'));
  t.equal(error.code, RecordingErrorCode.InvalidOperation, 'after release → InvalidOperation');
});

t.test('another SDK instance takes over a recording left running with release(true); release(false) stops', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const token = env.token({ channelId: 'handover-room', uid: 'backend' });
  const first = createCloudRecorderInstance(env.httpUrl, {});
  const recordingId = await first.startCloudRecording('confrec', 'handover-room', token, 'backend', { transcodingConfig: { width: 320, height: 240 } });
  await first.release(true);
  t.equal(env.recording.engine.get(recordingId)?.phase, 'running', 'release(true) leaves it running');

  const seen = recordingObserver();
  const second = createCloudRecorderInstance(env.httpUrl, seen.observer);
  t.teardown(() => second.release(true));
  const noRecord = env.token({ channelId: 'handover-room', uid: 'viewer', privileges: { publish: true, record: false } });
  await t.rejects(second.attachCloudRecording('confrec', recordingId, noRecord), { code: RecordingErrorCode.InvalidOperation }, 'a token without the record privilege cannot take over');
  await t.rejects(second.attachCloudRecording('confrec', recordingId, 'v1.forged.token'), { code: RecordingErrorCode.ConnectError }, 'a forged token cannot');
  await t.rejects(second.attachCloudRecording('confrec', 'rec_unknown', token), { code: RecordingErrorCode.InvalidParameter }, 'an unknown recording cannot be attached');
  await second.attachCloudRecording('confrec', recordingId, token);
  t.equal(second.recordingId, recordingId);
  await second.stopCloudRecording();
  t.ok(await until(() => seen.names.includes('uploaded'), 30_000), 'the new controller hears the rest');
  t.same(milestones(seen.names), ['stopped', 'uploaded'], 'only events after the takeover');

  const third = createCloudRecorderInstance(env.httpUrl, {});
  const other = await third.startCloudRecording('confrec', 'handover-room', token, 'backend');
  await third.release(false);
  t.equal(env.recording.engine.get(other)?.phase, 'stopped', 'release(false) stops the recording');
});
