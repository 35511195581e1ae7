import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UploadManager } from '../../plugin/storage/UploadManager';
import { RecordingErrorCode } from '../../signaling/errors';
import type { UploadJobStatus } from '../../plugin/storage/UploadJob';
import { makeRandomFile, makeTempDir, once, sha256File } from '../support/storageFixtures';

async function setup(t: tap.Test) {
  const root = await makeTempDir('manager');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const dirs = { stateDir: path.join(root, 'state'), backupDir: path.join(root, 'backup'), recordingsDir: path.join(root, 'recordings') };
  return { root, dirs };
}

t.test('open() rejects bad options naming the field', async (t) => {
  const { dirs } = await setup(t);
  await t.rejects(UploadManager.open({ ...dirs, stateDir: 'relative/state' }), { name: 'TypeError', message: /stateDir/ });
  await t.rejects(UploadManager.open({ ...dirs, retry: { attempts: 0 } }), { name: 'TypeError', message: /retry\.attempts/ });
  await t.rejects(UploadManager.open({ ...dirs, concurrency: 0 }), { name: 'TypeError', message: /concurrency/ });
  await t.rejects(UploadManager.open({ ...dirs, backupTarget: { vendor: 's3', bucket: 'x' } }), { code: RecordingErrorCode.InvalidParameter, message: /backupTarget\.bucket/ });
});

t.test('enqueue() validates at the boundary; close() is idempotent and refuses new work', async (t) => {
  const { root, dirs } = await setup(t);
  const file = await makeRandomFile(root, 'work/a.bin', 1000);
  const manager = await UploadManager.open(dirs);
  const base = { recordingId: 'r', channelId: 'c', localPath: file, objectKey: 'a.bin', target: { vendor: 'local' as const } };
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ recordingId: '' }, /invalid recordingId/],
    [{ channelId: 'a\nb' }, /invalid channelId/],
    [{ localPath: 'relative.bin' }, /invalid localPath/],
    [{ localPath: path.join(root, 'missing.bin') }, /invalid localPath/],
    [{ objectKey: '../x' }, /invalid objectKey/],
    [{ target: { vendor: 'qiniu', bucket: 'ok-bucket', accessKey: 'abcd1234' } }, /invalid target\.secretKey/],
    [{ target: { vendor: 'ftp' } }, /invalid target\.vendor/],
  ];
  for (const [patch, message] of cases) {
    await t.rejects(manager.enqueue({ ...base, ...patch } as never), { code: RecordingErrorCode.InvalidParameter, message }, JSON.stringify(patch));
  }
  t.same(fs.readdirSync(path.join(dirs.stateDir, 'jobs')), [], 'nothing queued by refused requests');
  const done = once<[UploadJobStatus]>(manager, 'uploaded');
  const queued = await manager.enqueue(base);
  t.equal(queued.sha256, await sha256File(file), 'the job states the sha256 of the file it queued');
  await done;
  t.equal(await sha256File(path.join(dirs.recordingsDir, 'a.bin')), queued.sha256, 'the store holds exactly those bytes');
  await manager.close();
  await manager.close();
  t.ok(manager.closed);
  await t.rejects(manager.enqueue(base), { code: RecordingErrorCode.InvalidOperation });
});

t.test('deleteLocalAfterUpload removes the recorder file only after the store acknowledged it', async (t) => {
  const { root, dirs } = await setup(t);
  const file = await makeRandomFile(root, 'work/b.bin', 200 * 1024);
  const expected = await sha256File(file);
  const manager = await UploadManager.open({ ...dirs, deleteLocalAfterUpload: true });
  t.teardown(() => manager.close());
  let existedAtProgress100 = false;
  manager.on('progress', (_job, percent) => {
    if (percent === 100) existedAtProgress100 = fs.existsSync(file);
  });
  const done = once<[UploadJobStatus]>(manager, 'uploaded');
  await manager.enqueue({ recordingId: 'r', channelId: 'c', localPath: file, objectKey: 'b.bin', target: { vendor: 'local' } });
  await done;
  t.ok(existedAtProgress100, 'file still there when the acknowledgement arrived');
  t.notOk(fs.existsSync(file), 'then removed');
  t.equal(await sha256File(path.join(dirs.recordingsDir, 'b.bin')), expected);
});

t.test('a corrupt job file is moved aside, not deleted, and does not stop the queue', async (t) => {
  const { dirs } = await setup(t);
  await fsp.mkdir(path.join(dirs.stateDir, 'jobs'), { recursive: true });
  fs.writeFileSync(path.join(dirs.stateDir, 'jobs', 'broken.json'), '{"format":1,');
  fs.writeFileSync(path.join(dirs.stateDir, 'jobs', '.x.json.abc.tmp'), 'half-written');
  const manager = await UploadManager.open(dirs);
  t.teardown(() => manager.close());
  t.same(manager.list(), []);
  t.same(fs.readdirSync(path.join(dirs.stateDir, 'jobs')).sort(), ['broken.json.corrupt']);
});

t.test('held uploads (Release(false)) wait in backup across a restart and go only when resumed', async (t) => {
  const { root, dirs } = await setup(t);
  const file = await makeRandomFile(root, 'work/held.bin', 200_000);
  const stored = path.join(dirs.recordingsDir, 'rooms/held.bin');
  let manager = await UploadManager.open({ ...dirs, backgroundRetry: { baseDelayMs: 50, maxDelayMs: 100 } });
  const queued = await manager.enqueue({ recordingId: 'r-held', channelId: 'c', localPath: file, objectKey: 'rooms/held.bin', target: { vendor: 'local' }, held: true });
  t.equal(queued.state, 'held', 'queued held');
  t.ok(queued.backup?.localPath?.startsWith(dirs.backupDir + path.sep), 'with its copy in the backup dir');
  t.equal(await sha256File(queued.backup!.localPath!), await sha256File(file), 'the whole file');
  await manager.close();

  manager = await UploadManager.open({ ...dirs, backgroundRetry: { baseDelayMs: 50, maxDelayMs: 100 } });
  t.teardown(() => manager.close());
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [afterRestart] = manager.list();
  t.equal(afterRestart?.state, 'held', 'still held after a restart');
  t.notOk(fs.existsSync(stored), 'nothing stored');
  t.ok(fs.existsSync(afterRestart!.backup!.localPath!), 'backup kept');

  const uploaded = once(manager, 'uploaded');
  const resumed = await manager.resume('r-held');
  t.equal(resumed.length, 1, 'resume() takes it');
  await uploaded;
  t.equal(await sha256File(stored), await sha256File(file), 'stored once resumed');
  t.same(await manager.resume('r-held'), [], 'nothing left to resume');
});

t.test('hold() stops a running upload and its retries; resume() finishes it', async (t) => {
  const { root, dirs } = await setup(t);
  const file = await makeRandomFile(root, 'work/big.bin', 5_000_000);
  const manager = await UploadManager.open({ ...dirs, backgroundRetry: { baseDelayMs: 50, maxDelayMs: 100 } });
  t.teardown(() => manager.close());
  const stored = path.join(dirs.recordingsDir, 'big.bin');
  await manager.enqueue({ recordingId: 'r-run', channelId: 'c', localPath: file, objectKey: 'big.bin', target: { vendor: 'local' } });
  const held = await manager.hold('r-run');
  t.equal(held.length, 1, 'one job held');
  await new Promise((resolve) => setTimeout(resolve, 800));
  const [job] = manager.list();
  t.equal(job?.state, 'held', `held (${job?.state})`);
  t.notOk(fs.existsSync(stored), 'not stored');
  t.ok(job?.backup?.localPath && fs.existsSync(job.backup.localPath), 'in backup');
  const uploaded = once(manager, 'uploaded');
  await manager.resume('r-run');
  await uploaded;
  t.equal(await sha256File(stored), await sha256File(file), 'stored after resume');
});
