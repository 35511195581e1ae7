import t from 'tap';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  buildLocalRecordParam,
  buildQiniuRecordParam,
  buildS3RecordParam,
  parseRecordParam,
  sanitizeFileName,
  RECORD_PARAM_PREFIX,
} from '../../signaling/recordParam';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { cloudStorageConfigToTarget } from '../../plugin/storage/cloudStorageConfig';
import { UploadManager } from '../../plugin/storage/UploadManager';
import { LocalUploader } from '../../plugin/storage/LocalUploader';
import { makeRandomFile, makeTempDir, sha256File } from '../support/storageFixtures';

const QINIU_AK = 'qiniuAccessKey_0123456789abcdefghijklmn';
const QINIU_SK = 'qiniuSecretKey_0123456789abcdefghijklmn';

/** Asserts `fn` throws InvalidParameter and that the message names `field`. */
function rejectsField(t: tap.Test, fn: () => unknown, field: string, name?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof CodedError, `${name ?? field}: throws CodedError`);
  const error = caught as CodedError;
  t.equal(error?.code, RecordingErrorCode.InvalidParameter, `${name ?? field}: code InvalidParameter`);
  t.match(error?.message ?? '', new RegExp(`invalid ${field.replace(/\./g, '\\.')}\\b`), `${name ?? field}: message names ${field}`);
}

/** Builds a record string around an arbitrary payload (what a hostile client could send). */
function rawParam(payload: unknown): string {
  return RECORD_PARAM_PREFIX + Buffer.from(JSON.stringify(payload)).toString('base64url');
}

t.test('Qiniu builder round trip keeps the seed argument order', async (t) => {
  const s = buildQiniuRecordParam(true, 'my-bucket', QINIU_SK, QINIU_AK, 'rooms/abc/rec.mp4');
  t.ok(s.startsWith('rp1.'));
  t.notMatch(s, /[+/=]/, 'base64url without padding');
  t.same(parseRecordParam(s), {
    version: 1,
    video: true,
    fileName: 'rooms/abc/rec.mp4',
    storage: { vendor: 'qiniu', bucket: 'my-bucket', accessKey: QINIU_AK, secretKey: QINIU_SK },
  });
  const audio = parseRecordParam(buildQiniuRecordParam(false, 'my-bucket', QINIU_SK, QINIU_AK, 'a.m4a'));
  t.equal(audio.video, false);
});

t.test('S3 and local builders round trip', async (t) => {
  const s3 = buildS3RecordParam({
    video: false,
    region: 'eu-west-1',
    bucket: 'rec.example-bucket',
    accessKey: 'AKIAEXAMPLE123',
    secretKey: 'wJalr/XUtnFEMI+K7MDENG=bPxRfiCY',
    fileName: '录制/会议.mp4',
    endpoint: 'http://127.0.0.1:9000/',
  });
  t.same(parseRecordParam(s3), {
    version: 1,
    video: false,
    fileName: '录制/会议.mp4',
    storage: {
      vendor: 's3',
      bucket: 'rec.example-bucket',
      accessKey: 'AKIAEXAMPLE123',
      secretKey: 'wJalr/XUtnFEMI+K7MDENG=bPxRfiCY',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
    },
  });
  t.same(parseRecordParam(buildLocalRecordParam(true, 'x.webm')), { version: 1, video: true, fileName: 'x.webm', storage: { vendor: 'local' } });
});

t.test('bad params are refused with InvalidParameter naming the field', async (t) => {
  const good = { v: 1, video: true, fileName: 'a.mp4', storage: { vendor: 'qiniu', bucket: 'abc', accessKey: QINIU_AK, secretKey: QINIU_SK } };
  rejectsField(t, () => parseRecordParam(''), 'recordString', 'empty');
  rejectsField(t, () => parseRecordParam(42), 'recordString', 'not a string');
  rejectsField(t, () => parseRecordParam('rp9.abc'), 'recordString', 'unknown version prefix');
  rejectsField(t, () => parseRecordParam('rp1.!!!'), 'recordString', 'not base64url');
  rejectsField(t, () => parseRecordParam('rp1.' + Buffer.from('{nope').toString('base64url')), 'recordString', 'not JSON');
  rejectsField(t, () => parseRecordParam('rp1.' + 'A'.repeat(9000)), 'recordString', 'too long');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, v: 2 })), 'v');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, extra: 1 })), 'extra', 'unknown field');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, video: 'yes' })), 'video');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, vendor: 'dropbox' } })), 'storage.vendor');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, bucket: 'UPPER' } })), 'storage.bucket', 'uppercase Qiniu bucket');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, bucket: 'ab' } })), 'storage.bucket', 'short bucket');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, bucket: 'a.b.c' } })), 'storage.bucket', 'dots in a Qiniu bucket');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, bucket: undefined } })), 'storage.bucket', 'missing bucket');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, accessKey: 'has space here' } })), 'storage.accessKey');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, secretKey: 'bad/char+' } })), 'storage.secretKey');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, endpoint: 'ftp://x' } })), 'storage.endpoint');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...good.storage, endpoint: 'http://u:p@host' } })), 'storage.endpoint', 'credentials in endpoint');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { vendor: 'local', bucket: 'abc' } })), 'storage.bucket', 'bucket on local');
  const s3 = { vendor: 's3', bucket: 'abc', accessKey: 'AK123', secretKey: 'SK123', region: 'us-east-1' };
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...s3, region: undefined } })), 'storage.region', 'S3 without region');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...s3, bucket: '192.168.1.1' } })), 'storage.bucket', 'IP bucket');
  rejectsField(t, () => parseRecordParam(rawParam({ ...good, storage: { ...s3, bucket: 'a..b' } })), 'storage.bucket', 'double dot');
  rejectsField(t, () => buildQiniuRecordParam(true, 'Bad_Bucket', QINIU_SK, QINIU_AK, 'a.mp4'), 'storage.bucket', 'builder validates too');
  // The secret never appears in an error message.
  try {
    parseRecordParam(rawParam({ ...good, storage: { ...good.storage, secretKey: QINIU_SK + ' ' } }));
    t.fail('should throw');
  } catch (error) {
    t.notMatch((error as Error).message, QINIU_SK);
  }
});

t.test('hostile file names are refused', async (t) => {
  const hostile: Array<[string, string]> = [
    ['../../etc/passwd', 'parent traversal'],
    ['a/../../b', 'inner traversal'],
    ['/abs/path.mp4', 'absolute'],
    ['a\u0000b', 'NUL'],
    ['a\nb', 'newline'],
    ['a\u001bb', 'escape'],
    ['a\u007fb', 'DEL'],
    ['a\u202eb', 'bidi override'],
    ['a\\..\\b', 'backslash'],
    ['x'.repeat(1000), '1000 chars'],
    ['a/' + 'é'.repeat(200), 'segment over 255 bytes'],
    ['', 'empty'],
    ['a//b', 'empty segment'],
    ['./a', 'dot segment'],
    ['..', 'dot dot'],
    [' a', 'leading whitespace'],
    ['..%2fx', 'percent-encoded traversal (would become a hidden "._stamp.mp4" at the store root)'],
    ['%2e%2e/x', 'percent-encoded dot dot'],
    ['a%2F..%2Fb', 'percent-encoded inner traversal'],
    ['a%2f%2fb', 'percent-encoded empty segment'],
    ['%252e%252e%252fx', 'doubly percent-encoded traversal'],
    ['a%5c..%5cb', 'percent-encoded backslash'],
    ['a%00b', 'percent-encoded NUL'],
    ['.hidden.mp4', 'hidden name'],
    ['dir/.x', 'hidden segment'],
  ];
  for (const [name, why] of hostile) {
    rejectsField(t, () => sanitizeFileName(name), 'fileName', why);
    rejectsField(t, () => parseRecordParam(rawParam({ v: 1, video: true, fileName: name, storage: { vendor: 'local' } })), 'fileName', `${why} in a record param`);
  }
  t.equal(sanitizeFileName('rooms/42/rec-1.mp4'), 'rooms/42/rec-1.mp4');
  t.equal(sanitizeFileName('cafe\u0301.mp4'), 'caf\u00e9.mp4', 'NFC-normalised');
  t.equal(sanitizeFileName('rooms/50%25 off/rec.v1.mp4'), 'rooms/50%25 off/rec.v1.mp4', 'a harmless escape and inner dots stay as given');
  rejectsField(t, () => sanitizeFileName(null), 'fileName', 'non-string');
});

t.test('CloudStorageConfig maps onto the same targets and rules', async (t) => {
  t.same(cloudStorageConfigToTarget({ vendor: 'Qiniu', region: 'z0', bucket: 'rec', accessKey: QINIU_AK, secretKey: QINIU_SK }), {
    vendor: 'qiniu',
    bucket: 'rec',
    accessKey: QINIU_AK,
    secretKey: QINIU_SK,
    region: 'z0',
  });
  t.same(cloudStorageConfigToTarget({ vendor: 'AWS', region: 'us-west-2', bucket: 'rec', accessKey: 'AKIA1', secretKey: 's/k+1' }), {
    vendor: 's3',
    bucket: 'rec',
    accessKey: 'AKIA1',
    secretKey: 's/k+1',
    region: 'us-west-2',
  });
  t.same(cloudStorageConfigToTarget({ vendor: 'Local', region: '', bucket: '', accessKey: '', secretKey: '' }), { vendor: 'local' });
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'Azure' }), 'cloudStorageConfig.vendor');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'S3', region: 'us-east-1', bucket: 'rec', accessKey: 'AK1', secretKey: 'SK1' }), 'cloudStorageConfig.endpoint', 'S3-compatible needs endpoint');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'Qiniu', bucket: 'x', accessKey: QINIU_AK, secretKey: QINIU_SK }), 'cloudStorageConfig.bucket');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'AWS', bucket: 'rec', accessKey: 'AK1', secretKey: 'SK1' }), 'cloudStorageConfig.region');
  rejectsField(t, () => cloudStorageConfigToTarget(null), 'cloudStorageConfig');
});

t.test("CloudStorageConfig: the seed's numeric region and its spelling vender", async (t) => {
  const qiniu = { bucket: 'rec', accessKey: QINIU_AK, secretKey: QINIU_SK };
  const aws = { bucket: 'rec', accessKey: 'AKIA1', secretKey: 's/k+1' };
  t.match(cloudStorageConfigToTarget({ vendor: 'Qiniu', region: 0, ...qiniu }), { vendor: 'qiniu', region: 'z0' }, 'Qiniu 0 → z0 (East China)');
  t.match(cloudStorageConfigToTarget({ vendor: 'Qiniu', region: 3, ...qiniu }), { vendor: 'qiniu', region: 'na0' }, 'Qiniu 3 → na0 (North America)');
  t.match(cloudStorageConfigToTarget({ vendor: 'AWS', region: 0, ...aws }), { vendor: 's3', region: 'us-east-1' }, 'AWS 0 → us-east-1');
  t.match(cloudStorageConfigToTarget({ vendor: 'AWS', region: 4, ...aws }), { vendor: 's3', region: 'eu-west-1' }, 'AWS 4 → eu-west-1');
  t.match(cloudStorageConfigToTarget({ vendor: 'AWS', region: 25, ...aws }), { vendor: 's3', region: 'eu-south-1' }, 'AWS 25 → eu-south-1');
  t.match(cloudStorageConfigToTarget({ vendor: 'AWS', region: 'ap-south-1', ...aws }), { region: 'ap-south-1' }, 'names still work');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'AWS', region: 17, ...aws }), 'cloudStorageConfig.region', 'a number missing from the table');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'Qiniu', region: 9, ...qiniu }), 'cloudStorageConfig.region', 'out of range');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'AWS', region: 1.5, ...aws }), 'cloudStorageConfig.region', 'not an integer');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'AWS', region: -1, ...aws }), 'cloudStorageConfig.region', 'negative');
  t.same(cloudStorageConfigToTarget({ vendor: 'Local', region: 0 }), { vendor: 'local' }, "Local with the struct's default region 0");
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'Local', region: 2 }), 'cloudStorageConfig.region', 'Local has no regions');

  t.match(cloudStorageConfigToTarget({ vender: 'Qiniu', region: 1, ...qiniu }), { vendor: 'qiniu', region: 'z1' }, 'vender alone');
  t.match(cloudStorageConfigToTarget({ vender: 1, region: 7, ...aws }), { vendor: 's3', region: 'eu-central-1' }, "Agora's vendor number 1 = AWS");
  t.match(cloudStorageConfigToTarget({ vendor: 0, region: 2, ...qiniu }), { vendor: 'qiniu', region: 'z2' }, "Agora's vendor number 0 = Qiniu");
  t.match(cloudStorageConfigToTarget({ vendor: 'AWS', vender: 1, region: 0, ...aws }), { vendor: 's3' }, 'both, agreeing');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 'AWS', vender: 'Qiniu', region: 0, ...aws }), 'cloudStorageConfig.vender', 'both, disagreeing');
  rejectsField(t, () => cloudStorageConfigToTarget({ vender: 'Dropbox' }), 'cloudStorageConfig.vender', 'bad vender');
  rejectsField(t, () => cloudStorageConfigToTarget({ vendor: 7 }), 'cloudStorageConfig.vendor', 'unknown vendor number');
  rejectsField(t, () => cloudStorageConfigToTarget({ region: 0, ...aws }), 'cloudStorageConfig.vendor', 'neither');
});

t.test('a local upload of a hostile name cannot write outside the recordings dir', async (t) => {
  const root = await makeTempDir('recparam-local');
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const recordingsDir = path.join(root, 'recordings');
  const source = await makeRandomFile(root, 'work/rec.bin', 64 * 1024);
  const manager = await UploadManager.open({
    stateDir: path.join(root, 'state'),
    backupDir: path.join(root, 'backup'),
    recordingsDir,
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
  t.teardown(() => manager.close());

  // A symlink planted inside the root must not become a way out of it.
  fs.mkdirSync(recordingsDir, { recursive: true });
  fs.symlinkSync(root, path.join(recordingsDir, 'link'));
  const before = new Set(await listAll(root));
  for (const objectKey of ['../escaped.bin', '../../etc/passwd', '/tmp/abs.bin', 'a/../../escaped.bin', 'a\u0000b']) {
    await t.rejects(
      manager.enqueue({ recordingId: 'r1', channelId: 'c1', localPath: source, objectKey, target: { vendor: 'local' } }),
      { code: RecordingErrorCode.InvalidParameter, message: /invalid objectKey/ },
      `enqueue refuses ${JSON.stringify(objectKey)}`,
    );
  }
  // A name that got past a careless caller still cannot be uploaded outside the root, even through
  // the symlink (the uploader checks again, on real paths).
  const uploader = new LocalUploader({ recordingsDir });
  const viaLink = await uploader.upload({ jobId: 'j1', localPath: source, objectKey: 'link/escaped.bin', size: 64 * 1024 }, () => undefined).catch((e: unknown) => e);
  t.match(viaLink, { kind: 'user', message: /outside/ }, 'symlink escape refused as a user error');
  const dotDot = await uploader.upload({ jobId: 'j2', localPath: source, objectKey: '../escaped.bin', size: 64 * 1024 }, () => undefined).catch((e: unknown) => e);
  t.match(dotDot, { kind: 'user', message: /invalid objectKey/ }, '.. refused by the uploader itself');
  const after = (await listAll(root)).filter((p) => !before.has(p));
  t.same(after, [], 'no new file anywhere');

  // And a legitimate nested name lands where it should, byte for byte.
  const uploaded = new Promise<string>((resolve) => manager.on('uploaded', (_job, fileName) => resolve(fileName)));
  await manager.enqueue({ recordingId: 'r1', channelId: 'c1', localPath: source, objectKey: 'rooms/c1/rec.bin', target: { vendor: 'local' } });
  t.equal(await uploaded, 'rooms/c1/rec.bin');
  t.equal(await sha256File(path.join(recordingsDir, 'rooms/c1/rec.bin')), await sha256File(source));
  t.ok(fs.existsSync(source), 'source kept (deleteLocalAfterUpload is off)');
});

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  }
  return out.sort();
}
