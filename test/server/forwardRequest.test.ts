// forwardRequest between two real HTTP servers on loopback: an "owner" node with a few routes and a
// "front" node that forwards everything to it, driven by a plain HTTP client.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { FORWARDED_BY_HEADER, forwardRequest, wasForwarded } from '../../server/http/forwardRequest';
import { sendFile } from '../../server/http/sendFile';
import { generateSelfSignedCertificate } from '../../server/tls/selfSignedCertificate';
import { freePort } from '../support/freePort';

const OWNER_IP = '127.0.0.2';
/** The part of a tap test the helpers need: servers they start close with the test. */
type TearsDown = { teardown(fn: () => Promise<void>): void };
const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
const within = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);

async function listen(t: TearsDown, ip: string, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://${ip}:${(server.address() as AddressInfo).port}`;
}

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer; forwarded: boolean }

/** The owner node: records what reached it; `reached`/`gone` resolve when a request to /hang or /endless came and went away. */
async function startOwner(t: TearsDown, file: string) {
  const seen: Seen[] = [];
  const fileMethods: string[] = [];
  let arrived!: () => void;
  let closed!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const gone = new Promise<void>((resolve) => (closed = resolve));
  const origin = await listen(t, OWNER_IP, async (request, response) => {
    const route = new URL(request.url!, 'http://x').pathname;
    if (route === '/hang' || route === '/endless') {
      arrived();
      response.once('close', closed);
    }
    if (route === '/hang') return;
    if (route === '/reset') return request.socket.destroy();
    if (route === '/cut' || route === '/stall') {
      // Headers and a part of the promised body, then the connection breaks (or stays silent).
      response.writeHead(200, { 'content-length': String(1024 * 1024) });
      return response.write(crypto.randomBytes(64 * 1024), () => route === '/cut' && setTimeout(() => request.socket.destroy(), 50));
    }
    if (route === '/file') {
      fileMethods.push(request.method!);
      return sendFile(request, response, file);
    }
    if (route === '/endless') {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => response.write(crypto.randomBytes(64 * 1024)), 10);
      return response.once('close', () => clearInterval(timer));
    }
    const body = await readAll(request);
    seen.push({ method: request.method!, url: request.url!, headers: request.headers, body, forwarded: wasForwarded(request) });
    response.writeHead(201, { 'content-type': 'application/json', 'x-confrec-node': 'owner', 'set-cookie': ['a=1', 'b=2'], 'x-drop-me': 'no', connection: 'x-drop-me' });
    response.end(JSON.stringify({ sha: sha256(body), length: body.length }));
  });
  return { origin, seen, fileMethods, reached, gone };
}

/**
 * The front node: forwards every request to `origin`, JSON ones (/json…) with the body read first as
 * the API does; /json-replaced with a body of its own (shorter than the client's).
 */
async function startFront(t: TearsDown, origin: string, timeoutMs?: number): Promise<string> {
  return listen(t, '127.0.0.1', async (request, response) => {
    const read = request.url!.startsWith('/json') ? await readAll(request) : undefined;
    const body = request.url!.startsWith('/json-replaced') ? Buffer.from('{"replaced":true}') : read;
    await forwardRequest(request, response, { origin, nodeId: 'front-node', body, timeoutMs });
  });
}

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer; ms: number }

/** One request; a front that does not answer within 5 s fails the test instead of hanging it. */
function send(url: string, options: http.RequestOptions = {}, body?: Buffer | Buffer[]): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent: false, timeout: 5000, ...options }, (answer) => {
      readAll(answer).then((body) => resolve({ status: answer.statusCode!, headers: answer.headers, body, ms: Date.now() - started }), reject);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within 5 s`)));
    // An array is written piece by piece (chunked, no content-length), as a streaming client would.
    for (const piece of Array.isArray(body) ? body : body ? [body] : []) request.write(piece);
    request.end();
  });
}

t.test('forwardRequest', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forward-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const content = crypto.randomBytes(1024 * 1024);
  const file = path.join(dir, 'big.bin');
  fs.writeFileSync(file, content);
  const owner = await startOwner(t, file);
  const front = await startFront(t, owner.origin);

  t.test('a JSON POST read by the front arrives intact, with authorization and the forwarded-by header; the answer comes back', async (t) => {
    const json = Buffer.from(JSON.stringify({ channelName: 'räum-ü', n: 1 }));
    const answer = await send(`${front}/json/recordings?x=1&y=%C3%A9`, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json', 'proxy-authorization': 'Basic eA==', 'keep-alive': 'timeout=5', 'x-custom': 'kept', connection: 'keep-alive, x-hop', 'x-hop': '1' },
    }, [json.subarray(0, 5), json.subarray(5)]);
    const seen = owner.seen.at(-1)!;
    t.equal(seen.method, 'POST');
    t.equal(seen.url, '/json/recordings?x=1&y=%C3%A9', 'path and query as sent');
    t.equal(sha256(seen.body), sha256(json), 'body intact');
    t.equal(seen.headers['content-length'], String(json.length), 'content-length of the pre-read body (bytes, not characters)');
    t.equal(seen.headers['transfer-encoding'], undefined, 'not chunked');
    t.equal(seen.headers.authorization, 'Bearer s3cret');
    t.equal(seen.headers['content-type'], 'application/json');
    t.equal(seen.headers['x-custom'], 'kept');
    t.equal(seen.headers[FORWARDED_BY_HEADER], 'front-node');
    t.ok(seen.forwarded, 'the owner sees wasForwarded()');
    t.equal(seen.headers.host, new URL(owner.origin).host, 'host names the owner');
    for (const hop of ['proxy-authorization', 'keep-alive', 'x-hop']) t.equal(seen.headers[hop], undefined, `${hop} not passed on`);
    t.equal(answer.status, 201, "the owner's status");
    t.equal(answer.headers['x-confrec-node'], 'owner', "the owner's headers");
    t.same(answer.headers['set-cookie'], ['a=1', 'b=2'], 'repeated headers kept');
    t.equal(answer.headers['x-drop-me'], undefined, 'a header the owner named in connection is not passed back');
    t.same(JSON.parse(String(answer.body)), { sha: sha256(json), length: json.length }, "the owner's body");

    const long = Buffer.from(JSON.stringify({ padding: 'x'.repeat(100) }));
    await send(`${front}/json-replaced`, { method: 'POST', headers: { 'content-length': String(long.length) } }, long);
    t.equal(String(owner.seen.at(-1)!.body), '{"replaced":true}', 'a body the front replaced');
    t.equal(owner.seen.at(-1)!.headers['content-length'], '17', "… goes with its own length, not the client's");
  });

  t.test('a body not read by the front is piped', async (t) => {
    const upload = crypto.randomBytes(300_000);
    const answer = await send(`${front}/upload`, { method: 'PUT' }, [upload.subarray(0, 100_000), upload.subarray(100_000)]);
    t.equal(answer.status, 201);
    t.equal(sha256(owner.seen.at(-1)!.body), sha256(upload), 'the streamed body arrives whole');
    t.equal(owner.seen.at(-1)!.headers[FORWARDED_BY_HEADER], 'front-node');
    const sneaky = await send(front, { path: '//127.0.0.1:1/x?y' });
    t.equal(sneaky.status, 201, 'a path starting with // still goes to the owner');
    t.equal(owner.seen.at(-1)!.url, '//127.0.0.1:1/x?y', '… as the path it is');
  });

  t.test('a Range GET of a 1 MB file answers 206 with the right bytes; a whole GET too', async (t) => {
    const part = await send(`${front}/file`, { headers: { range: 'bytes=1000-700999' } });
    t.equal(part.status, 206);
    t.equal(part.headers['content-range'], `bytes 1000-700999/${content.length}`);
    t.equal(part.headers['content-length'], '700000');
    t.equal(sha256(part.body), sha256(content.subarray(1000, 701000)), 'the bytes of the range');
    const whole = await send(`${front}/file`);
    t.equal(whole.status, 200);
    t.equal(sha256(whole.body), sha256(content), 'the whole file');
  });

  t.test('HEAD goes as HEAD and answers the headers only', async (t) => {
    const head = await send(`${front}/file`, { method: 'HEAD' });
    t.equal(owner.fileMethods.at(-1), 'HEAD', 'the owner was asked HEAD');
    t.equal(head.status, 200);
    t.equal(head.headers['content-length'], String(content.length), "the owner's length");
    t.equal(head.headers['accept-ranges'], 'bytes');
    t.equal(head.body.length, 0);
  });

  t.test('an owner breaking off its answer breaks the answer to the client (no clean end of a cut body)', async (t) => {
    const outcome = await send(`${front}/cut`).then(() => 'a complete answer', (error: Error) => error.message);
    t.match(outcome, /aborted|socket hang up|ECONNRESET/, `the client sees the break: ${outcome}`);
  });

  t.test('an owner that cannot be reached: 502 NODE_UNAVAILABLE at once', async (t) => {
    const down = `http://${OWNER_IP}:${await freePort(OWNER_IP)}`;
    const answer = await send(`${await startFront(t, down)}/json/recordings`, { method: 'POST' }, Buffer.from('{}'));
    t.equal(answer.status, 502);
    t.match(answer.headers['content-type'], /^application\/json/);
    t.equal(JSON.parse(String(answer.body)).error.code, 'NODE_UNAVAILABLE');
    t.match(JSON.parse(String(answer.body)).error.message, `cluster node at ${down} did not answer: connect ECONNREFUSED`);
    t.ok(answer.ms < 1000, `answered in ${answer.ms} ms`);
    const reset = await send(`${front}/reset`);
    t.equal(reset.status, 502, 'an owner resetting the connection before its headers: 502 too');
    t.match(JSON.parse(String(reset.body)).error, { code: 'NODE_UNAVAILABLE', message: /did not answer: socket hang up/ });
  });

  t.test('an owner that never answers: 502 after timeoutMs, and the request to it is dropped; one silent mid-answer: a break', async (t) => {
    const impatient = await startFront(t, owner.origin, 300);
    const stalled = await send(`${impatient}/stall`).then(() => 'a complete answer', (error: Error) => error.message);
    t.match(stalled, /aborted|socket hang up|ECONNRESET/, `the client sees the break: ${stalled}`);
    const answer = await send(`${impatient}/hang`);
    t.equal(answer.status, 502);
    t.match(JSON.parse(String(answer.body)).error, { code: 'NODE_UNAVAILABLE', message: /did not answer: nothing within 300 ms/ });
    t.ok(answer.ms >= 290 && answer.ms < 3000, `answered after ${answer.ms} ms`);
    t.ok(await within(owner.gone, 2000), 'the owner saw its request close');
  });
});

for (const [route, moment] of [['/endless', 'mid-download'], ['/hang', 'before the owner answered']] as const) {
  t.test(`a client leaving ${moment} aborts the request to the owner`, async (t) => {
    const owner = await startOwner(t, __filename);
    const front = await startFront(t, owner.origin);
    const request = http.get(`${front}${route}`, { agent: false });
    request.on('error', () => undefined);
    const firstByte = new Promise<void>((resolve) => request.on('response', (answer) => answer.once('data', () => resolve())));
    t.ok(await within(route === '/endless' ? firstByte : owner.reached, 5000), route === '/endless' ? 'the download had started' : 'the owner has the request');
    request.destroy();
    t.ok(await within(owner.gone, 2000), 'the owner saw the request close while the front server still runs');
  });
}

t.test('an https owner: its certificate is checked against the CAs; NODE_EXTRA_CA_CERTS makes it trusted', async (t) => {
  const certificate = generateSelfSignedCertificate({ commonName: 'owner', dnsNames: [], ipAddresses: [OWNER_IP], validDays: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forward-tls-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const certFile = path.join(dir, 'owner.pem');
  fs.writeFileSync(certFile, certificate.certPem);
  const server = https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, (request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ forwardedBy: request.headers[FORWARDED_BY_HEADER] }));
  });
  await new Promise<void>((resolve) => server.listen(0, OWNER_IP, resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const origin = `https://${OWNER_IP}:${(server.address() as AddressInfo).port}`;

  const refused = await send(`${await startFront(t, origin)}/x`);
  t.equal(refused.status, 502, 'a certificate no CA vouches for: the owner counts as unreachable');
  t.match(JSON.parse(String(refused.body)).error, { code: 'NODE_UNAVAILABLE', message: /did not answer: self[- ]signed certificate/ });

  // A front process started with the owner's certificate in NODE_EXTRA_CA_CERTS (read at start-up only).
  const script = `const http = require('node:http'); const { forwardRequest } = require(process.argv[1]);
    const server = http.createServer((q, r) => forwardRequest(q, r, { origin: process.argv[2], nodeId: 'front-node' }));
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script, require.resolve('../../server/http/forwardRequest'), origin], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => void child.kill());
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (chunk) => resolve(String(chunk).trim())));
  const trusted = await send(`http://127.0.0.1:${port}/x`);
  t.equal(trusted.status, 200, 'trusted: forwarded over https');
  t.same(JSON.parse(String(trusted.body)), { forwardedBy: 'front-node' });
});
