import crypto from 'node:crypto';
import t from 'tap';
import { SecretMasker } from '../../server/SecretMasker';

t.test('holds are counted per secret: the secret stays masked until its last user releases it', async (t) => {
  const masker = new SecretMasker(8);
  const first = masker.hold('shared-key-1234');
  const second = masker.hold('shared-key-1234');
  t.equal(masker.mask('key=shared-key-1234;'), 'key=***;');
  first.release();
  first.release();
  t.equal(masker.mask('key=shared-key-1234;'), 'key=***;', 'a second release of the same hold changes nothing; the other hold masks on');
  second.release();
  t.equal(masker.mask('key=shared-key-1234;'), 'key=shared-key-1234;', 'released by both: shown again');
  t.equal(masker.size, 0);
});

t.test('the longest of overlapping secrets is masked, every occurrence, and short strings are never held', async (t) => {
  const masker = new SecretMasker(8);
  masker.hold('abcd');
  masker.hold('abcdefgh');
  masker.hold('xyz');
  t.equal(masker.mask('abcdefgh abcd abcdefg abcdabcd xyz'), '*** *** ***efg ****** xyz');
  t.equal(masker.size, 2, 'a 3-character string is not held');
});

t.test('at its bound the masker refuses new secrets (tryHold) but never an existing one', async (t) => {
  const masker = new SecretMasker(2);
  t.ok(masker.tryHold('secret-one'));
  t.ok(masker.tryHold('secret-two'));
  t.equal(masker.tryHold('secret-three'), undefined, 'a third distinct secret is refused');
  t.ok(masker.tryHold('secret-one'), 'another hold of a held secret is fine');
  t.equal(masker.size, 2);
});

t.test('masking costs about the same with a thousand secrets held as with one', async (t) => {
  const few = new SecretMasker(2000);
  const many = new SecretMasker(2000);
  const secret = crypto.randomBytes(20).toString('base64url');
  few.hold(secret);
  many.hold(secret);
  for (let index = 0; index < 1000; index++) many.hold(crypto.randomBytes(20).toString('base64url'));
  const line = `2026-12-01T12:00:00.000Z INFO UploadManager enqueue() | [job:${crypto.randomUUID()}] [vendor:s3] [bucket:archive] [key:${secret}] [bytes:123456] ${'x'.repeat(80)}`;
  t.equal(many.mask(line), line.replace(secret, '***'));
  const time = (masker: SecretMasker): number => {
    const start = process.hrtime.bigint();
    for (let index = 0; index < 20_000; index++) masker.mask(line);
    return Number(process.hrtime.bigint() - start);
  };
  time(few);
  time(many);
  // Interleaved repetitions; the best of each so a busy machine does not decide.
  const fewTimes: number[] = [];
  const manyTimes: number[] = [];
  for (let round = 0; round < 5; round++) {
    fewTimes.push(time(few));
    manyTimes.push(time(many));
  }
  const ratio = Math.min(...manyTimes) / Math.min(...fewTimes);
  t.ok(ratio < 2, `1001 secrets held: ${ratio.toFixed(2)}× the time of one`);
});
