// A key is never reused: recordings started in the same second, or by two channels with the same
// fileName, each get a file of their own in the store, byte for byte the recorder's.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { buildLocalRecordParam } from '../../signaling/recordParam';
import { startRecordingServer, until } from '../support/recordingServer';
import { sha256File } from '../support/storageFixtures';

/** The stored object of each recording (one composite file each) with the recorder's working copy. */
function storedFiles(env: Awaited<ReturnType<typeof startRecordingServer>>, recordingIds: string[]): Array<{ recordingId: string; objectKey: string; workFile: string; storedFile: string }> {
  return recordingIds.map((recordingId) => {
    const status = env.recording.engine.status(recordingId)!;
    const objectKey = status.files[0]?.objectKey ?? '';
    return {
      recordingId,
      objectKey,
      workFile: path.join(env.server.config.recording.stateDir, 'work', recordingId, 'recording.mp4'),
      storedFile: path.join(env.server.config.recording.recordingsDir, objectKey),
    };
  });
}

function allUploaded(env: Awaited<ReturnType<typeof startRecordingServer>>, recordingIds: string[]): boolean {
  return recordingIds.every((recordingId) => {
    const uploads = env.recording.engine.status(recordingId)?.uploads ?? [];
    return uploads.length > 0 && uploads.every((upload) => upload.state === 'uploaded');
  });
}

t.test('four start/stop rounds in a row on one channel (several in the same second): four distinct files, each the recorder’s bytes', async (t) => {
  // The recorder's working copy is kept so each stored file can be compared with it.
  const env = await startRecordingServer({ plugin: { uploads: { deleteLocalAfterUpload: false } } });
  t.teardown(() => env.close());
  const host = await env.join('rapid', 'host');
  const media = await publishTestMedia({ client: host.client, color: 0x00ff00 });
  t.teardown(() => media.stop());

  const recordingIds: string[] = [];
  const began = Date.now();
  for (let round = 0; round < 4; round++) {
    const { recordingId } = await host.client.request('enableRecord', { enable: true });
    recordingIds.push(recordingId);
    await host.client.request('enableRecord', { enable: false });
  }
  const seconds = new Set(recordingIds.map((recordingId) => recordingId.split('_')[1]));
  t.comment(`four rounds took ${Date.now() - began} ms, started in ${seconds.size} distinct second(s)`);
  t.ok(await until(() => allUploaded(env, recordingIds), 30_000), 'every recording reports its file uploaded');
  const files = storedFiles(env, recordingIds);
  t.equal(new Set(files.map((file) => file.objectKey)).size, 4, `four distinct keys: ${files.map((file) => file.objectKey).join(', ')}`);
  for (const file of files) t.match(file.objectKey, /^rapid\/recording_\d{8}-\d{6}_[0-9a-f]{8}\.mp4$/, `key shape: <fileName>_<stamp>_<id> (${file.objectKey})`);
  const stored = fs.readdirSync(path.join(env.server.config.recording.recordingsDir, 'rapid')).filter((name) => name.endsWith('.mp4'));
  t.equal(stored.length, 4, 'four files in the store');
  for (const file of files) {
    t.equal(await sha256File(file.storedFile), await sha256File(file.workFile), `${file.objectKey} holds the bytes of ${file.recordingId}`);
  }
});

t.test('two channels recording with fileName "shared/meeting" at the same time: two files', async (t) => {
  const env = await startRecordingServer({ overrides: { recording: { defaultStorage: 'none' } }, plugin: { uploads: { deleteLocalAfterUpload: false } } });
  t.teardown(() => env.close());
  const param = { record: { recordString: buildLocalRecordParam(true, 'shared/meeting') } };
  const a = await env.join('room-a', 'alice', { joinParam: param });
  const b = await env.join('room-b', 'bob', { joinParam: param });
  const mediaA = await publishTestMedia({ client: a.client, color: 0xff0000 });
  const mediaB = await publishTestMedia({ client: b.client, color: 0x0000ff });
  t.teardown(() => Promise.all([mediaA.stop(), mediaB.stop()]));

  const [startedA, startedB] = await Promise.all([a.client.request('enableRecord', { enable: true }), b.client.request('enableRecord', { enable: true })]);
  await Promise.all([a.client.request('enableRecord', { enable: false }), b.client.request('enableRecord', { enable: false })]);
  const recordingIds = [startedA.recordingId as string, startedB.recordingId as string];
  t.ok(await until(() => allUploaded(env, recordingIds), 30_000), 'both recordings report their file uploaded');
  const files = storedFiles(env, recordingIds);
  t.not(files[0]!.objectKey, files[1]!.objectKey, `two keys: ${files.map((file) => file.objectKey).join(', ')}`);
  const stored = fs.readdirSync(path.join(env.server.config.recording.recordingsDir, 'shared')).filter((name) => name.endsWith('.mp4'));
  t.equal(stored.length, 2, `two files under shared/ (${stored.join(', ')})`);
  for (const file of files) t.equal(await sha256File(file.storedFile), await sha256File(file.workFile), `${file.objectKey} holds the bytes of ${file.recordingId}`);
});
