// A key in a store is never overwritten: each store refuses to replace an object this upload did not
// write (Qiniu insertOnly → 614, S3 If-None-Match plus a HeadObject first, local link-not-rename),
// while a retry after our own write whose answer was lost is recognised and succeeds.
import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { LocalUploader } from '../../plugin/storage/LocalUploader';
import { QiniuUploader } from '../../plugin/storage/QiniuUploader';
import { S3Uploader } from '../../plugin/storage/S3Uploader';
import { UploadManager } from '../../plugin/storage/UploadManager';
import type { UploadJobStatus } from '../../plugin/storage/UploadJob';
import type { Uploader } from '../../plugin/storage/Uploader';
import { RecordingErrorCode } from '../../signaling/errors';
import { QiniuTestServer } from '../support/qiniuServer';
import { startS3Server } from '../support/s3Server';
import { StallingProxy } from '../support/stallingProxy';
import { MiB, makeRandomFile, makeTempDir, once, sha256, sha256File } from '../support/storageFixtures';

const QINIU_AK = 'noOverwriteAccessKey_abcdefghijklmnopq';
const QINIU_SK = 'noOverwriteSecretKey_abcdefghijklmnopq';
const S3_AK = 'NOOVERWRITEKEY';
const S3_SK = 'noOverwriteSecret/8h2+Kq';
const BUCKET = 'recordings';

interface StoreUnderTest {
  name: string;
  /** Small (one request) and large (multipart / resumable) uploads. */
  uploader(): Uploader;
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
}

async function checkStore(t: tap.Test, store: StoreUnderTest, root: string): Promise<void> {
  for (const [size, how] of [
    [200 * 1024, 'one request'],
    [6 * MiB + 123, 'in parts'],
  ] as const) {
    const key = `meetings/${how.replace(' ', '-')}.mp4`;
    const file = await makeRandomFile(root, `work/${store.name}-${size}.mp4`, size);
    const foreign = Buffer.from(`somebody else's recording at ${key}`);
    await store.put(key, foreign);
    const refused = await store
      .uploader()
      .upload({ jobId: `job-${store.name}-${size}`, localPath: file, objectKey: key, size }, () => undefined)
      .catch((error: unknown) => error);
    t.match(refused, { code: RecordingErrorCode.UploaderFailed, kind: 'user', message: /refusing to overwrite/ }, `${store.name} (${how}): an existing key is a user error`);
    t.same(await store.get(key), foreign, `${store.name} (${how}): the existing object is untouched`);

    const freshKey = `meetings/${how.replace(' ', '-')}-fresh.mp4`;
    const request = { jobId: `job-${store.name}-${size}-fresh`, localPath: file, objectKey: freshKey, size };
    await store.uploader().upload(request, () => undefined);
    t.equal(sha256((await store.get(freshKey))!), await sha256File(file), `${store.name} (${how}): a fresh key is stored, bytes identical`);
    // The same job again: what a retry does when the store kept the object but its answer was lost.
    const retried = await store.uploader().upload(request, () => undefined).then(
      (result) => result,
      (error: unknown) => error,
    );
    t.match(retried, { location: new RegExp(freshKey) }, `${store.name} (${how}): a retry of the job that wrote it succeeds`);
    const other = await makeRandomFile(root, `work/${store.name}-${size}-other.mp4`, size);
    const stolen = await store
      .uploader()
      .upload({ jobId: `job-${store.name}-${size}-other`, localPath: other, objectKey: freshKey, size }, () => undefined)
      .catch((error: unknown) => error);
    t.match(stolen, { kind: 'user', message: /refusing to overwrite/ }, `${store.name} (${how}): another upload to that key is refused`);
    t.equal(sha256((await store.get(freshKey))!), await sha256File(file), `${store.name} (${how}): and the first object stays`);
  }
}

t.test('local store: an existing file is never replaced', async (t) => {
  const root = await makeTempDir('no-overwrite-local');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const recordingsDir = path.join(root, 'recordings');
  await checkStore(
    t,
    {
      name: 'local',
      uploader: () => new LocalUploader({ recordingsDir }),
      put: async (key, data) => {
        await fsp.mkdir(path.dirname(path.join(recordingsDir, key)), { recursive: true });
        await fsp.writeFile(path.join(recordingsDir, key), data);
      },
      get: (key) => fsp.readFile(path.join(recordingsDir, key)).catch(() => undefined),
    },
    root,
  );
  const leftovers = fs.readdirSync(path.join(recordingsDir, 'meetings')).filter((name) => name.endsWith('.tmp'));
  t.same(leftovers, [], 'no temp file left beside the objects');
});

t.test('S3 (s3rver): an existing object is never replaced', async (t) => {
  const s3 = await startS3Server({ buckets: [BUCKET], accessKey: S3_AK, secretKey: S3_SK });
  t.teardown(() => s3.close());
  const root = await makeTempDir('no-overwrite-s3');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  // Through a recording hop: s3rver ignores If-None-Match, so the test checks it is sent.
  const proxy = await StallingProxy.start(s3.endpoint);
  t.teardown(() => proxy.close());
  const target = { vendor: 's3' as const, bucket: BUCKET, region: s3.region, endpoint: proxy.endpoint, accessKey: S3_AK, secretKey: S3_SK };
  await checkStore(
    t,
    {
      name: 's3',
      uploader: () => new S3Uploader({ target, resumeDir: path.join(root, 'resume'), partSize: 5 * MiB }),
      put: (key, data) => s3.putObject(BUCKET, key, data),
      get: (key) => s3.getObject(BUCKET, key),
    },
    root,
  );
  const writes = proxy.requests.filter(
    (request) => (request.method === 'PUT' && !request.url.searchParams.has('partNumber')) || (request.method === 'POST' && request.url.searchParams.has('uploadId')),
  );
  t.ok(writes.length >= 2, `PutObject and CompleteMultipartUpload were sent (${writes.length})`);
  t.ok(writes.every((request) => request.headers['if-none-match'] === '*'), 'each with If-None-Match: * (S3 refuses with 412 when the key exists)');
  t.ok(proxy.requests.some((request) => request.method === 'HEAD'), 'and a HeadObject looked first');
});

t.test('Qiniu (test server, insertOnly): an existing object is never replaced', async (t) => {
  const server = await QiniuTestServer.start({ accounts: { [QINIU_AK]: QINIU_SK }, buckets: [BUCKET] });
  t.teardown(() => server.close());
  const root = await makeTempDir('no-overwrite-qiniu');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const target = { vendor: 'qiniu' as const, bucket: BUCKET, endpoint: server.endpoint, accessKey: QINIU_AK, secretKey: QINIU_SK };
  await checkStore(
    t,
    {
      name: 'qiniu',
      uploader: () => new QiniuUploader({ target, resumeDir: path.join(root, 'resume'), formUploadLimit: 1 * MiB, partSize: 1 * MiB }),
      put: async (key, data) => server.putObject(BUCKET, key, data),
      get: async (key) => server.getObject(BUCKET, key),
    },
    root,
  );
  t.ok(server.count('form', 614) >= 1 && server.count('complete', 614) >= 1, 'the store itself answered 614 (form and resumable)');
});

t.test('a key taken by someone else: the file goes to backup with UploaderFailed and is never lost', async (t) => {
  const root = await makeTempDir('no-overwrite-backup');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const recordingsDir = path.join(root, 'recordings');
  const file = await makeRandomFile(root, 'work/rec.mp4', 300 * 1024);
  await fsp.mkdir(path.join(recordingsDir, 'ch'), { recursive: true });
  await fsp.writeFile(path.join(recordingsDir, 'ch', 'rec.mp4'), 'not ours');
  const manager = await UploadManager.open({
    stateDir: path.join(root, 'state'),
    backupDir: path.join(root, 'backup'),
    recordingsDir,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    backgroundRetry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  t.teardown(() => manager.close());
  const failure = once<[UploadJobStatus, string, string]>(manager, 'uploaderFailure');
  const backuped = once<[UploadJobStatus, string]>(manager, 'backuped');
  await manager.enqueue({ recordingId: 'r', channelId: 'ch', localPath: file, objectKey: 'ch/rec.mp4', target: { vendor: 'local' } });
  const [job, code, message] = await failure;
  t.equal(code, RecordingErrorCode.UploaderFailed);
  t.match(message, /refusing to overwrite/, 'the reason names the conflict');
  t.equal(job.attempts, 1, 'a conflict is not retried at once (user error)');
  const [backedUp] = await backuped;
  t.equal(sha256(await fsp.readFile(backedUp.backup!.localPath!)), await sha256File(file), 'the backup holds the recording');
  t.equal(await fsp.readFile(path.join(recordingsDir, 'ch', 'rec.mp4'), 'utf8'), 'not ours', 'the existing file is untouched');
  t.ok(fs.existsSync(file), 'the recorder file is kept');
});
