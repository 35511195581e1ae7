import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UploadManager } from '../../plugin/storage/UploadManager';
import type { StorageTarget } from '../../signaling/recordParam';
import { QiniuTestServer } from '../support/qiniuServer';
import { MiB, captureLogs, makeRandomFile, makeTempDir, once, percents, recordEvents, sha256, sha256File } from '../support/storageFixtures';

const AK = 'uploadTestAccessKey_abcdefghijklmnopqrs';
const SK = 'uploadTestSecretKey_7yq3Lp0ZxW9vBn2Kd5Hj';
const BUCKET = 'recordings';

t.test('Qiniu: a 21 MiB recording goes up in v2 parts, a small one by form; bytes identical, progress to 100, no secret anywhere', async (t) => {
  const logs = captureLogs();
  t.teardown(() => logs.restore());
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: [BUCKET] });
  t.teardown(() => server.close());
  const root = await makeTempDir('qiniu-upload');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const big = await makeRandomFile(root, 'work/big.mp4', 21 * MiB + 12345);
  const small = await makeRandomFile(root, 'work/small.m4a', 300 * 1024);

  const manager = await UploadManager.open({
    stateDir: path.join(root, 'state'),
    backupDir: path.join(root, 'backup'),
    recordingsDir: path.join(root, 'recordings'),
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
  t.teardown(() => manager.close());
  const recorded = recordEvents(manager);
  const target: StorageTarget = { vendor: 'qiniu', bucket: BUCKET, accessKey: AK, secretKey: SK, endpoint: server.endpoint };

  const uploads = new Map<string, string>();
  const allUploaded = new Promise<void>((resolve) =>
    manager.on('uploaded', (job, fileName) => {
      uploads.set(job.id, fileName);
      if (uploads.size === 2) resolve();
    }),
  );
  const bigJob = await manager.enqueue({ recordingId: 'rec-1', channelId: 'ch-1', localPath: big, objectKey: 'ch-1/big.mp4', target });
  const smallJob = await manager.enqueue({ recordingId: 'rec-2', channelId: 'ch-1', localPath: small, objectKey: 'ch-1/small.m4a', target });
  // Persisted before enqueue resolved.
  t.ok(fs.existsSync(path.join(root, 'state', 'jobs', `${bigJob.id}.json`)), 'job on disk when enqueue resolves');
  await allUploaded;

  t.equal(sha256(server.getObject(BUCKET, 'ch-1/big.mp4')!), await sha256File(big), 'big object: sha256 identical');
  t.equal(sha256(server.getObject(BUCKET, 'ch-1/small.m4a')!), await sha256File(small), 'small object: sha256 identical');
  t.ok(server.count('part', 200) >= 6, `big file went in parts (${server.count('part', 200)})`);
  t.equal(server.count('init', 200), 1);
  t.equal(server.count('complete', 200), 1);
  t.equal(server.count('form', 200), 1, 'small file went by form upload');

  const bigPercents = recorded.events.filter((e) => e.name === 'progress' && (e.args[0] as { id: string }).id === bigJob.id).map((e) => e.args[1] as number);
  t.ok(bigPercents.length >= 5, 'several progress reports for the big file');
  t.same(bigPercents, [...bigPercents].sort((a, b) => a - b), 'monotonic');
  t.equal(new Set(bigPercents).size, bigPercents.length, 'strictly increasing (no repeats)');
  t.equal(bigPercents.at(-1), 100, 'reaches 100');
  const smallPercents = recorded.events.filter((e) => e.name === 'progress' && (e.args[0] as { id: string }).id === smallJob.id).map((e) => e.args[1] as number);
  t.equal(smallPercents.at(-1), 100);
  // 100 arrives before 'uploaded' for the same job, never after.
  const order = recorded.events.filter((e) => (e.args[0] as { id: string }).id === bigJob.id).map((e) => e.name);
  t.equal(order.at(-1), 'uploaded');

  const statuses = manager.list();
  t.same(statuses.map((s) => s.state).sort(), ['uploaded', 'uploaded']);
  t.same(fs.readdirSync(path.join(root, 'state', 'jobs')), [], 'queue empty once acknowledged');
  t.ok(fs.existsSync(big) && fs.existsSync(small), 'local files kept (deleteLocalAfterUpload off)');

  const everything = logs.lines.join('\n') + recorded.json() + JSON.stringify(statuses);
  t.ok(logs.lines.some((l) => l.includes(bigJob.id)), 'logs were captured');
  t.notOk(everything.includes(SK), 'secret key in no log line, event or list() answer');
  t.notOk(JSON.stringify(statuses).includes(AK), 'access key not in list() either');
  t.equal(percents(recorded.events).filter((p) => p > 100 || p < 0).length, 0);
});

t.test('Qiniu: transient 503s are retried and the upload still completes without backup', async (t) => {
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: [BUCKET] });
  t.teardown(() => server.close());
  const root = await makeTempDir('qiniu-503');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const file = await makeRandomFile(root, 'work/rec.mp4', 9 * MiB);
  const manager = await UploadManager.open({
    stateDir: path.join(root, 'state'),
    backupDir: path.join(root, 'backup'),
    recordingsDir: path.join(root, 'recordings'),
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
  });
  t.teardown(() => manager.close());
  const recorded = recordEvents(manager);
  // Fail the second part twice: the retries must continue from part 2, not resend part 1.
  server.failNext(2, 503, 'service unavailable', (info) => info.kind === 'part' && info.partNumber === 2);
  const done = once(manager, 'uploaded');
  await manager.enqueue({ recordingId: 'r', channelId: 'c', localPath: file, objectKey: 'rec.mp4', target: { vendor: 'qiniu', bucket: BUCKET, accessKey: AK, secretKey: SK, endpoint: server.endpoint } });
  const [job] = await done;
  t.equal(sha256(server.getObject(BUCKET, 'rec.mp4')!), await sha256File(file));
  t.equal((job as { attempts: number }).attempts, 3, 'two failures, third attempt succeeded');
  t.equal(server.requests.filter((r) => r.kind === 'part' && r.partNumber === 1 && r.status === 200).length, 1, 'part 1 sent once: retries resumed');
  t.equal(recorded.events.filter((e) => e.name === 'backuped' || e.name === 'uploaderFailure').length, 0, 'no backup, no failure event');
  t.same(fs.readdirSync(path.join(root, 'backup')), []);
});
