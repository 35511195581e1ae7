import type http from 'node:http';
import type { RecordingEngine } from '../RecordingEngine';
import { recordingView, type RecordingView } from '../recordingView';
import type { ChannelMedia } from '../media/ChannelMedia';
import type { ClusterRecordings } from '../cluster/ClusterRecordings';
import { CLUSTER_RECORDER_PATH } from '../cluster/RemoteRecorderClient';
import { SEGMENT_RELAY_PATH, segmentRelayChecker } from '../../../signaling/schemas/segmentRelay';
import { redirectUrlOf } from '../../../server/cluster/redirect';
import { forwardRequest, wasForwarded } from '../../../server/http/forwardRequest';
import type { RecordingEventLog } from '../RecordingEventLog';
import type { DirectoryEntry } from '../cluster/RecordingDirectory';
import { resolveRecordingConfig, type ResolvedRecordingConfig } from '../recordingConfig';
import { cloudStorageTarget } from '../../storage/cloudStorageConfig';
import { CodedError, HttpErrorCode, RecordingErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import { sanitizeFileName } from '../../../signaling/recordParam';
import { toWireEvent } from '../../../signaling/recordingEvent';
import { LayoutRequestSchema, StartRequestSchema } from '../../../signaling/schemas/httpApi';
import { buildOpenApiDocument } from '../../../signaling/schemas/openapi';
import { checker } from '../../../signaling/schemas/validate';
import { parseParameter } from '../parseParameter';
import { Logger } from '../../../server/logger';
import type { ApiAuthenticator } from '../../../server/http/basicAuth';
import { sendJson } from '../../../server/http/json';
import { ApiError, readJsonBody, sendError, toApiError } from '../../../server/http/apiError';

const logger = new Logger('RecordingsApi');
/** Generated from the schema source (signaling/schemas/httpApi.ts), once. */
const OPENAPI_DOCUMENT = buildOpenApiDocument();

export const API_PREFIX = '/api/v1';

const startChecker = checker(StartRequestSchema);
const layoutChecker = checker(LayoutRequestSchema);

export interface RecordingsApiOptions {
  engine: RecordingEngine;
  log: RecordingEventLog;
  auth: ApiAuthenticator;
  /** The channel's media for a recording here (`placed`: this node was chosen already); REDIRECT to the node that is to record it. */
  channelMedia(channelId: string, config: ResolvedRecordingConfig, placed: boolean): Promise<ChannelMedia>;
  maxBodyBytes: number;
  /** Cluster mode: where the other nodes' recordings are; requests for them are passed on to their node. */
  cluster?: ClusterRecordings;
  /** Cluster mode: runs the recorder calls an SDK session on another node passes on (CLUSTER_RECORDER_PATH). */
  ownerCalls?: (method: unknown, data: unknown) => Promise<unknown>;
}

/** Cluster mode: the node that produced an answer (a passed-on request's answer keeps its owner's). */
export const NODE_HEADER = 'x-confrec-node';

/** The answer to send, or undefined when the request was passed on to another node, which answered. */
type Answer = [status: number, body: unknown] | undefined;

/**
 * The backends' HTTP API (JSON in and out, HTTP Basic appId:secret): start, list, query, change the
 * layout of, and stop recordings; read a recording's event log. Errors are
 * `{ error: { code, message } }` with the recording codes of the Agora seed; validation messages
 * name the field.
 */
export class RecordingsApi {
  readonly #options: RecordingsApiOptions;

  constructor(options: RecordingsApiOptions) {
    this.#options = options;
  }

  /** MediaServer route: true when the request was under /api/v1 (answered, possibly with an error). */
  async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== API_PREFIX && !url.pathname.startsWith(`${API_PREFIX}/`)) return false;
    const method = request.method ?? 'GET';
    try {
      const path = url.pathname.slice(API_PREFIX.length).replace(/\/+$/, '');
      if (path === '/openapi.json') {
        allow(method, ['GET']);
        sendJson(response, 200, OPENAPI_DOCUMENT);
        return true;
      }
      this.#options.auth.check(request);
      if (this.#options.cluster) response.setHeader(NODE_HEADER, this.#options.cluster.nodeId);
      const answer = await this.#route(method, path, url, request, response);
      if (answer) sendJson(response, answer[0], answer[1]);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.status >= 500) logger.error(`${method} ${url.pathname} failed: ${(error as Error)?.stack ?? String(error)}`);
      const headers: Record<string, string> = apiError.status === 401 ? { 'www-authenticate': 'Basic realm="confrec"' } : {};
      if (apiError.code === HttpErrorCode.MethodNotAllowed) headers.allow = apiError.message.replace(/^use /, '');
      // A body we refused to read must not be read by keep-alive either.
      if (apiError.status === 413) headers.connection = 'close';
      sendError(response, apiError, headers);
    }
    return true;
  }

  async #route(method: string, path: string, url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<Answer> {
    const { cluster } = this.#options;
    if (path === '/recordings') {
      allow(method, ['GET', 'POST']);
      if (method === 'GET') return [200, { recordings: await this.#list() }];
      const raw = await readJsonBody(request, this.#options.maxBodyBytes);
      try {
        return [201, await this.#start(raw, wasForwarded(request))];
      } catch (error) {
        const owner = redirectUrlOf(error);
        if (!owner || !cluster || wasForwarded(request)) throw error;
        // The channel lives (or was just placed) on another node: the recording starts there.
        await forwardRequest(request, response, { origin: owner, nodeId: cluster.nodeId, body: Buffer.from(JSON.stringify(raw)) });
        return undefined;
      }
    }
    if (path === CLUSTER_RECORDER_PATH.slice(API_PREFIX.length) && this.#options.ownerCalls) {
      allow(method, ['POST']);
      const body = await readJsonBody(request, this.#options.maxBodyBytes);
      return [200, { result: await this.#options.ownerCalls(body.method, body.data) }];
    }
    if (path === SEGMENT_RELAY_PATH.slice(API_PREFIX.length) && cluster) {
      allow(method, ['POST']);
      return [200, this.#takeSegmentRelay(await readJsonBody(request, this.#options.maxBodyBytes))];
    }
    const match = /^\/recordings\/([A-Za-z0-9_.:-]{1,128})(\/layout|\/stop|\/events|\/resume-uploads)?$/.exec(path);
    if (!match) throw new ApiError(404, SignalingErrorCode.NotFound, `no resource ${path || '/'}`);
    const recordingId = match[1]!;
    if (cluster && !this.#options.engine.known(recordingId) && !this.#options.log.has(recordingId)) {
      const remote = await cluster.locate(recordingId);
      if (remote?.url && !wasForwarded(request)) {
        await forwardRequest(request, response, { origin: remote.url, nodeId: cluster.nodeId });
        return undefined;
      }
      if (remote) return this.#answerForDeadNode(method, match[2], remote.entry, url);
    }
    switch (match[2]) {
      case undefined:
        allow(method, ['GET']);
        return [200, this.#viewOf(recordingId)];
      case '/layout': {
        allow(method, ['PUT']);
        const body = parseParameter(layoutChecker, await readJsonBody(request, this.#options.maxBodyBytes));
        const recording = this.#options.engine.get(recordingId);
        if (!recording) {
          // Finished and forgotten from memory (or of a previous run): known, but not running.
          if (this.#options.engine.known(recordingId)) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the recording is not running');
          throw notFound(recordingId);
        }
        await recording.setLayout(body.layout, body.maxResolutionUid);
        logger.info(`layout | ${body.layout}${body.maxResolutionUid ? ` (large: ${body.maxResolutionUid})` : ''}`, { recordingId });
        return [200, this.#viewOf(recordingId)];
      }
      case '/stop': {
        allow(method, ['POST']);
        await readJsonBody(request, this.#options.maxBodyBytes);
        if (!this.#options.engine.known(recordingId)) throw notFound(recordingId);
        await this.#options.engine.stop(recordingId, 'stopped through the HTTP API');
        // The answer lists the final files and their uploads.
        await this.#options.engine.handedOff(recordingId);
        return [200, this.#viewOf(recordingId)];
      }
      case '/resume-uploads': {
        allow(method, ['POST']);
        await readJsonBody(request, this.#options.maxBodyBytes);
        // Uploads held by Release(false) go on; a recording of a previous run is known to the queue only.
        const resumed = await this.#options.engine.resumeUploads(recordingId);
        if (!this.#options.engine.known(recordingId) && resumed.length === 0) throw notFound(recordingId);
        logger.info(`resume-uploads | ${resumed.length} upload(s) resumed`, { recordingId });
        return [200, { recordingId, resumed: resumed.length, uploads: this.#options.engine.uploads.list().filter((job) => job.recordingId === recordingId) }];
      }
      case '/events': {
        allow(method, ['GET']);
        const after = afterParam(url);
        if (!this.#options.log.has(recordingId) && !this.#options.engine.known(recordingId)) throw notFound(recordingId);
        const { entries, complete } = this.#options.log.since(recordingId, after);
        return [200, { recordingId, events: entries.map(toWireEvent), lastSeq: this.#options.log.lastSeq(recordingId), complete }];
      }
    }
    throw new ApiError(404, SignalingErrorCode.NotFound, `no resource ${path}`);
  }

  /** Another recorder node tells what became of a segment it recorded of one of this node's recordings. */
  #takeSegmentRelay(raw: unknown): Record<string, never> {
    const message = parseParameter(segmentRelayChecker, raw);
    const { engine } = this.#options;
    if (!engine.known(message.recordingId) && !this.#options.log.has(message.recordingId)) throw notFound(message.recordingId);
    if ('files' in message) engine.takeSegmentFiles(message.recordingId, message.segment, message.files);
    else engine.takeRelayedEvent(message.event);
    return {};
  }

  async #start(raw: Record<string, unknown>, placed: boolean): Promise<RecordingView> {
    const body = parseParameter(startChecker, raw);
    const config = resolveRecordingConfig(body.recordingConfig ?? {});
    const target = cloudStorageTarget(body.cloudStorageConfig ?? { vendor: 'Local' });
    this.#options.engine.assertTargetAllowed(target);
    const fileName = body.fileName === undefined ? undefined : sanitizeFileName(body.fileName, 'fileName');
    const channel = await this.#options.channelMedia(body.channelName, config, placed);
    const { started } = this.#options.engine.start({
      channel,
      config,
      target,
      ...(fileName ? { fileName } : {}),
      startedBy: `api:${body.uid ?? 'backend'}`,
    });
    const recording = await started;
    // "201 once the recorder writes": the first bytes are on disk and the channel's streams are wired.
    await this.#options.engine.firstWrite(recording.recordingId);
    return this.#viewOf(recording.recordingId);
  }

  #viewOf(recordingId: string): RecordingView {
    const status = this.#options.engine.status(recordingId);
    if (!status) throw notFound(recordingId);
    return recordingView(this.#options.engine, status, this.#options.cluster?.nodeId);
  }

  /** This node's recordings and, in a cluster, every other node's as of its last event, oldest first. */
  async #list(): Promise<RecordingView[]> {
    const local = this.#options.engine.list().map((status) => recordingView(this.#options.engine, status, this.#options.cluster?.nodeId));
    if (!this.#options.cluster) return local;
    const remote = await this.#options.cluster.remoteViews();
    return [...local, ...remote].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  }

  /** What can be said of a recording whose node is down: its last view and events; nothing can be changed. */
  #answerForDeadNode(method: string, action: string | undefined, entry: DirectoryEntry, url: URL): Answer {
    switch (action) {
      case undefined:
        allow(method, ['GET']);
        return [200, entry.view];
      case '/events': {
        allow(method, ['GET']);
        const { entries, complete } = this.#options.cluster!.remoteLog.since(entry.recordingId, afterParam(url));
        return [200, { recordingId: entry.recordingId, events: entries.map(toWireEvent), lastSeq: entry.lastSeq, complete }];
      }
      case '/stop':
        allow(method, ['POST']);
        // Its end is known already: the cluster declared it failed when its node died.
        if (entry.phase === 'failed' || entry.phase === 'stopped') return [200, entry.view];
        break;
      case '/layout':
        allow(method, ['PUT']);
        break;
      case '/resume-uploads':
        allow(method, ['POST']);
        break;
    }
    throw new CodedError(SignalingErrorCode.NodeUnavailable, `cluster node ${entry.nodeId}, which has recording ${entry.recordingId}, is down; retry once it is back`);
  }
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) throw new ApiError(405, HttpErrorCode.MethodNotAllowed, `use ${methods.join(', ')}`);
}

/** GET …/events?after=N: the seq to read after (InvalidParameter unless a non-negative integer). */
function afterParam(url: URL): number {
  const after = url.searchParams.get('after') ?? '0';
  if (!/^\d{1,15}$/.test(after)) throw new CodedError(RecordingErrorCode.InvalidParameter, 'after must be a non-negative integer');
  return Number(after);
}

function notFound(recordingId: string): ApiError {
  return new ApiError(404, SignalingErrorCode.NotFound, `no recording ${recordingId} on this server`);
}
