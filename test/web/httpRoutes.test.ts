import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import t from 'tap';
import { signFileLink } from '../../server/auth/fileUrl';
import { startWebServer } from '../support/web';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent byte for byte (fetch would normalise '..' away before sending). */
function raw(baseUrl: string, rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({ hostname, port, path: rawPath, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.end();
  });
}

const json = (response: RawResponse): any => JSON.parse(response.body.toString('utf8'));

t.test('the page and its assets', async (t) => {
  const env = await startWebServer();
  t.teardown(() => env.close());

  const page = await raw(env.httpUrl, '/');
  t.equal(page.status, 200, 'GET / answers');
  t.match(page.headers['content-type'], /^text\/html/, 'as HTML');
  t.match(page.body.toString(), /id="record-state"/, 'the page with the record control');
  const app = await raw(env.httpUrl, '/assets/app.js');
  t.equal(app.status, 200, 'the bundle is served');
  t.match(app.headers['content-type'], /javascript/, 'as JavaScript');
  t.ok(app.body.length > 10_000, `a real bundle (${app.body.length} bytes)`);
  const sdk = await raw(env.httpUrl, '/assets/confrec-client.js');
  t.match(sdk.body.toString(), /ConfrecClient/, 'the standalone SDK bundle defines ConfrecClient');
  t.equal((await raw(env.httpUrl, '/assets/style.css')).status, 200, 'the stylesheet');

  for (const hostile of ['/assets/../package.json', '/assets/..%2fpackage.json', '/assets/%2e%2e%2fpackage.json', '/assets/.hidden', '/assets/nope.js']) {
    const response = await raw(env.httpUrl, hostile);
    t.equal(response.status, 404, `${hostile} → 404`);
    t.notMatch(response.body.toString(), /"name": "confrec"/, `${hostile} does not leak package.json`);
  }
});

t.test('recordings API: token per channel, Range, no traversal', async (t) => {
  const env = await startWebServer();
  t.teardown(() => env.close());
  const dir = env.server.config.recording.recordingsDir;
  // Files as earlier runs of the server left them (the catalog scans <recordingsDir>/<channel>/).
  const content = Buffer.alloc(1000, 7);
  fs.mkdirSync(path.join(dir, 'room-a', 'sub'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'room-b'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'room-a', 'recording_20260101-000000.mp4'), content);
  fs.writeFileSync(path.join(dir, 'room-a', 'sub', 'deep.mp4'), content);
  fs.writeFileSync(path.join(dir, 'room-a', '.recording.mp4.abc.tmp'), content);
  fs.writeFileSync(path.join(dir, 'room-a', 'notes.txt'), 'not a recording');
  fs.writeFileSync(path.join(dir, 'room-b', 'secret.mp4'), content);
  fs.symlinkSync(path.join(dir, 'room-b', 'secret.mp4'), path.join(dir, 'room-a', 'link.mp4'));

  const tokenA = env.token({ channelId: 'room-a', uid: 'alice' });
  const tokenB = env.token({ channelId: 'room-b', uid: 'bob' });
  const auth = { authorization: `Bearer ${tokenA}` };

  const noToken = await raw(env.httpUrl, '/api/recordings?channel=room-a');
  t.equal(noToken.status, 401, 'no token: 401');
  t.equal(json(noToken).error.code, 'TOKEN_INVALID', 'TOKEN_INVALID');
  const deleting = await raw(env.httpUrl, '/api/recordings?channel=room-a', auth, 'DELETE');
  t.same([deleting.status, json(deleting).error.code, deleting.headers.allow], [405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'], 'DELETE: 405 METHOD_NOT_ALLOWED naming the methods');
  const nowhere = await raw(env.httpUrl, '/no/such/thing');
  t.same([nowhere.status, json(nowhere).error.code], [404, 'NOT_FOUND'], 'unknown path: 404 NOT_FOUND as JSON');
  const otherChannel = await raw(env.httpUrl, '/api/recordings?channel=room-a', { authorization: `Bearer ${tokenB}` });
  t.equal(json(otherChannel).error.code, 'TOKEN_MISMATCH', "another channel's token: TOKEN_MISMATCH");
  t.equal((await raw(env.httpUrl, '/api/recordings?channel=..', auth)).status, 400, 'channel ".." refused');
  const star = await raw(env.httpUrl, '/api/recordings?channel=room-a', { authorization: `Bearer ${env.token({ channelId: '*', uid: 'admin' })}` });
  t.same([star.status, json(star).error.code], [401, 'TOKEN_MISMATCH'], 'a token for channel "*" is no wildcard');

  const list = await raw(env.httpUrl, '/api/recordings?channel=room-a', auth);
  t.equal(list.status, 200, 'listing with a token for the channel');
  const recordings = json(list).recordings as Array<{ objectKey: string; state: string; size: number; url?: string }>;
  t.same(recordings.map((entry) => entry.objectKey).sort(), ['room-a/recording_20260101-000000.mp4', 'room-a/sub/deep.mp4'], 'playable files only: no temp, text or symlinked files');
  const entry = recordings.find((candidate) => candidate.objectKey === 'room-a/recording_20260101-000000.mp4')!;
  t.equal(entry.state, 'stored', 'stored');
  t.equal(entry.size, 1000, 'size');
  t.match(entry.url, /^\/api\/recordings\/file\?/, 'with a URL to play it');

  const whole = await raw(env.httpUrl, entry.url!);
  t.equal(whole.status, 200, 'the file by its link alone (as <video src> needs: no header)');
  const link = new URL(entry.url!, env.httpUrl).searchParams;
  t.notOk(link.has('token') || entry.url!.includes(tokenA), 'the link does not carry the join token');
  t.ok(Number(link.get('exp')) > Date.now() / 1000 && Number(link.get('exp')) <= Date.now() / 1000 + 3600 + 5, 'and expires within the hour');
  t.equal(whole.headers['content-type'], 'video/mp4', 'video/mp4');
  t.equal(whole.headers['accept-ranges'], 'bytes', 'announces ranges');
  t.ok(whole.body.equals(content), 'the bytes');
  const ranged = await raw(env.httpUrl, entry.url!, { range: 'bytes=100-199' });
  t.equal(ranged.status, 206, 'Range: 206');
  t.equal(ranged.headers['content-range'], 'bytes 100-199/1000', 'content-range');
  t.equal(ranged.body.length, 100, '100 bytes');
  const suffix = await raw(env.httpUrl, entry.url!, { range: 'bytes=-10' });
  t.equal(suffix.headers['content-range'], 'bytes 990-999/1000', 'suffix range');
  t.equal((await raw(env.httpUrl, entry.url!, { range: 'bytes=5000-' })).status, 416, 'unsatisfiable range: 416');
  const head = await raw(env.httpUrl, entry.url!, {}, 'HEAD');
  t.equal(head.status, 200, 'HEAD');
  t.equal(head.headers['content-length'], '1000', 'HEAD tells the length');

  const fileUrl = (key: string, channel = 'room-a'): string => `/api/recordings/file?${new URLSearchParams({ channel, key }).toString()}`;
  t.equal((await raw(env.httpUrl, fileUrl('room-a/recording_20260101-000000.mp4'), auth)).status, 200, 'the file with the join token as a header');
  for (const key of ['room-b/secret.mp4', 'room-a/../room-b/secret.mp4', '../room-b/secret.mp4', 'room-a/link.mp4', 'room-a/.recording.mp4.abc.tmp', '/etc/passwd']) {
    t.equal((await raw(env.httpUrl, fileUrl(key), auth)).status, 404, `key ${key} → 404`);
  }
  t.equal((await raw(env.httpUrl, fileUrl('room-a/sub/deep.mp4'), { authorization: `Bearer ${tokenB}` })).status, 401, "room-a's file with room-b's token → 401");
  t.equal((await raw(env.httpUrl, `${fileUrl('room-a/recording_20260101-000000.mp4')}&token=${tokenA}`)).status, 401, 'a join token in the query is not accepted');

  const signed = (key: string, exp: string, sig: string): string => `${fileUrl(key)}&${new URLSearchParams({ exp, sig }).toString()}`;
  const [exp, sig] = [link.get('exp')!, link.get('sig')!];
  const otherFile = await raw(env.httpUrl, signed('room-a/sub/deep.mp4', exp, sig));
  t.same([otherFile.status, json(otherFile).error.code], [401, 'TOKEN_INVALID'], "one file's link does not open another");
  t.equal((await raw(env.httpUrl, signed('room-a/recording_20260101-000000.mp4', String(Number(exp) + 3600), sig))).status, 401, 'a link whose expiry was pushed back is refused');
  const listingBySig = await raw(env.httpUrl, `/api/recordings?channel=room-a&exp=${exp}&sig=${sig}`);
  t.equal(listingBySig.status, 401, 'a file link does not open the listing');
  const past = signFileLink(env.server.authSecret, 'room-a', 'room-a/recording_20260101-000000.mp4', Math.floor(Date.now() / 1000) - 2 * 3600);
  const expired = await raw(env.httpUrl, signed('room-a/recording_20260101-000000.mp4', String(past.exp), past.sig));
  t.same([expired.status, json(expired).error.code], [401, 'TOKEN_EXPIRED'], 'an expired link: TOKEN_EXPIRED');
});

t.test('recordings API: listing and downloading need the recordings privilege', async (t) => {
  const env = await startWebServer();
  t.teardown(() => env.close());
  const dir = env.server.config.recording.recordingsDir;
  const content = Buffer.alloc(500, 3);
  fs.mkdirSync(path.join(dir, 'hall'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'hall', 'talk.mp4'), content);
  const bearer = (privileges: { publish: boolean; record: boolean; recordings?: boolean }, role: 'host' | 'audience') => ({
    authorization: `Bearer ${env.token({ channelId: 'hall', uid: 'u', role, privileges })}`,
  });
  const list = '/api/recordings?channel=hall';
  const file = `/api/recordings/file?${new URLSearchParams({ channel: 'hall', key: 'hall/talk.mp4' }).toString()}`;

  // The audience's default token (npm run token -- --role audience): no record, no recordings.
  const audience = bearer({ publish: false, record: false, recordings: false }, 'audience');
  for (const [what, target] of [['listing', list], ['file', file]] as const) {
    const refused = await raw(env.httpUrl, target, audience);
    t.same([refused.status, json(refused).error.code], [403, 'FORBIDDEN'], `audience without the privilege: ${what} 403 FORBIDDEN`);
    t.notOk(refused.body.includes(content), `${what}: no bytes of the file`);
  }
  const oldAudience = bearer({ publish: true, record: true }, 'audience');
  t.equal((await raw(env.httpUrl, list, oldAudience)).status, 403, 'an audience token minted before the claim existed: refused (the privilege follows the role)');
  t.equal((await raw(env.httpUrl, file, oldAudience)).status, 403, '… for the file too');
  const oldHost = bearer({ publish: true, record: true }, 'host');
  t.equal((await raw(env.httpUrl, list, oldHost)).status, 200, 'a host token minted before the claim existed: allowed');
  const hostWithout = bearer({ publish: true, record: true, recordings: false }, 'host');
  t.equal((await raw(env.httpUrl, list, hostWithout)).status, 403, 'a host token with recordings: false is refused');

  const granted = await raw(env.httpUrl, list, bearer({ publish: false, record: false, recordings: true }, 'audience'));
  t.equal(granted.status, 200, 'an audience token granted the privilege lists');
  const entry = (json(granted).recordings as Array<{ objectKey: string; url?: string }>).find((candidate) => candidate.objectKey === 'hall/talk.mp4')!;
  const played = await raw(env.httpUrl, entry.url!);
  t.same([played.status, played.body.equals(content)], [200, true], 'and plays the file by the signed link it got');
  t.equal((await raw(env.httpUrl, file, bearer({ publish: false, record: false, recordings: true }, 'audience'))).status, 200, 'or with the token as a header');
});
