import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../../server/config';
import { MediaServer } from '../../server/MediaServer';
import { RtcAddresses } from '../../server/network/RtcAddresses';
import { generateSelfSignedCertificate } from '../../server/tls/selfSignedCertificate';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';
import { startTestServer } from '../support/server';
import { httpGet } from '../support/httpGet';


function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const errorCode = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'ok',
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );

t.test('defaults: WebRTC listens on every interface and announces an address of this machine that is not loopback', async (t) => {
  const config = loadConfig({ env: {}, file: undefined });
  t.equal(config.mediasoup.listenIp, '0.0.0.0', 'mediasoup.listenIp defaults to all interfaces');
  t.equal(config.http.tls, 'auto', 'HTTPS is on by default');
  const rtc = await RtcAddresses.resolve(config.mediasoup);
  const own = Object.values(os.networkInterfaces()).flatMap((entries) => entries ?? []).filter((entry) => !entry.internal && entry.family === 'IPv4').map((entry) => entry.address);
  if (own.length > 0) {
    t.ok(own.includes(rtc.announcedIp), `announces ${rtc.announcedIp}, an address of this machine (${own.join(', ')}) [${rtc.origin}]`);
  } else {
    t.equal(rtc.announcedIp, '127.0.0.1', 'no other interface: loopback');
  }
  t.equal(rtc.announcedFor('127.0.0.1'), '127.0.0.1', 'a client that came over loopback is given loopback');
  t.equal(rtc.announcedFor('::ffff:127.0.0.1'), '127.0.0.1', '… also as an IPv4-mapped address');
  t.equal(rtc.announcedFor('10.0.0.8'), rtc.announcedIp, 'a client from elsewhere is given the announced address');

  const nat = await RtcAddresses.resolve({ listenIp: '0.0.0.0', announcedIp: '203.0.113.7' });
  t.equal(nat.announcedFor('10.0.0.8'), '203.0.113.7', 'mediasoup.announcedIp overrides the detection (the public address behind NAT)');
  t.equal(nat.origin, 'mediasoup.announcedIp');
  const pinned = await RtcAddresses.resolve({ listenIp: '127.0.0.1', announcedIp: '' });
  t.equal(pinned.announcedFor('10.0.0.8'), '127.0.0.1', 'a specific listen address is announced as it is');

  for (const [env, field] of [
    [{ CONFREC_MEDIASOUP_ANNOUNCED_IP: 'my.host' }, 'mediasoup.announcedIp'],
    [{ CONFREC_MEDIASOUP_LISTEN_IP: '' }, 'mediasoup.listenIp'],
    [{ CONFREC_HTTP_TLS: 'on' }, 'http.tls'],
    [{ CONFREC_HTTP_TLS_CERT: '/x/cert.pem' }, 'http.tlsKey'],
  ] as const) {
    t.throws(() => loadConfig({ env, file: undefined }), { name: 'ConfigError', field }, `${Object.keys(env)[0]}=${Object.values(env)[0]} is refused naming ${field}`);
  }
});

t.test('a self-signed certificate is generated on the first start and reused after; one port serves HTTPS, WSS and loopback HTTP/WS', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-tls-'));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const first = await startTestServer({ overrides: { recording: { stateDir } } });
  const certificate = first.server.certificate!;
  t.equal(certificate.source, 'generated', 'generated on the first start');
  t.equal(certificate.selfSigned, true);
  t.equal(fs.statSync(path.join(stateDir, 'tls', 'self-signed-key.pem')).mode & 0o777, 0o600, 'the key file is 0600');
  const port = first.server.port;
  t.equal(await servedFingerprint(port), certificate.fingerprint256, 'HTTPS serves it');
  t.equal(new crypto.X509Certificate(certificate.cert).checkHost('localhost'), 'localhost', 'it names localhost');

  t.equal(await errorCode(httpGet(`https://localhost:${port}/healthz`)), 'DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted by default: verification stays on');
  t.equal((await httpGet(`https://localhost:${port}/healthz`, { ca: certificate.cert })).status, 200, 'HTTPS with the certificate as ca');
  t.equal((await httpGet(`${first.httpUrl}/healthz`)).status, 200, 'plain HTTP from this machine on the same port');

  const secure = await SignalingClient.connect(`wss://localhost:${port}/ws`, (url) => new WebSocket(url, { ca: certificate.cert }) as unknown as WebSocketLike);
  const joined = await secure.request('join', { channelId: 'tls-room', displayName: 'a', token: first.token({ channelId: 'tls-room', uid: 'a' }) });
  t.equal(joined.uid, 'a', 'signaling over wss://');
  secure.close();
  const plain = await first.join('tls-room', 'b');
  t.equal(plain.joined.uid, 'b', 'signaling over ws:// from this machine');
  const transport = await plain.client.request('createWebRtcTransport', { direction: 'recv' });
  t.same([...new Set(transport.iceCandidates.map((candidate: { ip: string }) => candidate.ip))], ['127.0.0.1'], 'a loopback client gets loopback candidates');
  await first.close();

  fs.mkdirSync(stateDir, { recursive: true });
  const second = await startTestServer({ overrides: { recording: { stateDir } } });
  t.teardown(() => second.close());
  t.equal(second.server.certificate!.source, 'reused', 'the next start reuses it (the exception users accepted stays valid)');
  t.equal(await servedFingerprint(second.server.port), certificate.fingerprint256, 'same fingerprint');
});

t.test('a certificate and key given in config are served; bad ones stop the start naming the field', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-tls-given-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const given = generateSelfSignedCertificate({ commonName: 'media.example', dnsNames: ['media.example'], ipAddresses: [], validDays: 30 });
  const other = generateSelfSignedCertificate({ commonName: 'other', dnsNames: ['other'], ipAddresses: [], validDays: 30 });
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), otherKey: path.join(dir, 'other-key.pem') };
  fs.writeFileSync(files.cert, given.certPem);
  fs.writeFileSync(files.key, given.keyPem);
  fs.writeFileSync(files.otherKey, other.keyPem);

  const env = await startTestServer({ overrides: { http: { tlsCert: files.cert, tlsKey: files.key } } });
  t.teardown(() => env.close());
  t.equal(env.server.certificate!.source, 'config');
  t.equal(await servedFingerprint(env.server.port), new crypto.X509Certificate(given.certPem).fingerprint256, 'the configured certificate is served');
  t.notOk(fs.existsSync(path.join(env.tmpDir, 'state', 'tls')), 'no self-signed one is generated');

  for (const [overrides, message] of [
    [{ tlsCert: files.cert, tlsKey: files.otherKey }, /http\.tlsCert: .*does not belong to the certificate/],
    [{ tlsCert: path.join(dir, 'missing.pem'), tlsKey: files.key }, /http\.tlsCert: cannot read/],
    [{ tlsCert: files.key, tlsKey: files.key }, /http\.tlsCert: .*not a PEM certificate/],
  ] as const) {
    await t.rejects(startTestServer({ overrides: { http: overrides } }), { name: 'ConfigError', message }, `refused: ${message}`);
  }
});

t.test('http.tls off: plain HTTP only, nothing generated', async (t) => {
  const env = await startTestServer({ overrides: { http: { tls: 'off' } } });
  t.teardown(() => env.close());
  t.equal(env.server.certificate, undefined);
  t.notOk(fs.existsSync(path.join(env.tmpDir, 'state', 'tls')), 'no certificate generated');
  t.equal((await httpGet(`${env.httpUrl}/healthz`)).status, 200, 'plain HTTP');
  t.not(await errorCode(httpGet(`https://127.0.0.1:${env.server.port}/healthz`, { rejectUnauthorized: false })), 'ok', 'no TLS on the port');
});

t.test('MediaServer.start refuses an unreadable certificate and closes its workers (the process can exit)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-tls-bad-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ env: {}, file: undefined, overrides: { http: { listenIp: '127.0.0.1', port: 0, tlsCert: path.join(dir, 'none.pem'), tlsKey: path.join(dir, 'none.pem') }, mediasoup: { numWorkers: 1 }, recording: { stateDir: dir, recordingsDir: dir } } });
  await t.rejects(MediaServer.start(config), ConfigError);
});

t.test('neither a connection that never sends a byte nor idle keep-alive ones hold up the server close', async (t) => {
  const env = await startTestServer();
  const silent = net.connect(env.server.port, '127.0.0.1');
  await new Promise((resolve) => silent.once('connect', resolve));
  const plainAgent = new http.Agent({ keepAlive: true });
  const secureAgent = new https.Agent({ keepAlive: true, ca: env.server.certificate!.cert });
  t.teardown(() => {
    plainAgent.destroy();
    secureAgent.destroy();
  });
  t.equal((await httpGet(`${env.httpUrl}/healthz`, { agent: plainAgent })).status, 200);
  t.equal((await httpGet(`https://localhost:${env.server.port}/healthz`, { agent: secureAgent })).status, 200);
  const closedBy = new Promise<string>((resolve) => silent.once('close', () => resolve('closed by the server')));
  const started = Date.now();
  await env.close();
  t.ok(Date.now() - started < 3000, `closed in ${Date.now() - started} ms`);
  t.equal(await closedBy, 'closed by the server');
});
