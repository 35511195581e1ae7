// What a restarted server shows of recordings its predecessor never finished: the engine's recovery
// alone, on a work directory and an event log as a killed process leaves them.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { RecordingEngine } from '../../plugin/recording/RecordingEngine';
import { RecordingEventLog } from '../../plugin/recording/RecordingEventLog';
import type { RecordingEventBody } from '../../signaling/recordingEvent';
import { writeManifest } from '../../plugin/recording/recordingManifest';
import { UploadManager } from '../../plugin/storage/UploadManager';
import { until } from '../support/recordingServer';
import { makeRandomFile, makeTempDir, sha256File } from '../support/storageFixtures';

/** A killed process's leftovers: a manifest beside the recorder's file, and the events it had logged. */
async function leftovers(root: string, recordingId: string, events: RecordingEventBody[]): Promise<string> {
  const outputDir = path.join(root, 'state', 'work', recordingId);
  const file = await makeRandomFile(outputDir, 'recording.mp4', 256 * 1024);
  writeManifest({
    version: 1,
    recordingId,
    channelId: 'room',
    keyStem: `room/meeting_20261201-120000_${recordingId.slice(-8)}`,
    target: { vendor: 'local' },
    job: { outputDir, fileBaseName: 'recording', mode: 'composite', streamTypes: 'AudioVideo' },
    startedAt: '2026-12-01T12:00:00.123Z',
    startedBy: 'api:backend',
    participants: ['alice', 'bob'],
  });
  const log = new RecordingEventLog({ dir: path.join(root, 'state', 'events') });
  for (const event of events) log.append(event);
  log.close();
  return file;
}

async function restartedEngine(t: tap.Test, root: string): Promise<RecordingEngine> {
  const uploads = await UploadManager.open({ stateDir: path.join(root, 'state', 'uploads'), backupDir: path.join(root, 'state', 'backup'), recordingsDir: path.join(root, 'recordings') });
  t.teardown(() => uploads.close());
  const engine = new RecordingEngine({ uploads, workDir: path.join(root, 'state', 'work'), maxConcurrentRecordings: 4, eventLog: { dir: path.join(root, 'state', 'events') } });
  t.teardown(() => engine.eventLog.close());
  return engine;
}

t.test('a recording interrupted mid-way: listed as failed and recovered, its file stored, its log ends with the failure and the upload', async (t) => {
  const root = await makeTempDir('recovery-mid');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const id = 'rec_20261201120000_0a1b2c3d';
  const file = await leftovers(root, id, [
    { type: 'connecting', recordingId: id, channelId: 'room' },
    { type: 'started', recordingId: id, channelId: 'room' },
  ]);
  const engine = await restartedEngine(t, root);
  t.equal(await engine.recoverInterrupted(), 1, 'one recording recovered');
  const status = engine.status(id)!;
  t.match(status, { recordingId: id, channelId: 'room', phase: 'failed', recovered: true, startedAt: '2026-12-01T12:00:00.123Z', startedBy: 'api:backend', participants: ['alice', 'bob'] });
  t.same(status.files.map((entry) => entry.objectKey), ['room/meeting_20261201-120000_0a1b2c3d.mp4'], 'its file under the manifest’s key');
  t.equal(status.uploads.length, 1, 'with its upload');
  t.same(engine.list().map((entry) => entry.recordingId), [id], 'listed');
  t.equal(engine.get(id), undefined, 'nothing live to steer');
  t.ok(await until(() => engine.status(id)!.uploads[0]!.state === 'uploaded', 10_000), 'uploaded');
  t.equal(await sha256File(path.join(root, 'recordings', 'room', 'meeting_20261201-120000_0a1b2c3d.mp4')), await sha256File(file), 'the recorder’s bytes');
  const names = engine.eventLog.since(id).entries.map((entry) => entry.type).filter((name) => name !== 'uploadingProgress');
  t.same(names, ['connecting', 'started', 'fatalError', 'uploaded'], 'the log goes on from the previous run with the failure, then the upload');
  t.match(engine.eventLog.since(id).entries[2], { seq: 3, code: 'RecorderFailed', message: /server stopped/ });
  t.equal(await engine.recoverInterrupted(), 0, 'recovered once');
});

t.test('a recording whose stop was logged before the kill: stopped and recovered, no second end', async (t) => {
  const root = await makeTempDir('recovery-stopped');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const id = 'rec_20261201120000_4e5f6a7b';
  await leftovers(root, id, [
    { type: 'connecting', recordingId: id, channelId: 'room' },
    { type: 'started', recordingId: id, channelId: 'room' },
    { type: 'stopped', recordingId: id, channelId: 'room', message: 'stopped through the HTTP API' },
  ]);
  const engine = await restartedEngine(t, root);
  await engine.recoverInterrupted();
  t.match(engine.status(id), { phase: 'stopped', recovered: true });
  t.ok(await until(() => engine.status(id)!.uploads[0]?.state === 'uploaded', 10_000), 'uploaded');
  const names = engine.eventLog.since(id).entries.map((entry) => entry.type).filter((name) => name !== 'uploadingProgress');
  t.same(names, ['connecting', 'started', 'stopped', 'uploaded'], 'no fatalError after a logged stop');
  t.notOk(fs.existsSync(path.join(root, 'state', 'work', id, 'recording.manifest.json')), 'the manifest is gone once the file is queued');
});
