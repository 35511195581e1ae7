import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UploadManager } from '../../plugin/storage/UploadManager';
import type { UploadJobStatus } from '../../plugin/storage/UploadJob';
import { QiniuTestServer } from '../support/qiniuServer';
import { uploadThenKill } from '../support/uploadChildProcess';
import { MiB, captureLogs, makeRandomFile, makeTempDir, once, recordEvents, sha256, sha256File } from '../support/storageFixtures';

const AK = 'restartTestAccessKey_abcdefghijklmnopq';
const SK = 'restartTestSecretKey_Zx8Cv6Bn4Mm2Ll0Kk9';
const BUCKET = 'recordings';

t.test('process killed mid-upload: a new manager on the same stateDir resumes from the parts already sent', async (t) => {
  const logs = captureLogs();
  t.teardown(() => logs.restore());
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: [BUCKET] });
  t.teardown(() => server.close());
  const root = await makeTempDir('qiniu-restart');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const file = await makeRandomFile(root, 'work/rec.mp4', 20 * MiB + 4321);
  const dirs = { stateDir: path.join(root, 'state'), backupDir: path.join(root, 'backup'), recordingsDir: path.join(root, 'recordings') };
  const options = { ...dirs, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 }, backgroundRetry: { baseDelayMs: 50, maxDelayMs: 100 } };
  const request = {
    recordingId: 'rec-1',
    channelId: 'ch-1',
    localPath: file,
    objectKey: 'ch-1/rec.mp4',
    target: { vendor: 'qiniu' as const, bucket: BUCKET, accessKey: AK, secretKey: SK, endpoint: server.endpoint },
  };

  // Part 3 hangs in the server, so the kill lands deterministically after parts 1–2 were acknowledged.
  server.stallNext(1, (info) => info.kind === 'part' && info.partNumber === 3);
  const stalled = once(server, 'stalled');
  const { job, signal } = await uploadThenKill(options, request, stalled);
  t.equal(signal, 'SIGKILL', 'child killed');

  t.equal(server.count('part', 200), 2, 'two parts acknowledged before the kill');
  t.equal(server.getObject(BUCKET, 'ch-1/rec.mp4'), undefined, 'no object yet');
  t.ok(fs.existsSync(path.join(dirs.stateDir, 'jobs', `${job.id}.json`)), 'job survived in the durable queue');
  const resume = JSON.parse(fs.readFileSync(path.join(dirs.stateDir, 'qiniu-resume', `${job.id}.json`), 'utf8'));
  t.equal(resume.etags.length, 2, 'resume state holds the two acknowledged parts');

  // "Restart": a new manager in this process, same stateDir.
  const manager = await UploadManager.open(options);
  t.teardown(() => manager.close());
  const recorded = recordEvents(manager);
  t.same(manager.list().map((s) => [s.id, s.state]), [[job.id, 'queued']], 'the pending job is known at once');
  const [uploadedJob, fileName] = await once<[UploadJobStatus, string]>(manager, 'uploaded');
  t.equal(uploadedJob.id, job.id, 'same job id');
  t.equal(fileName, 'ch-1/rec.mp4');
  t.equal(sha256(server.getObject(BUCKET, 'ch-1/rec.mp4')!), await sha256File(file), 'bytes identical');
  t.equal(server.count('init', 200), 1, 'no second init: the upload id was reused');
  for (const n of [1, 2]) {
    t.equal(server.requests.filter((r) => r.kind === 'part' && r.partNumber === n && r.status === 200).length, 1, `part ${n} not sent again`);
  }
  const progress = recorded.events.filter((e) => e.name === 'progress').map((e) => e.args[1] as number);
  t.same(progress, [...progress].sort((a, b) => a - b), 'progress monotonic after restart');
  t.equal(progress.at(-1), 100);
  t.same(fs.readdirSync(path.join(dirs.stateDir, 'jobs')), [], 'queue empty');
  t.notOk(logs.lines.join('\n').includes(SK) || recorded.json().includes(SK) || JSON.stringify(manager.list()).includes(SK), 'no secret leaked');
});

t.test('a job backed up before a restart is re-uploaded by the next process', async (t) => {
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: [BUCKET] });
  t.teardown(() => server.close());
  const root = await makeTempDir('qiniu-restart-backup');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const file = await makeRandomFile(root, 'work/rec.mp4', 3 * MiB);
  const dirs = { stateDir: path.join(root, 'state'), backupDir: path.join(root, 'backup'), recordingsDir: path.join(root, 'recordings') };
  const options = { ...dirs, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 }, backgroundRetry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } };
  await server.goDown();
  const first = await UploadManager.open(options);
  const backuped = once<[UploadJobStatus]>(first, 'backuped');
  await first.enqueue({ recordingId: 'r', channelId: 'c', localPath: file, objectKey: 'rec.mp4', target: { vendor: 'qiniu', bucket: BUCKET, accessKey: AK, secretKey: SK, endpoint: server.endpoint } });
  const [job] = await backuped;
  await first.close();
  await first.close(); // idempotent
  // The recorder may clean its work dir once the file is backed up: the backup copy is the source now.
  const expected = await sha256File(file);
  await fsp.rm(file);
  await server.comeUp();

  const second = await UploadManager.open({ ...options, backgroundRetry: { baseDelayMs: 10, maxDelayMs: 20 } });
  t.teardown(() => second.close());
  const [uploaded] = await once<[UploadJobStatus]>(second, 'uploaded');
  t.equal(uploaded.id, job.id);
  t.equal(sha256(server.getObject(BUCKET, 'rec.mp4')!), expected, 'uploaded from the backup copy, bytes identical');
  t.notOk(fs.existsSync(job.backup!.localPath!), 'backup copy removed after the acknowledgement');
});
