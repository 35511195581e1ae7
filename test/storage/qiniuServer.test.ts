// The Qiniu test server must be faithful, or every Qiniu test proves nothing: these drive it with the
// real SDK and with raw HTTP, and check it refuses what Qiniu refuses.
import t from 'tap';
import * as qiniu from 'qiniu';
import { createHash, createHmac } from 'node:crypto';
import { QiniuTestServer, qetag } from '../support/qiniuServer';

const AK = 'serverTestAccessKey_abcdefghijklmnopqrs';
const SK = 'serverTestSecretKey_abcdefghijklmnopqrs';

function sdkConfig(server: QiniuTestServer): qiniu.conf.Config {
  const config = new qiniu.conf.Config({ useHttpsDomain: false });
  config.regionsProvider = new qiniu.httpc.Region({ services: { up: [new qiniu.httpc.Endpoint(`127.0.0.1:${server.port}`, { defaultScheme: 'http' })] } });
  return config;
}

function token(scope: string, options: { sk?: string; expires?: number; deadline?: number; insertOnly?: number } = {}): string {
  const mac = new qiniu.auth.digest.Mac(AK, options.sk ?? SK);
  const policy = new qiniu.rs.PutPolicy({ scope, expires: options.expires ?? 3600, ...(options.insertOnly ? { insertOnly: options.insertOnly } : {}) });
  if (options.deadline !== undefined) {
    // Forge an already-expired but correctly signed token.
    const flags = { scope, deadline: options.deadline };
    const encoded = Buffer.from(JSON.stringify(flags)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    const sign = createHmac('sha1', options.sk ?? SK).update(encoded).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
    return `${AK}:${sign}:${encoded}`;
  }
  return policy.uploadToken(mac);
}

t.test('form upload: token, scope, deadline, crc32 and 614 are enforced like Qiniu', async (t) => {
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: ['bucket-a'] });
  t.teardown(() => server.close());
  const uploader = new qiniu.form_up.FormUploader(sdkConfig(server));
  const body = Buffer.from('hello qiniu');
  const put = (tok: string, key: string, data = body) => uploader.put(tok, key, data, new qiniu.form_up.PutExtra());

  const ok = await put(token('bucket-a:k1'), 'k1');
  t.equal(ok.resp.statusCode, 200);
  t.same(ok.data, { hash: qetag(body), key: 'k1' });
  t.same(server.getObject('bucket-a', 'k1'), body, 'bytes stored');

  t.equal((await put(token('bucket-a:k1', { sk: 'wrongSecretKey_abcdefghijklmnopqrstuvwx' }), 'k1')).resp.statusCode, 401, 'bad signature → 401');
  const expired = await put(token('bucket-a:k1', { deadline: Math.floor(Date.now() / 1000) - 10 }), 'k1');
  t.equal(expired.resp.statusCode, 401);
  t.same(expired.data, { error: 'expired token' });
  t.equal((await put(token('bucket-a:k1'), 'other-key')).resp.statusCode, 403, 'key outside scope → 403');
  t.equal((await put(token('no-such:k1'), 'k1')).resp.statusCode, 631, 'no such bucket → 631');
  const exists = await put(token('bucket-a'), 'k1', Buffer.from('different'));
  t.equal(exists.resp.statusCode, 614, 'insert-only scope on an existing different object → 614');
  t.equal((await put(token('bucket-a:k1'), 'k1', Buffer.from('overwrite'))).resp.statusCode, 200, 'bucket:key scope overwrites');
  t.equal((await put(token('bucket-a:k1', { insertOnly: 1 }), 'k1', Buffer.from('other'))).resp.statusCode, 614, 'bucket:key with insertOnly: an existing different object → 614');
  t.same(server.getObject('bucket-a', 'k1'), Buffer.from('overwrite'), 'and it stays as it was');
  t.equal((await put(token('bucket-a:k1', { insertOnly: 1 }), 'k1', Buffer.from('overwrite'))).resp.statusCode, 200, 'insertOnly with identical content succeeds (as Qiniu does)');

  // crc32 mismatch: send a raw multipart with a wrong crc32 field.
  const form = new FormData();
  form.set('token', token('bucket-a:k2'));
  form.set('key', 'k2');
  form.set('file', new Blob([body]), 'f');
  form.set('crc32', '12345');
  const raw = await fetch(server.endpoint + '/', { method: 'POST', body: form });
  t.equal(raw.status, 406);
  t.same(await raw.json(), { error: 'crc32 not match' });
  t.equal(server.getObject('bucket-a', 'k2'), undefined, 'nothing stored on crc mismatch');
});

t.test('v2 resumable: init / parts with Content-MD5 / complete, and 612 for unknown uploads', async (t) => {
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: ['bucket-a'] });
  t.teardown(() => server.close());
  const key = 'dir/obj.bin';
  const base = `${server.endpoint}/buckets/bucket-a/objects/${Buffer.from(key).toString('base64url')}/uploads`;
  const headers = { Authorization: `UpToken ${token('bucket-a:' + key)}` };
  const init = await fetch(base, { method: 'POST', headers });
  t.equal(init.status, 200);
  const { uploadId, expireAt } = (await init.json()) as { uploadId: string; expireAt: number };
  t.ok(expireAt > Date.now() / 1000);
  const part1 = Buffer.alloc(1024 * 1024, 1);
  const part2 = Buffer.from('tail');
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  const badMd5 = await fetch(`${base}/${uploadId}/1`, { method: 'PUT', headers: { ...headers, 'Content-MD5': md5(part2) }, body: new Uint8Array(part1) });
  t.equal(badMd5.status, 400, 'Content-MD5 mismatch refused');
  const put = async (n: number, b: Buffer) => {
    const r = await fetch(`${base}/${uploadId}/${n}`, { method: 'PUT', headers: { ...headers, 'Content-MD5': md5(b) }, body: new Uint8Array(b) });
    t.equal(r.status, 200);
    const answer = (await r.json()) as { etag: string; md5: string };
    t.equal(answer.md5, md5(b), 'md5 echoed (the SDK checks it)');
    return answer.etag;
  };
  const e2 = await put(2, part2);
  const e1 = await put(1, part1);
  const badComplete = await fetch(`${base}/${uploadId}`, { method: 'POST', headers, body: JSON.stringify({ parts: [{ etag: 'nope', partNumber: 1 }] }) });
  t.equal(badComplete.status, 400, 'wrong etag refused');
  const done = await fetch(`${base}/${uploadId}`, { method: 'POST', headers, body: JSON.stringify({ parts: [{ etag: e1, partNumber: 1 }, { etag: e2, partNumber: 2 }] }) });
  t.equal(done.status, 200);
  t.same(server.getObject('bucket-a', key), Buffer.concat([part1, part2]));
  const again = await fetch(`${base}/${uploadId}/3`, { method: 'PUT', headers, body: new Uint8Array(part2) });
  t.equal(again.status, 612, 'completed upload is gone → 612');
  const noAuth = await fetch(base, { method: 'POST' });
  t.equal(noAuth.status, 401);
});

t.test('fault injection: fail, drop, stall, down and up', async (t) => {
  const server = await QiniuTestServer.start({ accounts: { [AK]: SK }, buckets: ['bucket-a'] });
  t.teardown(() => server.close());
  const uploader = new qiniu.form_up.FormUploader(sdkConfig(server));
  const put = () => uploader.put(token('bucket-a:k'), 'k', Buffer.from('x'), new qiniu.form_up.PutExtra());
  server.failNext(1, 503, 'service unavailable');
  t.equal((await put()).resp.statusCode, 503);
  server.dropNext(1);
  await t.rejects(put(), 'dropped connection rejects (network error)');
  server.stallNext(1);
  const stalled = put().catch((e: unknown) => e);
  await new Promise((resolve) => server.once('stalled', resolve));
  server.releaseStalled();
  t.ok((await stalled) instanceof Error, 'stalled request fails once released');
  const port = server.port;
  await server.goDown();
  await t.rejects(put(), 'down → connection refused');
  await server.comeUp();
  t.equal(server.port, port, 'same port after coming back');
  t.equal((await put()).resp.statusCode, 200);
});
