import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { createCloudRecorderInstance, RecordingErrorCode } from '../../signaling/recorder';
import { colorName, decodedDurationS, frameAt, meanColor } from '../support/mediaProbe';
import { sleep } from '../support/recordingServer';
import { startBackendServer, waitUploaded } from './support';

t.test('cap reached: starts refused with a code over HTTP and the SDK; the running recording is unaffected', async (t) => {
  const env = await startBackendServer({ overrides: { recording: { maxConcurrentRecordings: 1 } } });
  t.teardown(() => env.close());
  const green = await env.join('cap-a', 'green');
  const media = await publishTestMedia({ client: green.client, color: 0x00ff00 });
  t.teardown(() => media.stop());

  const first = await env.api.request('POST', '/recordings', { channelName: 'cap-a', recordingConfig: { transcodingConfig: { width: 320, height: 240 } } });
  t.equal(first.status, 201, 'the first recording starts');
  const startedAt = Date.now();
  const recordingId: string = first.body.recordingId;

  const refused = await env.api.request('POST', '/recordings', { channelName: 'cap-b' });
  t.equal(refused.status, 409, 'over the cap → 409');
  t.equal(refused.body.error.code, RecordingErrorCode.InvalidOperation, 'with code InvalidOperation');
  t.match(refused.body.error.message, /maximum/, `and a clear message (${refused.body.error.message})`);

  const recorder = createCloudRecorderInstance(env.httpUrl, {});
  t.teardown(() => recorder.release());
  await t.rejects(
    recorder.startCloudRecording('confrec', 'cap-c', env.token({ channelId: 'cap-c', uid: 'sdk' }), 'sdk'),
    { name: 'CloudRecordingError', code: RecordingErrorCode.InvalidOperation, message: /maximum/ },
    'the SDK is refused with InvalidOperation too',
  );
  const again = await env.api.request('POST', '/recordings', { channelName: 'cap-a' });
  t.equal(again.body.error.code, RecordingErrorCode.InvalidOperation, 'a second recording of the same channel is refused as well');

  await sleep(3000);
  const running = await env.api.request('GET', `/recordings/${recordingId}`);
  t.equal(running.body.phase, 'running', 'the running recording goes on');
  t.equal((await env.api.request('GET', '/recordings')).body.recordings.length, 1, 'refused starts left nothing behind');
  // Measured when the stop is asked for: the answer comes after the file is final, which takes
  // seconds on a loaded machine, and the file rightly ends at the request.
  const spanS = (Date.now() - startedAt) / 1000;
  const stopped = await env.api.request('POST', `/recordings/${recordingId}/stop`);
  t.equal(stopped.status, 200);

  const status = await waitUploaded(env.api, recordingId);
  t.equal(status?.uploads?.[0]?.state, 'uploaded', 'uploaded');
  const file = path.join(env.server.config.recording.recordingsDir, status.files[0].objectKey);
  const decoded = await decodedDurationS(file);
  t.ok(decoded >= spanS - 1.5, `its file is complete: ${decoded.toFixed(2)} s decoded for ${spanS.toFixed(2)} s`);
  const frame = await frameAt(file, decoded - 1);
  t.equal(colorName(meanColor(frame, { x: 0, y: 0, width: frame.width, height: frame.height })), 'green');

  const next = await env.api.request('POST', '/recordings', { channelName: 'cap-b' });
  t.equal(next.status, 201, 'once it stopped, the cap frees a slot');
  t.equal((await env.api.request('POST', `/recordings/${next.body.recordingId}/stop`)).status, 200);
});
