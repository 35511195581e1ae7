/**
 * A Qiniu Kodo upload server for tests, faithful to the parts of the protocol the `qiniu` SDK uses
 * (developer.qiniu.com/kodo/1208/upload-token, /1312/upload, /6364 … /6368 multipart v2):
 *
 * - Upload tokens `AK:urlsafe_b64(HMAC-SHA1(SK, encodedPolicy)):encodedPolicy` are verified against
 *   the configured key pairs; the policy's `deadline` and `scope` (`bucket`, `bucket:key`, with
 *   `isPrefixalScope` and `insertOnly`) are enforced.
 * - Form upload: `POST /` multipart with `token`, `key`, `file`, `crc32` (checked when present).
 * - Resumable v2: `POST /buckets/<b>/objects/<b64key>/uploads` → {uploadId, expireAt};
 *   `PUT …/uploads/<id>/<n>` with Content-MD5 (hex) → {etag, md5}; `POST …/uploads/<id>` with the
 *   part list → {hash, key}; `DELETE …/uploads/<id>` aborts.
 * - Errors are Qiniu's statuses with JSON bodies {"error": "..."}: 400, 401 (bad/expired token),
 *   403 (key outside scope), 406 (crc32 mismatch), 612 (no such upload), 614 (file exists),
 *   631 (no such bucket), 5xx.
 * - Objects are kept in memory with Qiniu's etag (qetag) as their hash.
 *
 * Fault injection: fail the next N matching requests with a status, stall them (held open until the
 * client goes away or stalls are released), drop their connections, or take the whole server down
 * (connection refused) and bring it back on the same port.
 */

import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as zlib from 'node:zlib';

export type QiniuRequestKind = 'form' | 'init' | 'part' | 'complete' | 'abort' | 'other';

export type QiniuRequestInfo = {
  kind: QiniuRequestKind;
  method: string;
  path: string;
  bucket?: string;
  key?: string;
  uploadId?: string;
  partNumber?: number;
};

export type QiniuRequestLogEntry = QiniuRequestInfo & { status: number | 'stalled' | 'dropped' };

export type QiniuFaultAction = { status: number; error?: string } | 'stall' | 'drop';

export type QiniuFault = {
  action: QiniuFaultAction;
  /** Which requests the fault applies to (default: all). */
  match?: (info: QiniuRequestInfo) => boolean;
  /** How many matching requests it applies to (default 1; Infinity for "until cleared"). */
  times?: number;
};

export type QiniuServerOptions = {
  /** Key pairs the server accepts: accessKey → secretKey. */
  accounts: Record<string, string>;
  buckets: string[];
  /** Largest request body accepted (default 64 MiB). */
  maxBodyBytes?: number;
};

type StoredObject = { data: Buffer; hash: string; mimeType: string; putTime: number };
type UploadSession = { bucket: string; key: string; expireAt: number; parts: Map<number, { etag: string; data: Buffer }> };
type Policy = { scope: string; deadline: number; isPrefixalScope?: number; insertOnly?: number };

class QiniuHttpError extends Error {
  constructor(readonly status: number, readonly error: string) {
    super(error);
  }
}

const QETAG_BLOCK = 4 * 1024 * 1024;
const SEVEN_DAYS = 7 * 24 * 3600;

/** Qiniu's etag: sha1 of the data (≤ 4 MiB) or sha1 of the 4 MiB blocks' sha1s, prefixed, urlsafe base64. */
export function qetag(data: Buffer): string {
  if (data.length <= QETAG_BLOCK) {
    return Buffer.concat([Buffer.from([0x16]), createHash('sha1').update(data).digest()]).toString('base64url');
  }
  const sha1s: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += QETAG_BLOCK) {
    sha1s.push(createHash('sha1').update(data.subarray(offset, offset + QETAG_BLOCK)).digest());
  }
  return Buffer.concat([Buffer.from([0x96]), createHash('sha1').update(Buffer.concat(sha1s)).digest()]).toString('base64url');
}

function urlsafeBase64(buffer: Buffer): string {
  // Qiniu keeps the '=' padding (unlike RFC 4648 base64url as Node prints it).
  return buffer.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export class QiniuTestServer extends EventEmitter {
  readonly #accounts: Map<string, string>;
  readonly #buckets: Map<string, Map<string, StoredObject>>;
  readonly #uploads = new Map<string, UploadSession>();
  readonly #faults: Array<Required<Pick<QiniuFault, 'action'>> & { match: (info: QiniuRequestInfo) => boolean; remaining: number }> = [];
  readonly #sockets = new Set<Socket>();
  readonly #stalled = new Set<http.ServerResponse>();
  readonly #maxBodyBytes: number;
  readonly requests: QiniuRequestLogEntry[] = [];
  #server: http.Server | undefined;
  #port = 0;
  #closed = false;

  private constructor(options: QiniuServerOptions) {
    super();
    this.#accounts = new Map(Object.entries(options.accounts));
    this.#buckets = new Map(options.buckets.map((bucket) => [bucket, new Map()]));
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  }

  static async start(options: QiniuServerOptions): Promise<QiniuTestServer> {
    const server = new QiniuTestServer(options);
    await server.comeUp();
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** For the SDK's Endpoint / StorageTarget.endpoint. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get isUp(): boolean {
    return this.#server !== undefined;
  }

  getObject(bucket: string, key: string): Buffer | undefined {
    const object = this.#buckets.get(bucket)?.get(key);
    return object ? Buffer.from(object.data) : undefined;
  }

  /** Stores an object directly, as another writer of the bucket would have. */
  putObject(bucket: string, key: string, data: Buffer): void {
    const objects = this.#buckets.get(bucket);
    if (!objects) throw new Error(`no bucket ${bucket}`);
    objects.set(key, { data: Buffer.from(data), hash: qetag(data), mimeType: 'application/octet-stream', putTime: Date.now() });
  }

  objectKeys(bucket: string): string[] {
    return [...(this.#buckets.get(bucket)?.keys() ?? [])];
  }

  /** Requests of one kind that got a given status (e.g. parts accepted: ('part', 200)). */
  count(kind: QiniuRequestKind, status?: number): number {
    return this.requests.filter((r) => r.kind === kind && (status === undefined || r.status === status)).length;
  }

  addFault(fault: QiniuFault): void {
    this.#faults.push({ action: fault.action, match: fault.match ?? (() => true), remaining: fault.times ?? 1 });
  }

  failNext(times: number, status: number, error = 'injected failure', match?: (info: QiniuRequestInfo) => boolean): void {
    this.addFault({ action: { status, error }, times, ...(match ? { match } : {}) });
  }

  stallNext(times = 1, match?: (info: QiniuRequestInfo) => boolean): void {
    this.addFault({ action: 'stall', times, ...(match ? { match } : {}) });
  }

  dropNext(times = 1, match?: (info: QiniuRequestInfo) => boolean): void {
    this.addFault({ action: 'drop', times, ...(match ? { match } : {}) });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Ends every stalled request by destroying its connection (as a dying proxy would). */
  releaseStalled(): void {
    for (const res of this.#stalled) res.socket?.destroy();
    this.#stalled.clear();
  }

  /** Resolves with the first request (already seen or future) that matches. */
  waitForRequest(predicate: (entry: QiniuRequestLogEntry) => boolean): Promise<QiniuRequestLogEntry> {
    const seen = this.requests.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (entry: QiniuRequestLogEntry): void => {
        if (!predicate(entry)) return;
        this.off('request', listener);
        resolve(entry);
      };
      this.on('request', listener);
    });
  }

  /** Stops listening and cuts every connection: clients now get ECONNREFUSED. */
  async goDown(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.releaseStalled();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  /** Listens again, on the same port as before (a fresh port the first time). */
  async comeUp(): Promise<void> {
    if (this.#server || this.#closed) return;
    const server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error) => {
        if (!res.headersSent) this.#reply(res, undefined, 599, { error: `test server bug: ${String(error)}` });
      });
    });
    server.keepAliveTimeout = 2000;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.goDown();
    this.#closed = true;
  }

  // ------------------------------------------------------------------------------------------------

  #classify(req: http.IncomingMessage): QiniuRequestInfo {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const info: QiniuRequestInfo = { kind: 'other', method, path: url.pathname };
    if (method === 'POST' && url.pathname === '/') {
      info.kind = 'form';
      return info;
    }
    const m = /^\/buckets\/([^/]+)\/objects\/([^/]+)\/uploads(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(url.pathname);
    if (!m) return info;
    info.bucket = decodeURIComponent(m[1]!);
    info.key = m[2] === '~' ? undefined : Buffer.from(m[2]!, 'base64url').toString('utf8');
    if (m[3]) info.uploadId = m[3];
    if (m[4]) info.partNumber = Number(m[4]);
    if (method === 'POST' && !m[3]) info.kind = 'init';
    else if (method === 'PUT' && m[3] && m[4]) info.kind = 'part';
    else if (method === 'POST' && m[3] && !m[4]) info.kind = 'complete';
    else if (method === 'DELETE' && m[3] && !m[4]) info.kind = 'abort';
    return info;
  }

  #takeFault(info: QiniuRequestInfo): QiniuFaultAction | undefined {
    for (let i = 0; i < this.#faults.length; i++) {
      const fault = this.#faults[i]!;
      if (!fault.match(info)) continue;
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.#faults.splice(i, 1);
      return fault.action;
    }
    return undefined;
  }

  #log(info: QiniuRequestInfo, status: QiniuRequestLogEntry['status']): void {
    const entry: QiniuRequestLogEntry = { ...info, status };
    this.requests.push(entry);
    this.emit('request', entry);
  }

  #reply(res: http.ServerResponse, info: QiniuRequestInfo | undefined, status: number, body: unknown): void {
    const json = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), 'X-Reqid': randomBytes(8).toString('hex') });
    res.end(json);
    if (info) this.#log(info, status);
  }

  async #readBody(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.#maxBodyBytes) throw new QiniuHttpError(413, 'request entity too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const info = this.#classify(req);
    const fault = this.#takeFault(info);
    if (fault === 'drop') {
      this.#log(info, 'dropped');
      req.socket.destroy();
      return;
    }
    if (fault === 'stall') {
      this.#stalled.add(res);
      res.on('close', () => this.#stalled.delete(res));
      // Keep reading so the client believes its body went through and waits for an answer.
      req.resume();
      this.#log(info, 'stalled');
      this.emit('stalled', info);
      return;
    }
    let body: Buffer;
    try {
      body = await this.#readBody(req);
    } catch (error) {
      if (error instanceof QiniuHttpError) this.#reply(res, info, error.status, { error: error.error });
      else req.socket.destroy();
      return;
    }
    if (fault) {
      this.#reply(res, info, fault.status, { error: fault.error ?? 'injected failure' });
      return;
    }
    try {
      const answer = this.#route(info, req, body);
      this.#reply(res, info, 200, await answer);
    } catch (error) {
      if (error instanceof QiniuHttpError) this.#reply(res, info, error.status, { error: error.error });
      else this.#reply(res, info, 599, { error: `server error: ${String(error)}` });
    }
  }

  async #route(info: QiniuRequestInfo, req: http.IncomingMessage, body: Buffer): Promise<unknown> {
    switch (info.kind) {
      case 'form':
        return this.#formUpload(req, body);
      case 'init':
        return this.#init(info, this.#authHeader(req));
      case 'part':
        return this.#part(info, this.#authHeader(req), req, body);
      case 'complete':
        return this.#complete(info, this.#authHeader(req), body);
      case 'abort':
        this.#verifyToken(this.#authHeader(req));
        this.#uploads.delete(info.uploadId!);
        return {};
      default:
        throw new QiniuHttpError(404, 'document not found');
    }
  }

  #authHeader(req: http.IncomingMessage): string {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('UpToken ')) throw new QiniuHttpError(401, 'bad token');
    return auth.slice('UpToken '.length);
  }

  /** Verifies signature and deadline; returns the policy and its scope's bucket. */
  #verifyToken(token: string): { policy: Policy; bucket: string; scopeKey: string | undefined } {
    const parts = token.split(':');
    if (parts.length !== 3) throw new QiniuHttpError(401, 'bad token');
    const [accessKey, sign, encodedPolicy] = parts as [string, string, string];
    const secretKey = this.#accounts.get(accessKey);
    if (secretKey === undefined) throw new QiniuHttpError(401, 'bad token');
    const expected = urlsafeBase64(createHmac('sha1', secretKey).update(encodedPolicy).digest());
    if (expected !== sign) throw new QiniuHttpError(401, 'bad token');
    let policy: Policy;
    try {
      policy = JSON.parse(Buffer.from(encodedPolicy, 'base64url').toString('utf8')) as Policy;
    } catch {
      throw new QiniuHttpError(401, 'bad token');
    }
    if (typeof policy.scope !== 'string' || typeof policy.deadline !== 'number') throw new QiniuHttpError(401, 'bad token');
    if (policy.deadline < Math.floor(Date.now() / 1000)) throw new QiniuHttpError(401, 'expired token');
    const separator = policy.scope.indexOf(':');
    const bucket = separator === -1 ? policy.scope : policy.scope.slice(0, separator);
    const scopeKey = separator === -1 ? undefined : policy.scope.slice(separator + 1);
    if (!this.#buckets.has(bucket)) throw new QiniuHttpError(631, 'no such bucket');
    return { policy, bucket, scopeKey };
  }

  /** Scope rules: 'bucket' = insert only; 'bucket:key' = that key, overwrite allowed unless insertOnly. */
  #checkKey(auth: { policy: Policy; bucket: string; scopeKey: string | undefined }, key: string, requestBucket?: string): void {
    if (requestBucket !== undefined && requestBucket !== auth.bucket) throw new QiniuHttpError(403, "bucket doesn't match with scope");
    if (auth.scopeKey !== undefined) {
      const ok = auth.policy.isPrefixalScope === 1 ? key.startsWith(auth.scopeKey) : key === auth.scopeKey;
      if (!ok) throw new QiniuHttpError(403, "key doesn't match with scope");
    }
  }

  #store(auth: { policy: Policy; bucket: string; scopeKey: string | undefined }, key: string, data: Buffer, mimeType: string): { hash: string; key: string } {
    const objects = this.#buckets.get(auth.bucket)!;
    const insertOnly = auth.scopeKey === undefined || auth.policy.isPrefixalScope === 1 || auth.policy.insertOnly === 1;
    const hash = qetag(data);
    const existing = objects.get(key);
    // Qiniu answers 614 only when the existing object differs; an identical re-upload succeeds.
    if (existing && insertOnly && existing.hash !== hash) throw new QiniuHttpError(614, 'file exists');
    objects.set(key, { data, hash, mimeType, putTime: Date.now() });
    this.emit('stored', { bucket: auth.bucket, key, size: data.length });
    return { hash, key };
  }

  async #formUpload(req: http.IncomingMessage, body: Buffer): Promise<unknown> {
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) throw new QiniuHttpError(400, 'invalid multipart format');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new QiniuHttpError(400, 'invalid multipart format');
    }
    const token = form.get('token');
    if (typeof token !== 'string') throw new QiniuHttpError(401, 'token not specified');
    const auth = this.#verifyToken(token);
    const file = form.get('file');
    if (!file || typeof file === 'string') throw new QiniuHttpError(400, 'file not specified');
    const data = Buffer.from(await file.arrayBuffer());
    const keyField = form.get('key');
    const key = typeof keyField === 'string' ? keyField : qetag(data);
    this.#checkKey(auth, key);
    const crc = form.get('crc32');
    if (typeof crc === 'string' && crc !== '' && Number(crc) !== zlib.crc32(data)) throw new QiniuHttpError(406, 'crc32 not match');
    return this.#store(auth, key, data, file.type || 'application/octet-stream');
  }

  #init(info: QiniuRequestInfo, token: string): unknown {
    const auth = this.#verifyToken(token);
    const key = info.key ?? '';
    this.#checkKey(auth, key, info.bucket);
    const uploadId = randomBytes(12).toString('hex');
    const expireAt = Math.floor(Date.now() / 1000) + SEVEN_DAYS;
    this.#uploads.set(uploadId, { bucket: auth.bucket, key, expireAt, parts: new Map() });
    return { uploadId, expireAt };
  }

  #session(info: QiniuRequestInfo, auth: { bucket: string }): UploadSession {
    const session = this.#uploads.get(info.uploadId ?? '');
    if (!session || session.expireAt < Date.now() / 1000) throw new QiniuHttpError(612, 'no such uploadId');
    if (session.bucket !== auth.bucket || session.key !== (info.key ?? '')) throw new QiniuHttpError(612, 'no such uploadId');
    return session;
  }

  #part(info: QiniuRequestInfo, token: string, req: http.IncomingMessage, body: Buffer): unknown {
    const auth = this.#verifyToken(token);
    this.#checkKey(auth, info.key ?? '', info.bucket);
    const session = this.#session(info, auth);
    const partNumber = info.partNumber ?? NaN;
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) throw new QiniuHttpError(400, 'invalid partNumber');
    if (body.length > 1024 * 1024 * 1024) throw new QiniuHttpError(400, 'part too large');
    const md5 = createHash('md5').update(body).digest('hex');
    const declared = req.headers['content-md5'];
    if (typeof declared === 'string' && declared !== '' && declared.toLowerCase() !== md5) throw new QiniuHttpError(400, 'content md5 not match');
    const etag = qetag(body);
    session.parts.set(partNumber, { etag, data: body });
    return { etag, md5 };
  }

  #complete(info: QiniuRequestInfo, token: string, body: Buffer): unknown {
    const auth = this.#verifyToken(token);
    this.#checkKey(auth, info.key ?? '', info.bucket);
    const session = this.#session(info, auth);
    let request: { parts?: Array<{ etag?: string; partNumber?: number }>; mimeType?: string | null };
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      throw new QiniuHttpError(400, 'invalid json');
    }
    const parts = request.parts;
    if (!Array.isArray(parts) || parts.length === 0) throw new QiniuHttpError(400, 'no parts');
    const buffers: Buffer[] = [];
    let previous = 0;
    parts.forEach((part, index) => {
      const stored = session.parts.get(part.partNumber ?? -1);
      if (typeof part.partNumber !== 'number' || part.partNumber <= previous) throw new QiniuHttpError(400, 'parts must be in ascending order');
      previous = part.partNumber;
      if (!stored || stored.etag !== part.etag) throw new QiniuHttpError(400, `invalid part ${part.partNumber}`);
      if (index < parts.length - 1 && stored.data.length < 1024 * 1024) throw new QiniuHttpError(400, 'part too small');
      buffers.push(stored.data);
    });
    const result = this.#store(auth, session.key, Buffer.concat(buffers), request.mimeType ?? 'application/octet-stream');
    this.#uploads.delete(info.uploadId!);
    return result;
  }
}
