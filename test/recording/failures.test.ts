import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { RecordingErrorCode } from '../../signaling/errors';
import { decodedDurationS, probe } from '../support/mediaProbe';
import { sleep, startRecordingServer, until } from '../support/recordingServer';

t.test('SIGKILL of a recorder: fatal-error callback, channel leaves Running, the file decodes and is stored', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const host = await env.join('crash', 'host');
  const media = await publishTestMedia({ client: host.client, color: 0x00ff00 });
  t.teardown(() => media.stop());

  const fatal: Array<{ id: string; code: RecordingErrorCode }> = [];
  const uploaded: string[] = [];
  const recorder = env.recording.createCloudRecorder({
    onRecordingFatalError: (id, code) => fatal.push({ id, code }),
    onRecordingUploaded: (_id, fileName) => uploaded.push(fileName),
  });
  const recordingId = await recorder.startCloudRecording('confrec', 'crash', env.token({ channelId: 'crash', uid: 'backend' }), 'backend', {}, { vendor: 'Local' } as never);
  t.equal((await host.client.request('getChannelProperties')).properties.recordState, 'Running', 'Running');
  await sleep(5000);
  const back = host.client.waitFor('propertyChange', (data) => data.properties.recordState !== 'Running', 20_000);
  const killedAt = Date.now();
  const startedAt = env.recording.engine.get(recordingId)!.startedAt;
  process.kill(env.recording.engine.get(recordingId)!.recorderPid!, 'SIGKILL');
  t.equal((await back).properties.recordState, 'Ready', 'the channel left Running');
  t.ok(await until(() => fatal.length > 0, 10_000), 'onRecordingFatalError fired');
  t.equal(fatal[0]?.id, recordingId, 'for this recording');
  t.equal(fatal[0]?.code, 'RecorderFailed', 'with the RecorderFailed code');
  t.ok(await until(() => uploaded.length > 0, 20_000), 'what was written is still stored');
  const file = path.join(env.server.config.recording.recordingsDir, uploaded[0]!);
  const decoded = await decodedDurationS(file, 'video');
  const recordedS = (killedAt - startedAt) / 1000;
  t.ok(decoded >= recordedS - 2.5, `decodes ${decoded.toFixed(2)} s of the ${recordedS.toFixed(2)} s recorded before the kill`);
  await recorder.release();
});

t.test('a producer that never sends a packet does not hang start or stop', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const silent = await env.join('silent', 'silent');
  await publishTestMedia({ client: silent.client, sendMedia: false });
  const live = await env.join('silent', 'live');
  const media = await publishTestMedia({ client: live.client, color: 0x0000ff });
  t.teardown(() => media.stop());
  const started = await live.client.request('enableRecord', { enable: true });
  t.ok(started.accepted, 'started with an idle producer in the channel');
  await sleep(3000);
  const uploaded = live.client.waitFor('recordingEvent', (data) => data.event === 'uploaded', 30_000);
  const stopStarted = Date.now();
  await live.client.request('enableRecord', { enable: false });
  t.ok(Date.now() - stopStarted < 30_000, 'stop completed');
  const { fileName } = await uploaded;
  const info = await probe(path.join(env.server.config.recording.recordingsDir, fileName!));
  t.ok(info.durationS > 2, `file has ${info.durationS} s`);
});

t.test('per-participant mode through the engine: one file per stream plus metadata, all stored', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const a = await env.join('solo', 'a');
  const mediaA = await publishTestMedia({ client: a.client, color: 0xff0000 });
  t.teardown(() => mediaA.stop());
  const uploaded: string[] = [];
  const recorder = env.recording.createCloudRecorder({ onRecordingUploaded: (_id, fileName) => uploaded.push(fileName) });
  await recorder.startCloudRecording('confrec', 'solo', env.token({ channelId: 'solo', uid: 'backend' }), 'backend', { recordingMode: 'individual' }, { vendor: 'Local' } as never);
  await sleep(2000);
  const b = await env.join('solo', 'b');
  const mediaB = await publishTestMedia({ client: b.client, color: 0x0000ff, video: false });
  t.teardown(() => mediaB.stop());
  await sleep(3000);
  await recorder.stopCloudRecording();
  t.ok(await until(() => uploaded.length >= 4, 30_000), `uploaded ${uploaded.length} files: ${uploaded.join(', ')}`);
  const dir = env.server.config.recording.recordingsDir;
  const media = uploaded.filter((name) => !name.endsWith('.json'));
  const codecs = [];
  for (const name of media) codecs.push(...(await probe(path.join(dir, name))).streams.map((stream) => stream.codec_name));
  t.same(codecs.sort(), ['opus', 'opus', 'vp8'], 'VP8 and Opus kept without re-encoding (a: video+audio, b: audio)');
  t.ok(uploaded.some((name) => name.endsWith('.json')), 'a metadata file is stored beside them');
  await recorder.release();
});
