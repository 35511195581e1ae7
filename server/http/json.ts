/** JSON answers of every HTTP surface: one body shape, `{ error: { code, message } }` for errors. */
import type http from 'node:http';
import type { ErrorCode } from '../../signaling/errors';

export function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/** After the headers went out (a stream broke mid-file) the only honest answer is ending it. */
export function sendErrorBody(response: http.ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  sendJson(response, status, { error: { code, message } }, headers);
}
