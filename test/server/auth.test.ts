import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { mintToken, verifyToken } from '../../server/auth/token';
import { findProjectRoot } from '../../server/config';
import { resetLogSink, setLogSink } from '../../server/logger';
import { publishTestMedia } from '../../scripts/publishRtp';
import { startTestServer, TEST_SECRET } from '../support/server';

const claims = { appId: 'confrec', channelId: 'c1', uid: 'u1', role: 'host' as const, privileges: { publish: true, record: false }, exp: 2_000_000_000 };

t.test('token: round trip, tampering, expiry, mismatch', async (t) => {
  const token = mintToken(TEST_SECRET, claims);
  t.same(await verifyToken(TEST_SECRET, token, { appId: 'confrec', channelId: 'c1' }), claims, 'a good token verifies');
  const [header, payload, signature] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ sub: 'u1', appId: 'confrec', channel: 'c1', role: 'host', privileges: { publish: true, record: true }, exp: 2_000_000_000 })).toString('base64url');
  await t.rejects(verifyToken(TEST_SECRET, `${header}.${forged}.${signature}`, { appId: 'confrec', channelId: 'c1' }), { code: 'TOKEN_INVALID' }, 'changed claims are refused');
  await t.rejects(verifyToken('another-secret-0123456789', token, { appId: 'confrec', channelId: 'c1' }), { code: 'TOKEN_INVALID' }, 'another secret is refused');
  await t.rejects(verifyToken(TEST_SECRET, `${header}.${payload}`, { appId: 'confrec', channelId: 'c1' }), { code: 'TOKEN_INVALID' }, 'truncated is refused');
  await t.rejects(verifyToken(TEST_SECRET, token, { appId: 'confrec', channelId: 'c2' }), { code: 'TOKEN_MISMATCH' }, 'other channel refused');
  await t.rejects(verifyToken(TEST_SECRET, token, { appId: 'other', channelId: 'c1' }), { code: 'TOKEN_MISMATCH' }, 'other app refused');
  await t.rejects(verifyToken(TEST_SECRET, token, { appId: 'confrec', channelId: 'c1', nowSeconds: 2_000_000_001 }), { code: 'TOKEN_EXPIRED' }, 'expired refused');
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
  t.teardown(() => resetLogSink());
  const env = await startTestServer({ overrides: { auth: { enabled: false } } });
  t.teardown(() => env.close());
  const client = await env.connect();
  const joined = await client.request('join', { channelId: 'open', displayName: 'anon', token: 'anything' });
  t.match(joined.uid, /^u-/, 'joined without a valid token');
  t.ok(lines.map((line) => JSON.parse(line) as { level: string; msg: string }).some((entry) => entry.level === 'warn' && /AUTHENTICATION IS OFF/.test(entry.msg)), 'a warning was logged');
});

/** An HS256 JWT over claims written by hand, so the JSON can say what JSON.stringify never would (1e999). */
function rawToken(claimsJson: string): string {
  const signingInput = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(claimsJson).toString('base64url')}`;
  return `${signingInput}.${crypto.createHmac('sha256', TEST_SECRET).update(signingInput).digest('base64url')}`;
}

t.test('token: no wildcard channel, nbf honoured, exp a finite integer', async (t) => {
  const expect = { appId: 'confrec', channelId: 'c1' };
  const now = 1_900_000_000;
  await t.rejects(verifyToken(TEST_SECRET, mintToken(TEST_SECRET, { ...claims, channelId: '*' }), expect), { code: 'TOKEN_MISMATCH' }, 'a "*" token opens no other channel');
  const early = mintToken(TEST_SECRET, { ...claims, nbf: now + 60 });
  await t.rejects(verifyToken(TEST_SECRET, early, { ...expect, nowSeconds: now }), { code: 'TOKEN_INVALID', message: /not valid before/ }, 'before nbf: TOKEN_INVALID naming the time');
  t.equal((await verifyToken(TEST_SECRET, early, { ...expect, nowSeconds: now + 60 })).uid, 'u1', 'from nbf on: valid');
  t.equal((await verifyToken(TEST_SECRET, mintToken(TEST_SECRET, claims), { ...expect, nowSeconds: now })).nbf, undefined, 'a token without nbf is valid at once');
  const body = (exp: string, extra = ''): string =>
    `{"sub":"u1","appId":"confrec","channel":"c1","role":"host","privileges":{"publish":true,"record":true},"exp":${exp}${extra}}`;
  t.equal((await verifyToken(TEST_SECRET, rawToken(body('2000000000')), expect)).exp, 2_000_000_000, 'the hand-made token format is right');
  t.equal(JSON.parse('{"exp":1e999}').exp, Infinity, '(1e999 parses to Infinity)');
  for (const exp of ['1e999', '2000000000.5', '"2000000000"', '-1e999', 'null']) {
    await t.rejects(verifyToken(TEST_SECRET, rawToken(body(exp)), expect), { code: 'TOKEN_INVALID' }, `exp ${exp} refused`);
  }
  await t.rejects(verifyToken(TEST_SECRET, rawToken(body('2000000000', ',"nbf":1e999')), expect), { code: 'TOKEN_INVALID' }, 'nbf 1e999 refused');
  await t.rejects(verifyToken(TEST_SECRET, rawToken(body('2000000000', ',"nbf":"soon"')), expect), { code: 'TOKEN_INVALID' }, 'nbf not a number refused');
});

t.test('join: a wildcard token, an early token and a never-expiring one are refused over the wire', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const client = await env.connect();
  const join = (token: string) => client.request('join', { channelId: 'room', displayName: 'x', token });
  const now = Math.floor(Date.now() / 1000);
  await t.rejects(join(env.token({ channelId: '*', uid: 'admin' })), { code: 'TOKEN_MISMATCH' }, 'channelId "*" is not a wildcard');
  await t.rejects(join(env.token({ channelId: 'room', uid: 'early', nbf: now + 3600 })), { code: 'TOKEN_INVALID' }, 'before its nbf');
  const forever = rawToken(`{"sub":"x","appId":"confrec","channel":"room","role":"host","privileges":{"publish":true,"record":true},"exp":1e999}`);
  await t.rejects(join(forever), { code: 'TOKEN_INVALID' }, 'exp 1e999');
  const joined = await join(env.token({ channelId: 'room', uid: 'ok', nbf: now - 5 }));
  t.equal(joined.uid, 'ok', 'a token past its nbf joins on the same socket');
});

t.test('an audience member who joins first decides neither the channel type nor becomes a host', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const audienceToken = (channelId: string, uid: string) => env.token({ channelId, uid, role: 'audience', privileges: { publish: true, record: false } });

  // The audience asks for Communication (where everyone may publish) before any host is there.
  const early = await env.connect();
  const earlyJoin = await early.request('join', { channelId: 'stage', displayName: 'early', token: audienceToken('stage', 'early'), joinParam: { channelType: 'Communication' } });
  t.equal(earlyJoin.role, 'audience', 'the audience token stays audience (it used to become host in Communication)');
  t.equal(earlyJoin.channel.type, 'Live', 'until a host decides, the channel behaves as Live');
  t.equal(earlyJoin.privileges.publish, false, 'so no publishing for the audience');
  await t.rejects(publishTestMedia({ client: early, sendMedia: false }), { code: 'FORBIDDEN' }, 'audience produce refused before any host joined');

  const host = await env.join('stage', 'host', { joinParam: { channelType: 'Live' } });
  t.equal(host.joined.channel.type, 'Live', "the first host's Live stands, not the audience's Communication");
  await t.rejects(publishTestMedia({ client: early, sendMedia: false }), { code: 'FORBIDDEN' }, 'audience still refused in the Live channel');
  const late = await env.connect();
  const lateJoin = await late.request('join', { channelId: 'stage', displayName: 'late', token: audienceToken('stage', 'late') });
  t.same([lateJoin.role, lateJoin.channel.type, lateJoin.privileges.publish], ['audience', 'Live', false], 'a later audience member sees the Live channel');

  // The other way round: the audience opens a channel asking Live; the host wants Communication.
  const opener = await env.connect();
  await opener.request('join', { channelId: 'meeting', displayName: 'opener', token: audienceToken('meeting', 'opener'), joinParam: { channelType: 'Live' } });
  const chair = await env.join('meeting', 'chair', { joinParam: { channelType: 'Communication' } });
  t.equal(chair.joined.channel.type, 'Communication', "the host's type, not the audience's");
  const publication = await publishTestMedia({ client: opener, sendMedia: false });
  t.ok(publication.videoProducerId, 'in Communication an audience token with the publish privilege publishes');

  // In Communication the token still bounds the audience: no publish privilege, no publishing.
  const muted = await env.connect();
  const mutedJoin = await muted.request('join', {
    channelId: 'meeting',
    displayName: 'muted',
    token: env.token({ channelId: 'meeting', uid: 'muted', role: 'audience', privileges: { publish: false, record: false } }),
  });
  t.same([mutedJoin.role, mutedJoin.privileges], ['audience', { publish: false, record: false }], 'role and privileges exactly as the token says');
  await t.rejects(publishTestMedia({ client: muted, sendMedia: false }), { code: 'FORBIDDEN' }, 'no publish privilege → FORBIDDEN');
});

t.test('mint-token: --help, bad arguments, and an audience token without privileges by default', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-mint-'));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const script = path.join(findProjectRoot(__dirname), 'dist', 'scripts', 'mint-token.js');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [script, ...args], {
      encoding: 'utf8',
      env: { ...process.env, CONFREC_AUTH_SECRET: TEST_SECRET, CONFREC_RECORDING_STATE_DIR: stateDir },
    });
  const claimsOf = async (stdout: string) => verifyToken(TEST_SECRET, stdout.trim(), { appId: 'confrec', channelId: 'demo' });

  const help = run('--help');
  t.equal(help.status, 0, '--help exits 0');
  t.match(help.stdout, /^Usage: npm run -s token -- /, 'and prints the usage');
  t.match(help.stdout, /--role host\|audience/, 'naming the options');
  t.equal(help.stderr, '', 'no stack trace');
  t.equal(run('-h').status, 0, '-h too');

  for (const args of [['--bogus'], ['--role', 'admin'], ['--ttl', 'forever'], ['--ttl', '0'], ['stray'], ['--uid', 'a b'], ['--record', '--no-record'], ['--channel']]) {
    const bad = run(...args);
    t.equal(bad.status, 2, `${args.join(' ')}: exit 2`);
    t.equal(bad.stdout, '', `${args.join(' ')}: no token`);
    t.match(bad.stderr, /^mint-token: .+ \(--help for usage\)\n$/, `${args.join(' ')}: one line (${bad.stderr.trim()})`);
  }

  const audience = run('--channel', 'demo', '--uid', 'bob', '--role', 'audience');
  t.equal(audience.status, 0, 'an audience token is minted');
  t.same((await claimsOf(audience.stdout)).privileges, { publish: false, record: false, recordings: false }, 'audience: no publish, no record, no recordings unless granted');
  const granted = run('--uid', 'bob', '--role', 'audience', '--record', '--recordings');
  t.same((await claimsOf(granted.stdout)).privileges, { publish: false, record: true, recordings: true }, 'audience: privileges granted one by one');
  const host = run('--uid', 'alice');
  t.same((await claimsOf(host.stdout)).privileges, { publish: true, record: true, recordings: true }, 'host: every privilege by default');
  t.same((await claimsOf(run('--uid', 'alice', '--no-record', '--no-recordings').stdout)).privileges, { publish: true, record: false, recordings: false }, 'host: taken away one by one');
  const delayed = run('--uid', 'alice', '--nbf', '60', '--ttl', '600').stdout.trim();
  await t.rejects(claimsOf(delayed), { code: 'TOKEN_INVALID' }, '--nbf 60: not valid yet');
  const window = await verifyToken(TEST_SECRET, delayed, { appId: 'confrec', channelId: 'demo', nowSeconds: Math.floor(Date.now() / 1000) + 61 });
  t.equal(window.exp - window.nbf!, 540, 'valid from 60 s on, until the ttl');
});
