import type http from 'node:http';
import { HttpErrorCode } from '../../signaling/errors';
import type { ApiAuthenticator } from '../http/basicAuth';
import { ApiError, sendError, toApiError } from '../http/apiError';
import { Logger } from '../logger';
import type { HttpRoute } from '../plugins/contract';
import type { ServerMetrics } from './ServerMetrics';

const logger = new Logger('metrics');

export const METRICS_PATH = '/metrics';

/**
 * GET /metrics in Prometheus' text format. With `auth`, it wants the HTTP API's Basic credentials
 * (401 UNAUTHORIZED otherwise); without (metrics.public), anyone who reaches the port may read it.
 */
export function createMetricsRoute(metrics: ServerMetrics, auth: ApiAuthenticator | undefined): HttpRoute {
  return async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== METRICS_PATH) return false;
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new ApiError(405, HttpErrorCode.MethodNotAllowed, 'use GET, HEAD');
      auth?.check(request);
      const text = await metrics.exposition();
      response.writeHead(200, { 'content-type': metrics.contentType, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status >= 500) logger.error(`GET ${METRICS_PATH} failed: ${(error as Error)?.stack ?? String(error)}`);
      const headers: Record<string, string> = {};
      if (apiError.status === 401) headers['www-authenticate'] = 'Basic realm="confrec"';
      if (apiError.status === 405) headers.allow = 'GET, HEAD';
      sendError(response, apiError, headers);
    }
    return true;
  };
}
