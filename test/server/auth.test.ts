import t from 'tap';
import { mintToken, verifyToken } from '../../server/auth/token';
import { setLogSink } from '../../server/logger';
import { publishTestMedia } from '../../scripts/publishRtp';
import { startTestServer, TEST_SECRET } from '../support/server';

const claims = { appId: 'confrec', channelId: 'c1', uid: 'u1', role: 'host' as const, privileges: { publish: true, record: false }, exp: 2_000_000_000 };

t.test('token: round trip, tampering, expiry, mismatch', async (t) => {
  const token = mintToken(TEST_SECRET, claims);
  t.same(verifyToken(TEST_SECRET, token, { appId: 'confrec', channelId: 'c1' }), claims, 'a good token verifies');
  const [version, payload, signature] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, privileges: { publish: true, record: true } })).toString('base64url');
  t.throws(() => verifyToken(TEST_SECRET, `${version}.${forged}.${signature}`, { appId: 'confrec', channelId: 'c1' }), { code: 'TOKEN_INVALID' }, 'changed claims are refused');
  t.throws(() => verifyToken('another-secret-0123456789', token, { appId: 'confrec', channelId: 'c1' }), { code: 'TOKEN_INVALID' }, 'another secret is refused');
  t.throws(() => verifyToken(TEST_SECRET, `${version}.${payload}`, { appId: 'confrec', channelId: 'c1' }), { code: 'TOKEN_INVALID' }, 'truncated is refused');
  t.throws(() => verifyToken(TEST_SECRET, token, { appId: 'confrec', channelId: 'c2' }), { code: 'TOKEN_MISMATCH' }, 'other channel refused');
  t.throws(() => verifyToken(TEST_SECRET, token, { appId: 'other', channelId: 'c1' }), { code: 'TOKEN_MISMATCH' }, 'other app refused');
  t.throws(() => verifyToken(TEST_SECRET, token, { appId: 'confrec', channelId: 'c1', nowSeconds: 2_000_000_001 }), { code: 'TOKEN_EXPIRED' }, 'expired refused');
});

t.test('join refuses bad tokens over the wire and the socket stays usable', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const client = await env.connect();
  const join = (token: string, channelId = 'secure') => client.request('join', { channelId, displayName: 'x', token });
  await t.rejects(join(env.token({ channelId: 'elsewhere', uid: 'x' })), { code: 'TOKEN_MISMATCH' }, 'token for another channel');
  await t.rejects(join(env.token({ channelId: 'secure', uid: 'x', exp: Math.floor(Date.now() / 1000) - 1 })), { code: 'TOKEN_EXPIRED' }, 'expired token');
  await t.rejects(join('v1.garbage.garbage'), { code: 'TOKEN_INVALID' }, 'garbage token');
  await t.rejects(join(mintToken('not-the-server-secret-123', { ...claims, channelId: 'secure' })), { code: 'TOKEN_INVALID' }, 'token signed with another secret');
  const joined = await join(env.token({ channelId: 'secure', uid: 'x' }));
  t.equal(joined.uid, 'x', 'a good token then joins on the same socket');
  await t.rejects(join(env.token({ channelId: 'secure', uid: 'x' })), { code: 'ALREADY_JOINED' }, 'second join refused');
});

t.test('Live channel: hosts publish, the audience only receives', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const host = await env.join('live-1', 'host', { joinParam: { channelType: 'Live' } });
  t.equal(host.joined.channel.type, 'Live', 'channel created as Live');
  const audience = await env.join('live-1', 'viewer', { role: 'audience' });
  t.equal(audience.joined.role, 'audience', 'audience role from the token');
  t.equal(audience.joined.privileges.publish, false, 'audience has no publish privilege');
  await t.rejects(publishTestMedia({ client: audience.client, sendMedia: false }), { code: 'FORBIDDEN' }, 'audience produce refused');
  const publication = await publishTestMedia({ client: host.client, sendMedia: false });
  t.ok(publication.videoProducerId, 'host produce accepted');
  const transport = await audience.client.request('createPlainTransport', { direction: 'recv', comedia: false });
  const consumer = await audience.client.request('consume', { transportId: transport.transportId, producerId: publication.videoProducerId! });
  t.equal(consumer.kind, 'video', 'audience may consume');
});

t.test('a token without the publish privilege cannot produce in a Communication channel', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const client = await env.connect();
  await client.request('join', {
    channelId: 'comm',
    displayName: 'listener',
    token: env.token({ channelId: 'comm', uid: 'l', privileges: { publish: false, record: false } }),
  });
  await t.rejects(publishTestMedia({ client, sendMedia: false }), { code: 'FORBIDDEN' }, 'no publish privilege → FORBIDDEN');
});

t.test('auth switched off: anyone joins, and the server says so loudly', async (t) => {
  const lines: string[] = [];
  setLogSink((line) => lines.push(line));
  t.teardown(() => setLogSink((line) => process.stderr.write(line + '\n')));
  const env = await startTestServer({ overrides: { auth: { enabled: false } } });
  t.teardown(() => env.close());
  const client = await env.connect();
  const joined = await client.request('join', { channelId: 'open', displayName: 'anon', token: 'anything' });
  t.match(joined.uid, /^u-/, 'joined without a valid token');
  t.ok(lines.some((line) => /WARN .*AUTHENTICATION IS OFF/.test(line)), 'a warning was logged');
});
