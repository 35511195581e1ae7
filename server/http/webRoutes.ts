import fs from 'node:fs';
import path from 'node:path';
import type { HttpRoute, MediaServer } from '../MediaServer';
import { webDistDir } from './webDist';
import { SignalingErrorCode } from '../../signaling/errors';
import { sendErrorBody, sendJson } from './json';
import { sendFile } from './sendFile';

const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * The web page: `/` is dist/web/index.html and `/assets/<name>` the files beside it, all written by
 * scripts/build-web.js (which `npm start` runs). Flat names only, so no path can leave the directory.
 */
export function createWebRoutes(options: { webDir?: string } = {}): HttpRoute {
  const webDir = options.webDir ?? webDistDir();
  return async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/' || pathname === '/index.html') {
      const index = path.join(webDir, 'index.html');
      if (!fs.existsSync(index)) {
        response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('The web page is not built yet. Run `npm start` (it builds it), or `node scripts/build-web.js`.\n');
        return true;
      }
      await sendFile(request, response, index, { 'cache-control': 'no-cache' });
      return true;
    }
    if (pathname === '/favicon.ico') {
      response.writeHead(204);
      response.end();
      return true;
    }
    if (!pathname.startsWith('/assets/')) return false;
    const name = pathname.slice('/assets/'.length);
    // Checked before any decoding: '%2e%2e' or '%2f' never become path characters.
    if (!ASSET_NAME.test(name)) {
      sendErrorBody(response, 404, SignalingErrorCode.NotFound, 'no such asset');
      return true;
    }
    await sendFile(request, response, path.join(webDir, 'assets', name), { 'cache-control': 'no-cache' });
    return true;
  };
}

/** GET /tls.json: whether the port serves HTTPS and the certificate's fingerprint, for the page to show. */
export function createTlsInfoRoute(server: MediaServer): HttpRoute {
  return (request, response) => {
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://localhost').pathname !== '/tls.json') return false;
    const { certificate } = server;
    sendJson(response, 200, certificate ? { https: true, selfSigned: certificate.selfSigned, fingerprint256: certificate.fingerprint256 } : { https: false, selfSigned: false });
    return true;
  };
}

/** What the page needs from the server itself: the page and its certificate note (the recording plugin adds /api/recordings). */
export function installWebRoutes(server: MediaServer, options: { webDir?: string } = {}): void {
  server.addRoute(createWebRoutes(options));
  server.addRoute(createTlsInfoRoute(server));
}
