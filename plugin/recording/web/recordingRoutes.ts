import type http from 'node:http';
import { CodedError, HttpErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import { signFileLink, verifyFileLink } from '../../../server/auth/fileUrl';
import type { HttpRoute, PluginContext } from '../../../server/plugins/contract';
import type { RecordingEngine } from '../RecordingEngine';
import { isSafeChannelId, RecordingCatalog } from './RecordingCatalog';
import { sendErrorBody, sendJson } from '../../../server/http/json';
import { sendFile } from '../../../server/http/sendFile';
import { FORWARDED_BY_HEADER, forwardRequest, wasForwarded } from '../../../server/http/forwardRequest';
import type { ClusterRecordings } from '../cluster/ClusterRecordings';
import type { RecordingEntry } from './RecordingCatalog';

/**
 * The finished recordings of a channel, for the page:
 *
 *   GET /api/recordings?channel=<id>                       → { recordings: RecordingEntry[] (with url when playable) }
 *   GET /api/recordings/file?channel=<id>&key=<objectKey>  → the file (Range supported)
 *
 * The listing needs a join token valid for that channel and granting the recordings privilege
 * (PluginContext.authorize: privileges.recordings) as `Authorization: Bearer <token>`. Its file
 * URLs carry a signed, expiring link (`exp`, `sig`: server/auth/fileUrl.ts) instead, because a
 * <video src> cannot send headers and a token in a URL leaks; the file route takes either. Only files
 * the catalog lists for that channel are served.
 *
 * In a cluster a channel's files may be on any node (it lived on several over time): the listing
 * asks every live node and merges their answers; a file of another node has `node=<nodeId>` in its
 * link, and the file route passes that request on to the node.
 */
export function createRecordingRoutes(context: PluginContext, engine: RecordingEngine, cluster?: ClusterRecordings): HttpRoute {
  const catalog = new RecordingCatalog({ recordingsDir: context.config.recording.recordingsDir, engine });

  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/recordings' && url.pathname !== '/api/recordings/file') return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendErrorBody(response, 405, HttpErrorCode.MethodNotAllowed, 'GET only', { allow: 'GET, HEAD' });
      return true;
    }
    const channelId = url.searchParams.get('channel') ?? '';
    if (!isSafeChannelId(channelId)) {
      sendErrorBody(response, 400, SignalingErrorCode.BadRequest, 'channel must be a channel id');
      return true;
    }
    const key = url.searchParams.get('key') ?? '';
    try {
      await authorize(context, request, url, channelId, key);
    } catch (error) {
      const coded = error instanceof CodedError ? error : new CodedError(SignalingErrorCode.TokenInvalid, 'token refused');
      sendErrorBody(response, coded.code === SignalingErrorCode.Forbidden ? 403 : 401, coded.code, coded.message);
      return true;
    }

    if (url.pathname === '/api/recordings') {
      const recordings: Array<RecordingEntry & { url?: string }> = (await catalog.list(channelId)).map((entry) => ({
        ...entry,
        ...(entry.state === 'stored'
          ? { url: fileUrl(context, channelId, entry.objectKey) }
          : {}),
      }));
      if (cluster && !wasForwarded(request)) recordings.push(...(await otherNodesEntries(cluster, request, recordings)));
      sendJson(response, 200, { channelId, recordingEnabled: true, recordings });
      return true;
    }

    const node = url.searchParams.get('node');
    if (cluster && node && node !== cluster.nodeId && !wasForwarded(request)) {
      let owner;
      try {
        owner = (await cluster.otherNodes()).find((candidate) => candidate.nodeId === node);
      } catch (error) {
        const coded = error instanceof CodedError ? error : new CodedError(SignalingErrorCode.ClusterUnavailable, String(error));
        sendErrorBody(response, 503, coded.code, coded.message);
        return true;
      }
      if (!owner) {
        sendErrorBody(response, 502, SignalingErrorCode.NodeUnavailable, `cluster node ${node}, which has the file, is down`);
        return true;
      }
      await forwardRequest(request, response, { origin: owner.publicUrl, nodeId: cluster.nodeId });
      return true;
    }

    const file = key ? await catalog.resolve(channelId, key) : undefined;
    if (!file) {
      sendErrorBody(response, 404, SignalingErrorCode.NotFound, 'no such recording in this channel');
      return true;
    }
    await sendFile(request, response, file, { 'cache-control': 'private, no-cache' });
    return true;
  };
}

/** The other live nodes' entries for the channel (one that does not answer in time is left out), their links naming their node. */
async function otherNodesEntries(cluster: ClusterRecordings, request: http.IncomingMessage, local: RecordingEntry[]): Promise<Array<RecordingEntry & { url?: string }>> {
  const seen = new Set(local.map((entry) => entry.objectKey));
  const nodes = await cluster.otherNodes().catch(() => []);
  const answers = await Promise.all(
    nodes.map(async (node) => {
      try {
        const response = await fetch(`${node.publicUrl}${request.url ?? ''}`, {
          headers: { ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}), [FORWARDED_BY_HEADER]: cluster.nodeId },
          signal: AbortSignal.timeout(3000),
        });
        if (!response.ok) return [];
        const body = (await response.json()) as { recordings?: Array<RecordingEntry & { url?: string }> };
        return (body.recordings ?? []).map((entry) => (entry.url ? { ...entry, url: `${entry.url}&node=${encodeURIComponent(node.nodeId)}` } : entry));
      } catch {
        return [];
      }
    }),
  );
  return answers.flat().filter((entry) => !seen.has(entry.objectKey) && seen.add(entry.objectKey));
}

function bearer(request: http.IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** A signed link opens only the file route, and only for its own file; a join token opens both. */
async function authorize(context: PluginContext, request: http.IncomingMessage, url: URL, channelId: string, key: string): Promise<void> {
  const { auth } = context.config;
  if (!auth.enabled) return;
  const token = bearer(request);
  if (token) {
    const grant = await context.authorize(auth.appId, channelId, token);
    if (!grant.privileges.recordings) throw new CodedError(SignalingErrorCode.Forbidden, "your token does not grant the recordings privilege (listing and downloading this channel's recordings)");
    return;
  }
  const sig = url.searchParams.get('sig');
  if (url.pathname === '/api/recordings/file' && sig) {
    verifyFileLink(context.authSecret, channelId, key, url.searchParams.get('exp') ?? '', sig);
    return;
  }
  throw new CodedError(SignalingErrorCode.TokenInvalid, 'send a join token for this channel as Authorization: Bearer <token>');
}

function fileUrl(context: PluginContext, channelId: string, objectKey: string): string {
  const query = new URLSearchParams({ channel: channelId, key: objectKey });
  if (context.config.auth.enabled) {
    const { exp, sig } = signFileLink(context.authSecret, channelId, objectKey);
    query.set('exp', String(exp));
    query.set('sig', sig);
  }
  return `/api/recordings/file?${query.toString()}`;
}
