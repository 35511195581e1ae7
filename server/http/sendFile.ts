import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { SignalingErrorCode } from '../../signaling/errors';
import { sendErrorBody } from './json';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.ogg': 'audio/ogg',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Streams a file with a single-range `Range` answer (206) when asked: <video> seeks by range
 * requests and refuses to seek at all when a server ignores them. GET and HEAD only.
 */
export async function sendFile(request: http.IncomingMessage, response: http.ServerResponse, file: string, headers: Record<string, string> = {}): Promise<void> {
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (!stat?.isFile()) {
    sendErrorBody(response, 404, SignalingErrorCode.NotFound, 'no such file');
    return;
  }
  const size = stat.size;
  const base: Record<string, string | number> = {
    'content-type': contentTypeOf(file),
    'accept-ranges': 'bytes',
    'last-modified': stat.mtime.toUTCString(),
    ...headers,
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = request.headers.range;
  if (range) {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!match || (match[1] === '' && match[2] === '')) {
      response.writeHead(416, { 'content-range': `bytes */${size}` });
      response.end();
      return;
    }
    if (match[1] === '') {
      // Suffix range: the last N bytes.
      start = Math.max(0, size - Number(match[2]));
    } else {
      start = Number(match[1]);
      if (match[2] !== '') end = Math.min(Number(match[2]), size - 1);
    }
    if (start > end || start >= size) {
      response.writeHead(416, { 'content-range': `bytes */${size}` });
      response.end();
      return;
    }
    status = 206;
    base['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  base['content-length'] = size === 0 ? 0 : end - start + 1;
  response.writeHead(status, base);
  if (request.method === 'HEAD' || size === 0) {
    response.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = fs.createReadStream(file, { start, end });
    stream.on('error', () => {
      response.destroy();
      resolve();
    });
    response.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(response);
  });
}
