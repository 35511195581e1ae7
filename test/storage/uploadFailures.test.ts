import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UploadManager } from '../../plugin/storage/UploadManager';
import { RecordingErrorCode } from '../../signaling/errors';
import type { UploadJobStatus } from '../../plugin/storage/UploadJob';
import { backoffDelay } from '../../plugin/storage/backoff';
import { QiniuTestServer } from '../support/qiniuServer';
import { MiB, captureLogs, makeRandomFile, makeTempDir, once, recordEvents, sha256, sha256File } from '../support/storageFixtures';

const AK = 'failureTestAccessKey_abcdefghijklmnopqr';
const SK = 'failureTestSecretKey_Qm4Rt8Wz1Xc5Vb9Nk2';
const WRONG_SK = 'failureTestWrongKey_Jd7Fh3Lp6Ys0Ae4Gu8Ti';
const BUCKET = 'primary';

async function setup(t: tap.Test, name: string) {
  const logs = captureLogs();
  t.teardown(() => logs.restore());
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: [BUCKET, 'backup-bucket'] });
  t.teardown(() => server.close());
  const root = await makeTempDir(name);
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const dirs = { stateDir: path.join(root, 'state'), backupDir: path.join(root, 'backup'), recordingsDir: path.join(root, 'recordings') };
  return { logs, server, root, dirs };
}

t.test('backoff is exponential, jittered and capped', async (t) => {
  const options = { baseDelayMs: 100, maxDelayMs: 1000 };
  t.same([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options, () => 0)), [50, 100, 200, 400, 500, 500], 'floor: half the step');
  t.same([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options, () => 1)), [100, 200, 400, 800, 1000, 1000], 'ceiling: the step, capped');
  const jittered = new Set(Array.from({ length: 20 }, () => backoffDelay(3, options)));
  t.ok(jittered.size > 1, 'random jitter spreads retries');
});

t.test('wrong secret key: 401 is a user error, no retries, file backed up, events with codes, nothing deleted', async (t) => {
  const { logs, server, root, dirs } = await setup(t, 'qiniu-401');
  const file = await makeRandomFile(root, 'work/rec.mp4', 6 * MiB);
  const manager = await UploadManager.open({
    ...dirs,
    retry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 10 },
    // Long enough that the background loop does not run during this test.
    backgroundRetry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  t.teardown(() => manager.close());
  const recorded = recordEvents(manager);
  const failure = once<[UploadJobStatus, string, string]>(manager, 'uploaderFailure');
  const backuped = once<[UploadJobStatus, string]>(manager, 'backuped');
  const job = await manager.enqueue({
    recordingId: 'r',
    channelId: 'c',
    localPath: file,
    objectKey: 'c/rec.mp4',
    target: { vendor: 'qiniu', bucket: BUCKET, accessKey: AK, secretKey: WRONG_SK, endpoint: server.endpoint },
  });
  const [failedJob, code, message] = await failure;
  t.equal(code, RecordingErrorCode.UploaderFailed);
  t.match(message, /401/);
  t.equal(failedJob.lastError?.kind, 'user', 'classified as the user\'s error');
  t.equal(failedJob.lastError?.status, 401);
  t.equal(failedJob.attempts, 1, 'a user error is not retried at once');
  const [backedUpJob, fileName] = await backuped;
  t.equal(fileName, 'c/rec.mp4');
  t.equal(backedUpJob.state, 'backedUp');
  const backupCopy = backedUpJob.backup?.localPath;
  t.ok(backupCopy && backupCopy.startsWith(dirs.backupDir), 'copy in the backup dir');
  t.equal(await sha256File(backupCopy!), await sha256File(file), 'backup bytes identical');
  t.ok(fs.existsSync(file), 'local file not deleted');
  t.equal(server.count('init', 401), 1, 'the server answered 401');
  t.equal(server.objectKeys(BUCKET).length, 0);
  // The durable record says backedUp, so a restart goes straight to the background loop.
  const record = JSON.parse(fs.readFileSync(path.join(dirs.stateDir, 'jobs', `${job.id}.json`), 'utf8'));
  t.equal(record.phase, 'backedUp');
  t.equal(recorded.events.filter((e) => e.name === 'uploaded').length, 0);

  const everything = logs.lines.join('\n') + recorded.json() + JSON.stringify(manager.list());
  t.notOk(everything.includes(WRONG_SK), 'secret absent from logs, events and list()');
});

t.test('store down: retries with backoff, backup, store back, background re-upload, uploaded', async (t) => {
  const { logs, server, root, dirs } = await setup(t, 'qiniu-down');
  const file = await makeRandomFile(root, 'work/rec.mp4', 10 * MiB);
  await server.goDown();
  const manager = await UploadManager.open({
    ...dirs,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 40 },
    backgroundRetry: { baseDelayMs: 50, maxDelayMs: 200 },
  });
  t.teardown(() => manager.close());
  const recorded = recordEvents(manager);
  const backuped = once<[UploadJobStatus, string]>(manager, 'backuped');
  const uploaded = once<[UploadJobStatus, string]>(manager, 'uploaded');
  await manager.enqueue({
    recordingId: 'r',
    channelId: 'c',
    localPath: file,
    objectKey: 'c/rec.mp4',
    target: { vendor: 'qiniu', bucket: BUCKET, accessKey: AK, secretKey: SK, endpoint: server.endpoint },
  });
  const [backedUpJob] = await backuped;
  t.equal(backedUpJob.attempts, 3, 'all retry attempts used before backup');
  t.equal(backedUpJob.lastError?.kind, 'transient', 'connection refused is transient');
  const failures = recorded.events.filter((e) => e.name === 'uploaderFailure');
  t.equal(failures.length, 1);
  t.equal(failures[0]!.args[1], RecordingErrorCode.UploaderFailed);
  t.equal(server.requests.length, 0, 'nothing reached the server while it was down');

  await server.comeUp();
  const [uploadedJob, fileName] = await uploaded;
  t.equal(fileName, 'c/rec.mp4');
  t.equal(uploadedJob.state, 'uploaded');
  t.equal(uploadedJob.percent, 100);
  t.equal(sha256(server.getObject(BUCKET, 'c/rec.mp4')!), await sha256File(file), 'bytes identical after background re-upload');
  t.same(fs.readdirSync(dirs.backupDir), [], 'backup copy removed only after the store acknowledged');
  t.same(fs.readdirSync(path.join(dirs.stateDir, 'jobs')), [], 'job removed from the durable queue');
  t.ok(fs.existsSync(file), 'recorder file kept');
  const names = recorded.events.map((e) => e.name).filter((n) => n !== 'progress');
  t.same(names, ['uploaderFailure', 'backuped', 'uploaded'], 'event order');
  t.notOk(logs.lines.join('\n').includes(SK) || recorded.json().includes(SK), 'no secret leaked');
});

t.test('primary refuses (no such bucket): the optional backup bucket receives the file', async (t) => {
  const { server, root, dirs } = await setup(t, 'qiniu-backup-bucket');
  const file = await makeRandomFile(root, 'work/rec.mp4', 2 * MiB);
  const manager = await UploadManager.open({
    ...dirs,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
    backgroundRetry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
    backupTarget: { vendor: 'qiniu', bucket: 'backup-bucket', accessKey: AK, secretKey: SK, endpoint: server.endpoint },
  });
  t.teardown(() => manager.close());
  const failure = once<[UploadJobStatus, string, string]>(manager, 'uploaderFailure');
  const backuped = once<[UploadJobStatus, string]>(manager, 'backuped');
  await manager.enqueue({
    recordingId: 'r',
    channelId: 'c',
    localPath: file,
    objectKey: 'c/rec.mp4',
    target: { vendor: 'qiniu', bucket: 'missing-bucket', accessKey: AK, secretKey: SK, endpoint: server.endpoint },
  });
  const [failedJob, , message] = await failure;
  t.match(message, /631/);
  t.equal(failedJob.lastError?.kind, 'user');
  const [job] = await backuped;
  t.equal(job.backup?.bucketLocation, 'qiniu:backup-bucket/c/rec.mp4');
  t.equal(sha256(server.getObject('backup-bucket', 'c/rec.mp4')!), await sha256File(file), 'backup bucket holds identical bytes');
  t.equal(await sha256File(job.backup!.localPath!), await sha256File(file), 'and the local backup copy stays as the re-upload source');
  t.ok(job.percent < 100, 'backup progress does not count as primary progress');
});

t.test('a stalled request times out and the retry resumes the upload', async (t) => {
  const { server, root, dirs } = await setup(t, 'qiniu-stall');
  const file = await makeRandomFile(root, 'work/rec.mp4', 9 * MiB);
  const manager = await UploadManager.open({
    ...dirs,
    retry: { attempts: 6, baseDelayMs: 5, maxDelayMs: 20 },
    // Short enough for a test; generous enough that a loaded 2-core box does not trip it on healthy requests.
    tuning: { qiniu: { requestTimeoutMs: 1500 } },
  });
  t.teardown(() => manager.close());
  server.stallNext(1, (info) => info.kind === 'part' && info.partNumber === 2);
  const uploaded = once<[UploadJobStatus]>(manager, 'uploaded');
  await manager.enqueue({ recordingId: 'r', channelId: 'c', localPath: file, objectKey: 'rec.mp4', target: { vendor: 'qiniu', bucket: BUCKET, accessKey: AK, secretKey: SK, endpoint: server.endpoint } });
  const [job] = await uploaded;
  t.ok(job.attempts >= 2, 'the stalled attempt failed and another one finished');
  t.equal(server.requests.filter((r) => r.status === 'stalled').length, 1);
  t.equal(sha256(server.getObject(BUCKET, 'rec.mp4')!), await sha256File(file));
});
