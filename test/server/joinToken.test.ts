import crypto from 'node:crypto';
import t from 'tap';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT, UnsecuredJWT, type JWTPayload, type KeyLike } from 'jose';
import { mintToken } from '../../server/auth/token';
import { startTestServer, TEST_SECRET } from '../support/server';
import { startWebServer } from '../support/web';

/**
 * Join tokens are standard HS256 JWTs: a backend mints them with any JWT library. These tokens are
 * made with jose directly (never through our mintToken), the way a Node backend would.
 */
const key = new TextEncoder().encode(TEST_SECRET);
const now = (): number => Math.floor(Date.now() / 1000);

function claims(channel: string, uid: string, extra: Record<string, unknown> = {}): JWTPayload {
  return { appId: 'confrec', channel, role: 'host', privileges: { publish: true, record: true, recordings: true }, ...extra, sub: uid };
}

function signed(payload: JWTPayload, alg = 'HS256', secret: KeyLike | Uint8Array = key): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt().setExpirationTime('10m').sign(secret);
}

/** A JWS whose header names `alg` but whose signature is HMAC-SHA256 under the secret (the key-confusion attack). */
function hmacWithHeader(header: Record<string, unknown>, payload: JWTPayload): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${crypto.createHmac('sha256', TEST_SECRET).update(input).digest('base64url')}`;
}

t.test('a JWT minted with jose joins over a real WebSocket with the uid, role and privileges it carries', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const client = await env.connect();
  const token = await signed(claims('jwt-room', 'carol', { role: 'audience', privileges: { publish: false, record: true } }));
  const joined = await client.request('join', { channelId: 'jwt-room', displayName: 'Carol', token });
  t.equal(joined.uid, 'carol', 'sub is the uid');
  t.equal(joined.role, 'audience', 'role from the token');
  t.same(joined.privileges, { publish: false, record: true }, 'privileges from the token');
});

t.test('refused over the wire: alg none, other algorithms, tampering, expiry, nbf, another channel or app; the socket stays usable', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const client = await env.connect();
  const join = (token: string) => client.request('join', { channelId: 'guarded', displayName: 'x', token });
  const exp = now() + 600;

  const unsecured = new UnsecuredJWT(claims('guarded', 'x', { exp })).encode();
  t.equal(decodeProtectedHeader(unsecured).alg, 'none', '(an alg "none" token)');
  await t.rejects(join(unsecured), { code: 'TOKEN_INVALID' }, 'alg none');
  await t.rejects(join(hmacWithHeader({ alg: 'none', typ: 'JWT' }, claims('guarded', 'x', { exp }))), { code: 'TOKEN_INVALID' }, 'alg none even with a valid HMAC attached');
  await t.rejects(join(await signed(claims('guarded', 'x'), 'HS512')), { code: 'TOKEN_INVALID', message: /algorithm/ }, 'HS512 with the same secret');
  await t.rejects(join(await signed(claims('guarded', 'x'), 'HS384')), { code: 'TOKEN_INVALID', message: /algorithm/ }, 'HS384 with the same secret');
  const rsa = await generateKeyPair('RS256');
  await t.rejects(join(await signed(claims('guarded', 'x'), 'RS256', rsa.privateKey)), { code: 'TOKEN_INVALID', message: /algorithm/ }, 'RS256, a real RSA signature');
  await t.rejects(join(hmacWithHeader({ alg: 'RS256', typ: 'JWT' }, claims('guarded', 'x', { exp }))), { code: 'TOKEN_INVALID', message: /algorithm/ }, 'RS256 header over an HMAC signature');
  t.ok(await jwtVerify(hmacWithHeader({ alg: 'HS256' }, claims('guarded', 'x', { exp })), key), '(the same construction with HS256 is a valid token)');

  const good = await signed(claims('guarded', 'x', { privileges: { publish: false, record: false } }));
  const [header, , signature] = good.split('.');
  const raised = Buffer.from(JSON.stringify({ ...decodeJwt(good), privileges: { publish: true, record: true } })).toString('base64url');
  await t.rejects(join(`${header}.${raised}.${signature}`), { code: 'TOKEN_INVALID', message: /signature/ }, 'tampered payload (privileges raised)');
  await t.rejects(join(await signed(claims('guarded', 'x'), 'HS256', new TextEncoder().encode('another-secret-0123456789abc'))), { code: 'TOKEN_INVALID' }, 'another secret');
  const v1Claims = Buffer.from(JSON.stringify({ appId: 'confrec', channelId: 'guarded', uid: 'x', role: 'host', privileges: { publish: true, record: true }, exp })).toString('base64url');
  const v1 = `v1.${v1Claims}.${crypto.createHmac('sha256', TEST_SECRET).update(`v1.${v1Claims}`).digest('base64url')}`;
  await t.rejects(join(v1), { code: 'TOKEN_INVALID' }, 'a correctly signed token of the retired v1 format');

  const expired = await new SignJWT(claims('guarded', 'x')).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() - 1).sign(key);
  await t.rejects(join(expired), { code: 'TOKEN_EXPIRED' }, 'expired');
  const noExp = await new SignJWT(claims('guarded', 'x')).setProtectedHeader({ alg: 'HS256' }).sign(key);
  await t.rejects(join(noExp), { code: 'TOKEN_INVALID' }, 'no exp (a token must expire)');
  const early = await new SignJWT(claims('guarded', 'x')).setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() + 3600).setExpirationTime('2h').sign(key);
  await t.rejects(join(early), { code: 'TOKEN_INVALID', message: /not valid before/ }, 'nbf in the future');
  await t.rejects(join(await signed(claims('elsewhere', 'x'))), { code: 'TOKEN_MISMATCH' }, 'another channel');
  await t.rejects(join(await signed({ ...claims('guarded', 'x'), appId: 'other-app' })), { code: 'TOKEN_MISMATCH' }, 'another app');
  await t.rejects(join(await signed({ ...claims('guarded', 'x'), sub: undefined })), { code: 'TOKEN_INVALID' }, 'no sub');
  await t.rejects(join(await signed(claims('guarded', 'x', { role: 'admin' }))), { code: 'TOKEN_INVALID' }, 'an unknown role');

  const joined = await join(await new SignJWT(claims('guarded', 'x')).setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() - 5).setExpirationTime('1h').sign(key));
  t.equal(joined.uid, 'x', 'after all that, a good token joins on the same socket');
});

t.test('mintToken (npm run token) produces the same standard JWT that jose verifies', async (t) => {
  const exp = now() + 600;
  const token = mintToken(TEST_SECRET, { appId: 'confrec', channelId: 'demo', uid: 'alice', role: 'host', privileges: { publish: true, record: false }, exp, nbf: exp - 700 });
  t.same(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' }, 'header');
  const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
  t.same(payload, { sub: 'alice', appId: 'confrec', channel: 'demo', role: 'host', privileges: { publish: true, record: false }, iat: payload.iat, exp, nbf: exp - 700 }, 'the documented claims');
  t.type(payload.iat, 'number', 'with iat');
});

t.test('the recordings listing takes a jose-minted JWT as its Bearer token', async (t) => {
  const env = await startWebServer();
  t.teardown(() => env.close());
  const list = (token: string) => fetch(`${env.httpUrl}/api/recordings?channel=room-j`, { headers: { authorization: `Bearer ${token}` } });
  const ok = await list(await signed(claims('room-j', 'dana')));
  t.equal(ok.status, 200, 'listed');
  t.same((await ok.json()).recordings, [], 'no recordings yet');
  const none = await list(new UnsecuredJWT(claims('room-j', 'dana', { exp: now() + 600 })).encode());
  t.same([none.status, (await none.json()).error.code], [401, 'TOKEN_INVALID'], 'alg none: 401 TOKEN_INVALID');
  const audience = await list(await signed(claims('room-j', 'eve', { role: 'audience', privileges: { publish: false, record: false } })));
  t.same([audience.status, (await audience.json()).error.code], [403, 'FORBIDDEN'], 'an audience JWT without recordings: 403');
});
