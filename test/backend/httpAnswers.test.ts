// The HTTP API's answers are true when returned: the start answer comes after the recorder wrote
// and lists who is recorded; the stop answer lists the final files and their uploads; participants
// stay after stop; startedAt is the recorder's own clock (recording.json's); progress never goes back.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { sleep, until } from '../support/recordingServer';
import { startBackendServer, waitUploaded } from './support';

t.test('HTTP API composite: 201 after the first bytes with participants; stop answers with files and uploads; participants kept', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const red = await env.join('answers', 'red');
  const blue = await env.join('answers', 'blue');
  const redMedia = await publishTestMedia({ client: red.client, color: 0xff0000 });
  const blueMedia = await publishTestMedia({ client: blue.client, color: 0x0000ff });
  t.teardown(() => Promise.all([redMedia.stop(), blueMedia.stop()]));

  const tooLong = await env.api.request('POST', '/recordings', { channelName: 'answers', fileName: `dir/${'a'.repeat(240)}` });
  t.equal(tooLong.status, 400, 'a fileName too long for the stamp and id the server adds is refused at the start');
  t.match(tooLong.body.error, { code: 'InvalidParameter', message: /fileName/ });
  t.equal(env.recording.engine.activeRecording('answers'), undefined, 'and nothing records');
  const asked = Date.now();
  const started = await env.api.request('POST', '/recordings', { channelName: 'answers', recordingConfig: { transcodingConfig: { width: 320, height: 240 } } });
  t.equal(started.status, 201);
  t.comment(`201 after ${Date.now() - asked} ms`);
  const recordingId: string = started.body.recordingId;
  const workFile = path.join(env.server.config.recording.stateDir, 'work', recordingId, 'recording.mp4');
  const bytesAtAnswer = fs.statSync(workFile, { throwIfNoEntry: false })?.size ?? 0;
  t.ok(bytesAtAnswer > 0, `the recorder had written when 201 came (${bytesAtAnswer} bytes)`);
  t.equal(started.body.phase, 'running');
  t.same([...started.body.participants].sort(), ['blue', 'red'], 'the start answer lists who is recorded');
  const recordingStart = env.recording.engine.get(recordingId)!.startedAt;
  t.equal(started.body.startedAt, new Date(recordingStart).toISOString(), 'startedAt is the recording’s (recorder’s) start');
  await sleep(1500);

  const stopped = await env.api.request('POST', `/recordings/${recordingId}/stop`);
  t.equal(stopped.status, 200);
  t.equal(stopped.body.phase, 'stopped');
  t.equal(stopped.body.files.length, 1, 'the stop answer lists the file');
  t.match(stopped.body.files[0], { kind: 'composite', objectKey: new RegExp(`^answers/${recordingId}\\.mp4$`) });
  t.equal(stopped.body.uploads.length, 1, 'and its upload');
  t.equal(stopped.body.uploads[0].objectKey, stopped.body.files[0].objectKey, 'for the same key');
  t.same([...stopped.body.participants].sort(), ['blue', 'red'], 'participants are kept after stop');
  const final = await waitUploaded(env.api, recordingId);
  t.equal(final.uploads[0].state, 'uploaded');
  t.same([...final.participants].sort(), ['blue', 'red'], 'and after the upload');
  t.equal(final.startedAt, started.body.startedAt, 'startedAt never changes');
});

t.test('HTTP API individual: startedAt is recording.json’s, the stop answer lists every file, upload progress never goes back', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const red = await env.join('answers-solo', 'red');
  const blue = await env.join('answers-solo', 'blue');
  const redMedia = await publishTestMedia({ client: red.client, color: 0xff0000 });
  const blueMedia = await publishTestMedia({ client: blue.client, color: 0x0000ff });
  t.teardown(() => Promise.all([redMedia.stop(), blueMedia.stop()]));

  const started = await env.api.request('POST', '/recordings', { channelName: 'answers-solo', fileName: 'solo/take', recordingConfig: { recordingMode: 'individual' } });
  t.equal(started.status, 201);
  const recordingId: string = started.body.recordingId;
  t.same([...started.body.participants].sort(), ['blue', 'red'], 'the start answer lists who is recorded');
  const workDir = path.join(env.server.config.recording.stateDir, 'work', recordingId);
  const written = fs.readdirSync(workDir).filter((name) => /\.(webm|mp4)$/.test(name) && fs.statSync(path.join(workDir, name)).size > 0);
  t.ok(written.length > 0, `a stream file had bytes when 201 came (${written.join(', ')})`);
  await sleep(2500);

  const stopped = await env.api.request('POST', `/recordings/${recordingId}/stop`);
  t.equal(stopped.status, 200);
  t.equal(stopped.body.phase, 'stopped');
  const kinds = stopped.body.files.map((file: { kind: string }) => file.kind).sort();
  t.same(kinds, ['audio', 'audio', 'metadata', 'video', 'video'], 'the stop answer lists every stream file and the metadata');
  t.equal(stopped.body.uploads.length, 5, 'and an upload for each');
  t.same([...stopped.body.participants].sort(), ['blue', 'red'], 'participants are kept after stop');

  t.ok(
    await until(() => env.recording.engine.status(recordingId)!.uploads.every((upload) => upload.state === 'uploaded'), 30_000),
    'every file uploaded',
  );
  const metadataKey: string = stopped.body.files.find((file: { kind: string }) => file.kind === 'metadata').objectKey;
  const metadata = JSON.parse(fs.readFileSync(path.join(env.server.config.recording.recordingsDir, metadataKey), 'utf8'));
  t.equal(metadata.startedAt, started.body.startedAt, 'recording.json and the API give the same startedAt: one clock');
  for (const file of stopped.body.files.filter((entry: { kind: string }) => entry.kind !== 'metadata')) {
    const listed = metadata.files.find((entry: { file: string }) => file.objectKey.endsWith(`/${entry.file}`));
    t.equal(file.startOffsetMs, listed?.startOffsetMs, `${file.objectKey}: the same offset in the API and recording.json`);
  }

  const events = (await env.api.request('GET', `/recordings/${recordingId}/events`)).body.events as Array<{ event: string; progress?: number }>;
  const progress = events.filter((event) => event.event === 'uploadingProgress').map((event) => event.progress!);
  t.ok(progress.length > 0, `progress reported (${progress.join(', ')})`);
  t.same(progress, [...progress].sort((a, b) => a - b), 'per-recording progress never goes back');
  t.equal(progress.at(-1), 100, 'and ends at 100');
});
