import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { mintToken } from '../../server/auth/token';
import { findProjectRoot } from '../../server/projectRoot';
import { SignalingClient, WebSocketLike } from '../../signaling/SignalingClient';
import { createCloudRecorderInstance } from '../../signaling/recorder';
import { launchBrowser, TestBrowser, watchPeerConnections } from '../support/browser';
import { decodeAll, decodedDurationS, probe } from '../support/mediaProbe';
import { NetworkNamespace } from '../support/netns';
import { sleep } from '../support/recordingServer';
import { TEST_SECRET } from '../support/server';
import { buildWeb } from '../support/web';
import { httpGet } from '../support/httpGet';

/**
 * `npm start` on one machine, used from another: the server runs with its default config (only
 * its directories and secret set) in a network namespace of its own, reached over a veth pair
 * from this namespace, where Node clients and Chromium play the other machine.
 */

const PORT = 8080;

interface StartedServer {
  child: ChildProcess;
  output: () => string;
  /** The lines `npm start` printed for people. */
  banner: string;
}

async function startServerIn(namespace: NetworkNamespace, dir: string): Promise<StartedServer> {
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, '{}');
  const [command, args] = namespace.exec(process.execPath, path.join(findProjectRoot(__dirname), 'dist', 'server', 'main.js'));
  const child = spawn(command, args, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'info',
      CONFREC_CONFIG: configFile,
      CONFREC_AUTH_SECRET: TEST_SECRET,
      CONFREC_MEDIASOUP_NUM_WORKERS: '1',
      CONFREC_RECORDING_RECORDINGS_DIR: path.join(dir, 'recordings'),
      CONFREC_RECORDING_STATE_DIR: path.join(dir, 'var'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const output = (): string => `--- stdout\n${stdout}\n--- stderr\n${stderr.slice(-6000)}`;
  const deadline = Date.now() + 60_000;
  while (!/Get a join token/.test(stdout)) {
    const failure = child.exitCode !== null ? `the server exited with ${child.exitCode}` : Date.now() > deadline ? 'the server did not start within 60 s' : undefined;
    if (failure) {
      await stopServer(child);
      throw new Error(`${failure}\n${output()}`);
    }
    await sleep(100);
  }
  return { child, output, banner: stdout };
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The certificate the server presents, fetched without trusting it (its fingerprint is checked by the caller). */
function presentedCertificate(host: string): Promise<crypto.X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: PORT, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerX509Certificate();
      socket.end();
      if (certificate) resolve(certificate);
      else reject(new Error('no peer certificate'));
    });
    socket.on('error', reject);
  });
}


function joinToken(channelId: string, uid: string): string {
  return mintToken(TEST_SECRET, { appId: 'confrec', channelId, uid, role: 'host', privileges: { publish: true, record: true }, exp: Math.floor(Date.now() / 1000) + 3600 });
}

interface SelectedPair {
  address: string;
  protocol: string;
  bytesSent: number;
  bytesReceived: number;
}

function selectedPairs(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(async () => {
    const pairs: SelectedPair[] = [];
    for (const connection of (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections) {
      const stats = await connection.getStats();
      stats.forEach((report) => {
        if (report.type !== 'transport' || !report.selectedCandidatePairId) return;
        const pair = stats.get(report.selectedCandidatePairId);
        const remote = pair && stats.get(pair.remoteCandidateId);
        if (pair?.state === 'succeeded' && remote) {
          pairs.push({ address: remote.address ?? remote.ip, protocol: remote.protocol, bytesSent: pair.bytesSent ?? 0, bytesReceived: pair.bytesReceived ?? 0 });
        }
      });
    }
    return pairs;
  });
}

/** Server candidates of every createWebRtcTransport answer the page received over its socket. */
function captureSignaling(page: Page): { urls: string[]; candidates: Array<{ ip: string; protocol: string }> } {
  const seen = { urls: [] as string[], candidates: [] as Array<{ ip: string; protocol: string }> };
  page.on('websocket', (socket) => {
    seen.urls.push(socket.url());
    socket.on('framereceived', ({ payload }) => {
      try {
        const message = JSON.parse(String(payload)) as { data?: { iceCandidates?: Array<{ ip: string; protocol: string }> } };
        for (const candidate of message.data?.iceCandidates ?? []) seen.candidates.push({ ip: candidate.ip, protocol: candidate.protocol });
      } catch {
        // Not JSON: not ours to read.
      }
    });
  });
  return seen;
}

async function joinFromPage(browser: TestBrowser, baseUrl: string, channel: string, uid: string): Promise<Page> {
  const { page } = browser;
  await page.goto(`${baseUrl}/?${new URLSearchParams({ channel, name: uid, token: joinToken(channel, uid) })}`);
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('record-state')?.textContent === 'Ready', undefined, { timeout: 60_000 });
  return page;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function filesUnder(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith(suffix)).map((name) => path.join(dir, name));
}

const unavailable = NetworkNamespace.unavailableReason();

t.test('npm start on a server, used from another machine: HTTPS/WSS, announced address, ICE over UDP and TCP, recording', { skip: unavailable ?? false }, async (t) => {
  buildWeb();
  const namespace = NetworkNamespace.create();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-remote-'));
  let server: StartedServer | undefined;
  // One teardown, in this order whatever failed: the server, then its network, then its files.
  t.teardown(async () => {
    if (server) await stopServer(server.child);
    namespace.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  server = await startServerIn(namespace, dir);
  const host = namespace.innerIp;
  const base = `https://${host}:${PORT}`;
  t.comment(server.banner.trim());

  t.match(server.banner, `confrec is running: ${base}/`, 'the start banner gives the https:// address other machines use');
  t.match(server.banner, new RegExp(`WebRTC announces ${host.replace(/\./g, '\\.')} \\(auto-detected \\(default route`), 'the announced address is auto-detected from the default route and printed');
  t.match(server.banner, /open UDP and TCP 40000-49999 and TCP 8080/, 'the ports to open are printed');
  const printed = /fingerprint is\n\s+([0-9A-F:]{95})/.exec(server.banner)?.[1];
  t.ok(printed, 'the self-signed certificate fingerprint is printed');
  t.ok(fs.existsSync(path.join(dir, 'var', 'tls', 'self-signed-cert.pem')), 'the certificate was generated into the state dir');

  // What a careful user does: compare the certificate the browser shows with the printed one.
  const certificate = await presentedCertificate(host);
  t.equal(certificate.fingerprint256, printed, 'the certificate served is the one whose fingerprint was printed');
  t.ok(certificate.checkIP(host), 'it names the announced address (subjectAltName)');
  const ca = certificate.toString();
  const untrusted = await httpGet(`${base}/healthz`).then(
    () => 'accepted',
    (error: NodeJS.ErrnoException) => error.code,
  );
  t.equal(untrusted, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'clients verify certificates by default: the self-signed one is refused until trusted');
  const health = await httpGet(`${base}/healthz`, { ca });
  t.equal(health.status, 200, 'HTTPS works once the certificate is trusted (hostname check included)');
  const tlsInfo = JSON.parse((await httpGet(`${base}/tls.json`, { ca })).body) as { fingerprint256: string; selfSigned: boolean };
  t.same(tlsInfo, { https: true, selfSigned: true, fingerprint256: printed }, 'the page can show the fingerprint to compare');

  const plain = await httpGet(`http://${host}:${PORT}/?channel=x`);
  t.equal(plain.status, 308, 'plain http:// from another machine is redirected');
  t.equal(plain.headers.location, `${base}/?channel=x`, '… to the same page over https://');
  const insecureSocket = await new Promise<string>((resolve) => {
    const socket = new WebSocket(`ws://${host}:${PORT}/ws`);
    socket.on('open', () => resolve('open'));
    socket.on('error', (error) => resolve(error.message));
  });
  t.match(insecureSocket, /426/, 'plain ws:// from another machine is refused (426): signaling is wss://');

  t.test('a Node client over wss:// is given candidates with the announced address, over UDP and TCP', async (t) => {
    const client = await SignalingClient.connect(`wss://${host}:${PORT}/ws`, (url) => new WebSocket(url, { ca }) as unknown as WebSocketLike);
    t.teardown(() => client.close());
    await client.request('join', { channelId: 'node-room', displayName: 'node', token: joinToken('node-room', 'node') });
    const transport = await client.request('createWebRtcTransport', { direction: 'send' });
    const candidates = transport.iceCandidates as Array<{ ip: string; protocol: string }>;
    t.same([...new Set(candidates.map((candidate) => candidate.ip))], [host], `every candidate announces ${host} (${JSON.stringify(candidates)})`);
    t.same([...new Set(candidates.map((candidate) => candidate.protocol))].sort(), ['tcp', 'udp'], 'ICE is offered over UDP and TCP');
    const plainTransport = await client.request('createPlainTransport', { direction: 'send', comedia: true });
    t.equal(plainTransport.ip, host, 'a plain transport for a remote client also gives the announced address');
  });

  t.test('the recorder SDK drives a recording over https:// given the self-signed certificate', async (t) => {
    const refused = createCloudRecorderInstance(base, {}, { reconnect: { maxAttempts: 0 }, requestTimeoutMs: 5000 });
    const refusedCode = await refused.startCloudRecording('confrec', 'sdk-room', joinToken('sdk-room', 'backend'), 'backend').then(
      () => 'started',
      (error: { code: string }) => error.code,
    );
    await refused.release().catch(() => undefined);
    t.not(refusedCode, 'started', `without the certificate the SDK cannot connect (${refusedCode}): verification is on by default`);
    const recorder = createCloudRecorderInstance(base, {}, { tls: { ca } });
    t.teardown(() => recorder.release().catch(() => undefined));
    const id = await recorder.startCloudRecording('confrec', 'sdk-room', joinToken('sdk-room', 'backend'), 'backend');
    t.ok(id, `started ${id} over wss://`);
    await recorder.stopCloudRecording();
  });

  t.test('Chromium joins over HTTPS, publishes its camera over ICE/UDP to the announced address and records', async (t) => {
    const spki = crypto.createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    const alice = await launchBrowser({ extraArgs: [`--ignore-certificate-errors-spki-list=${spki}`] });
    t.teardown(() => alice.close());
    await watchPeerConnections(alice);
    const signaling = captureSignaling(alice.page);
    const page = await joinFromPage(alice, base, 'remote-room', 'alice');
    t.match(page.url(), `${base}/`, 'the page is served over https://');
    t.equal(await page.evaluate(() => window.isSecureContext), true, 'a secure context: the browser gives it the camera');
    t.match(await page.textContent('#tls-note'), printed!, 'the page shows the certificate fingerprint to compare');

    const pairs = await until(async () => {
      const found = await selectedPairs(page);
      return found.some((pair) => pair.bytesSent > 200_000) ? found : undefined;
    }, 60_000, 'the camera to flow out');
    t.same(signaling.urls, [`wss://${host}:${PORT}/ws`], 'signaling runs over wss://');
    t.ok(signaling.candidates.length >= 2, `the page was given server candidates (${signaling.candidates.length})`);
    t.notOk(signaling.candidates.some((candidate) => candidate.ip !== host), `every candidate announces ${host}, none 127.0.0.1`);
    t.ok(signaling.candidates.some((candidate) => candidate.protocol === 'tcp'), 'TCP candidates are offered');
    const sending = pairs.find((pair) => pair.bytesSent > 200_000)!;
    t.equal(sending.address, host, `media goes to ${host} (selected pair ${JSON.stringify(sending)})`);
    t.equal(sending.protocol, 'udp', 'over UDP while UDP passes');

    await page.click('#record-button');
    await page.waitForFunction(() => document.getElementById('record-state')?.textContent === 'Running', undefined, { timeout: 60_000 });
    await sleep(5000);
    await page.click('#record-button');
    await page.waitForSelector('#recordings li[data-state="stored"]', { timeout: 60_000 });
    const files = filesUnder(path.join(dir, 'recordings', 'remote-room'), '.mp4');
    t.equal(files.length, 1, `one recording stored (${files.join(', ')})`);
    const info = await probe(files[0]!);
    t.ok(info.video, 'the recording has a video track');
    t.ok((await decodeAll(files[0]!)).ok, 'it decodes without errors');
    const seconds = await decodedDurationS(files[0]!, 'video');
    t.ok(seconds >= 3, `it holds ${seconds.toFixed(1)} s of decoded video frames from the remote camera`);
  });

  t.test('browsers that may not use UDP connect over ICE/TCP and media flows', async (t) => {
    const spki = crypto.createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    // The policy of networks that block UDP: Chromium then gathers and checks TCP candidates only.
    const flags = [`--ignore-certificate-errors-spki-list=${spki}`, '--webrtc-ip-handling-policy=disable_non_proxied_udp'];
    const bob = await launchBrowser({ extraArgs: flags });
    t.teardown(() => bob.close());
    const carol = await launchBrowser({ extraArgs: flags });
    t.teardown(() => carol.close());
    await watchPeerConnections(bob);
    await watchPeerConnections(carol);
    await joinFromPage(bob, base, 'tcp-room', 'bob');
    const carolPage = await joinFromPage(carol, base, 'tcp-room', 'carol');
    const selector = '.tile.remote[data-uid="bob"] video';
    await carolPage.waitForFunction((s) => ((document.querySelector(s) as HTMLVideoElement | null)?.videoWidth ?? 0) > 0, selector, { timeout: 60_000 });
    const before = await carolPage.$eval(selector, (video) => (video as HTMLVideoElement).currentTime);
    await carolPage.waitForFunction(([s, t0]) => (document.querySelector(s as string) as HTMLVideoElement).currentTime > (t0 as number) + 1, [selector, before] as const, { timeout: 30_000 });
    t.pass("carol sees bob's camera playing");
    for (const [name, page] of [['bob', bob.page], ['carol', carolPage]] as const) {
      const pairs = await selectedPairs(page);
      t.ok(pairs.length > 0 && pairs.every((pair) => pair.protocol === 'tcp' && pair.address === host), `${name}'s media runs over ICE/TCP to ${host} (${JSON.stringify(pairs)})`);
    }
  });
});
