import type http from 'node:http';
import { HttpErrorCode } from '../../signaling/errors';
import type { ApiAuthenticator } from '../http/basicAuth';
import { ApiError, sendError, toApiError } from '../http/apiError';
import { sendJson } from '../http/json';
import { Logger } from '../logger';
import type { HttpRoute } from '../MediaServer';
import type { NodeRegistry } from './NodeRegistry';

const logger = new Logger('clusterRoutes');

export const CLUSTER_NODES_PATH = '/api/v1/cluster/nodes';

/**
 * GET /api/v1/cluster/nodes: the cluster's live nodes with their last heartbeat (publicUrl,
 * rtpAddress, roles, load), with the HTTP API's Basic credentials. 503 CLUSTER_UNAVAILABLE while
 * Redis is away (this node cannot know who is alive then).
 */
export function createClusterRoutes(registry: NodeRegistry, auth: ApiAuthenticator): HttpRoute {
  return async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== CLUSTER_NODES_PATH) return false;
    try {
      if (request.method !== 'GET') throw new ApiError(405, HttpErrorCode.MethodNotAllowed, 'use GET');
      auth.check(request);
      const nodes = await registry.list();
      sendJson(response, 200, { nodeId: registry.nodeId, nodes });
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status === 500) logger.error(`GET ${CLUSTER_NODES_PATH} failed: ${(error as Error)?.stack ?? String(error)}`);
      const headers: Record<string, string> = {};
      if (apiError.status === 401) headers['www-authenticate'] = 'Basic realm="confrec"';
      if (apiError.status === 405) headers.allow = 'GET';
      sendError(response, apiError, headers);
    }
    return true;
  };
}
