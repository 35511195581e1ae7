/**
 * S3 multipart uploads survive the process: killed after two parts were acknowledged, a new manager on
 * the same stateDir sends only the missing parts to the same upload and the object is byte-identical.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { S3Uploader } from '../../plugin/storage/S3Uploader';
import type { StorageError } from '../../plugin/storage/StorageError';
import { UploadManager } from '../../plugin/storage/UploadManager';
import type { UploadJobStatus } from '../../plugin/storage/UploadJob';
import { startS3Server } from '../support/s3Server';
import { StallingProxy } from '../support/stallingProxy';
import { uploadThenKill } from '../support/uploadChildProcess';
import { MiB, captureLogs, makeRandomFile, makeTempDir, once, recordEvents, sha256, sha256File } from '../support/storageFixtures';

const AK = 'S3RESTARTACCESSKEY';
const SK = 's3RestartSecret/Qw8Er5Ty2Ui9';
const BUCKET = 'recordings';
const PART = 5 * MiB;

t.test('S3: process killed mid-upload, a new manager resumes the same multipart upload from the parts already stored', async (t) => {
  const logs = captureLogs();
  t.teardown(() => logs.restore());
  const s3 = await startS3Server({ buckets: [BUCKET], accessKey: AK, secretKey: SK });
  t.teardown(() => s3.close());
  const proxy = await StallingProxy.start(s3.endpoint);
  t.teardown(() => proxy.close());
  const root = await makeTempDir('s3-restart');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const file = await makeRandomFile(root, 'work/rec.mp4', 4 * PART + 777);
  const dirs = { stateDir: path.join(root, 'state'), backupDir: path.join(root, 'backup'), recordingsDir: path.join(root, 'recordings') };
  // One part in flight at a time, so "parts 1–2 acknowledged, 3 held" is exact.
  const options = { ...dirs, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 }, backgroundRetry: { baseDelayMs: 50, maxDelayMs: 100 }, tuning: { s3: { partSize: PART, queueSize: 1, maxAttempts: 1 } } };
  const request = {
    recordingId: 'rec-1',
    channelId: 'ch-1',
    localPath: file,
    objectKey: 'ch-1/rec.mp4',
    target: { vendor: 's3' as const, bucket: BUCKET, region: s3.region, accessKey: AK, secretKey: SK, endpoint: proxy.endpoint },
  };

  proxy.stallNext((r) => r.method === 'PUT' && r.url.searchParams.get('partNumber') === '3');
  const stalled = once(proxy, 'stalled');
  const { job, signal } = await uploadThenKill(options, request, stalled);
  t.equal(signal, 'SIGKILL', 'child killed');

  t.same(proxy.acknowledgedParts(), [1, 2], 'two parts acknowledged before the kill');
  t.equal(await s3.getObject(BUCKET, 'ch-1/rec.mp4'), undefined, 'no object yet');
  const resume = JSON.parse(fs.readFileSync(path.join(dirs.stateDir, 's3-resume', `${job.id}.json`), 'utf8'));
  t.same(resume.parts.map((p: { PartNumber: number }) => p.PartNumber), [1, 2], 'resume state holds the two acknowledged parts');
  t.notOk(JSON.stringify(resume).includes(SK), 'resume state holds no secret');

  const manager = await UploadManager.open(options);
  t.teardown(() => manager.close());
  const recorded = recordEvents(manager);
  const [uploadedJob, fileName] = await once<[UploadJobStatus, string]>(manager, 'uploaded');
  t.equal(uploadedJob.id, job.id, 'same job id');
  t.equal(fileName, 'ch-1/rec.mp4');
  t.equal(sha256((await s3.getObject(BUCKET, 'ch-1/rec.mp4'))!), await sha256File(file), 'bytes identical');
  t.equal(proxy.count('POST', 'uploads'), 1, 'one multipart upload created: the second process continued it');
  t.same(proxy.acknowledgedParts(), [1, 2, 3, 4, 5], 'parts 1 and 2 were not sent again');
  const progress = recorded.events.filter((e) => e.name === 'progress').map((e) => e.args[1] as number);
  t.same(progress, [...progress].sort((a, b) => a - b), 'progress monotonic after restart');
  t.ok(progress[0]! >= 40, `progress resumes where the parts stood (${progress[0]}%)`);
  t.equal(progress.at(-1), 100);
  t.same(fs.readdirSync(path.join(dirs.stateDir, 'jobs')), [], 'queue empty');
  t.notOk(fs.existsSync(path.join(dirs.stateDir, 's3-resume', `${job.id}.json`)), 'resume state removed');
  t.notOk(logs.lines.join('\n').includes(SK) || recorded.json().includes(SK), 'no secret leaked');
});

t.test('S3: stale resume state is dropped (other size) or outlived (store forgot the upload); bytes identical', async (t) => {
  const s3 = await startS3Server({ buckets: [BUCKET], accessKey: AK, secretKey: SK });
  t.teardown(() => s3.close());
  const proxy = await StallingProxy.start(s3.endpoint);
  t.teardown(() => proxy.close());
  const root = await makeTempDir('s3-stale');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const file = await makeRandomFile(root, 'work/rec.mp4', 2 * PART + 5);
  const resumeDir = path.join(root, 's3-resume');
  const uploader = new S3Uploader({ target: { vendor: 's3', bucket: BUCKET, region: s3.region, accessKey: AK, secretKey: SK, endpoint: proxy.endpoint }, resumeDir, partSize: PART, queueSize: 1, maxAttempts: 1 });
  t.teardown(() => uploader.close());
  const size = fs.statSync(file).size;
  const request = (jobId: string, objectKey: string) => ({ jobId, localPath: file, objectKey, size });
  const writeState = (jobId: string, state: object): void => {
    fs.mkdirSync(resumeDir, { recursive: true });
    fs.writeFileSync(path.join(resumeDir, `${jobId}.json`), JSON.stringify({ version: 1, bucket: BUCKET, partSize: PART, ...state }));
  };

  writeState('other-size', { objectKey: 'a.mp4', size: 999, uploadId: 'stale', parts: [{ PartNumber: 1, ETag: '"x"' }] });
  await uploader.upload(request('other-size', 'a.mp4'), () => undefined);
  t.equal(sha256((await s3.getObject(BUCKET, 'a.mp4'))!), await sha256File(file), 'state for another size: ignored, bytes identical');

  // Real S3 answers NoSuchUpload (dropped at once). s3rver takes parts for any upload id and answers
  // 500 at completion: the first attempt stores every part (not a refusal), the next three are refused
  // before taking one, and then the upload starts over.
  writeState('forgotten', { objectKey: 'b.mp4', size, uploadId: 'the-store-never-heard-of-it', parts: [] });
  const failures: string[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await uploader.upload(request('forgotten', 'b.mp4'), () => undefined);
      break;
    } catch (error) {
      failures.push((error as StorageError).kind);
    }
  }
  t.same(failures, ['transient', 'transient', 'transient', 'transient'], 'an upload the store refuses: transient failures until three refusals in a row, then it starts over');
  t.notOk(fs.existsSync(path.join(resumeDir, 'forgotten.json')), 'no resume state left');
  t.equal(sha256((await s3.getObject(BUCKET, 'b.mp4'))!), await sha256File(file), 'and succeeds, bytes identical');

  // An outage (nothing answers) does not count against the parts already stored.
  writeState('outage', { objectKey: 'c.mp4', size, uploadId: 'kept', parts: [{ PartNumber: 1, ETag: '"kept"' }] });
  const unreachable = new S3Uploader({ target: { vendor: 's3', bucket: BUCKET, region: s3.region, accessKey: AK, secretKey: SK, endpoint: 'http://127.0.0.1:1' }, resumeDir, partSize: PART, maxAttempts: 1 });
  t.teardown(() => unreachable.close());
  for (let attempt = 1; attempt <= 4; attempt++) await unreachable.upload(request('outage', 'c.mp4'), () => undefined).catch(() => undefined);
  const kept = JSON.parse(fs.readFileSync(path.join(resumeDir, 'outage.json'), 'utf8'));
  t.same([kept.uploadId, kept.parts.length, kept.refusedResumes ?? 0], ['kept', 1, 0], 'four unreachable attempts later the stored parts are still known');
});
