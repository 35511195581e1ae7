/**
 * Passes one HTTP request on to the cluster node that owns its resource and streams that node's
 * answer back unchanged (status, headers, body: a 206 range answer or a HEAD stays what it was).
 * An owner that cannot be reached is answered 502 NODE_UNAVAILABLE. https origins are checked
 * against the default CAs: a node with a self-signed certificate must be trusted by the others
 * (NODE_EXTRA_CA_CERTS=<its certificate> in their environment).
 */
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import { SignalingErrorCode } from '../../signaling/errors';
import { sendErrorBody } from './json';

export const FORWARDED_BY_HEADER = 'x-confrec-forwarded-by';

const DEFAULT_TIMEOUT_MS = 15_000;

export interface ForwardOptions {
  /** Origin of the owner node, e.g. http://127.0.0.2:4123 (https allowed). */
  origin: string;
  /** This node's id, sent in FORWARDED_BY_HEADER. */
  nodeId: string;
  /** The request body when the caller already read it (JSON APIs); otherwise the request is piped. */
  body?: Buffer;
  /** Give up on an owner that sends nothing for this long, before or within its answer (default 15000 ms). */
  timeoutMs?: number;
}

// They describe one connection, not the message (RFC 9110 §7.6.1); host names the owner, not us.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = String(headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase());
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named.includes(name)) continue;
    kept[name] = value;
  }
  return kept;
}

/** True when the request came from another node already (it must be served here, never forwarded again). */
export function wasForwarded(request: http.IncomingMessage): boolean {
  return request.headers[FORWARDED_BY_HEADER] !== undefined;
}

/** Resolves once the owner's answer was passed on (status, headers, body streamed), or the client left. */
export async function forwardRequest(request: http.IncomingMessage, response: http.ServerResponse, options: ForwardOptions): Promise<void> {
  const { origin, nodeId, body, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const target = new URL(origin);
  const transport = target.protocol === 'https:' ? https : http;
  const headers = endToEndHeaders(request.headers);
  headers[FORWARDED_BY_HEADER] = nodeId;
  // The caller's body may not be the client's (rewritten): its own length, never a stale one.
  if (body) headers['content-length'] = String(body.length);
  await new Promise<void>((resolve) => {
    // The path goes as request.url and never through new URL(url, origin): `//elsewhere/x` would change the host.
    const upstream = transport.request({
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port,
      method: request.method,
      path: request.url,
      headers,
      timeout: timeoutMs,
    });
    response.once('close', () => {
      // A client gone mid-answer must not leave the owner streaming into a buffer nobody reads.
      if (!response.writableFinished) upstream.destroy();
      resolve();
    });
    upstream.once('timeout', () => upstream.destroy(new Error(`nothing within ${timeoutMs} ms`)));
    upstream.on('error', (error) => {
      // Once the headers went out pipeline() breaks the answer off (an honest cut, not a clean end).
      if (response.headersSent || response.destroyed) return;
      sendErrorBody(response, 502, SignalingErrorCode.NodeUnavailable, `cluster node at ${origin} did not answer: ${error.message}`);
    });
    upstream.once('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.headers));
      pipeline(answer, response, (error) => error && upstream.destroy());
    });
    if (body) upstream.end(body);
    else request.pipe(upstream);
  });
}
