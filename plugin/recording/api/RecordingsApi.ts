import type http from 'node:http';
import type { RecordingEngine, RecordingStatus } from '../RecordingEngine';
import type { RecordingEventLog } from '../RecordingEventLog';
import { resolveRecordingConfig } from '../recordingConfig';
import { cloudStorageTarget } from '../../storage/cloudStorageConfig';
import { CodedError, HttpErrorCode, RecordingErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import { sanitizeFileName } from '../../../signaling/recordParam';
import { toWireEvent } from '../../../signaling/recordingEvent';
import { LayoutRequestSchema, StartRequestSchema } from '../../../signaling/schemas/httpApi';
import { buildOpenApiDocument } from '../../../signaling/schemas/openapi';
import { checker, SchemaError } from '../../../signaling/schemas/validate';
import type { ChannelHandle } from '../../../server/plugins/contract';
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
  getOrCreateChannel(channelId: string, type: 'Communication' | 'Live'): Promise<ChannelHandle>;
  maxBodyBytes: number;
}

/** A recording as the API shows it: the engine's status plus its layout and last event number. */
export type RecordingView = RecordingStatus & {
  layout?: { layout: string; maxResolutionUid?: string };
  lastSeq: number;
};

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
      const [status, body] = await this.#route(method, path, url, request);
      sendJson(response, status, body);
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

  async #route(method: string, path: string, url: URL, request: http.IncomingMessage): Promise<[number, unknown]> {
    if (path === '/recordings') {
      allow(method, ['GET', 'POST']);
      if (method === 'GET') return [200, { recordings: this.#options.engine.list().map((status) => this.#view(status)) }];
      return [201, await this.#start(await readJsonBody(request, this.#options.maxBodyBytes))];
    }
    const match = /^\/recordings\/([A-Za-z0-9_.:-]{1,128})(\/layout|\/stop|\/events|\/resume-uploads)?$/.exec(path);
    if (!match) throw new ApiError(404, SignalingErrorCode.NotFound, `no resource ${path || '/'}`);
    const recordingId = match[1]!;
    switch (match[2]) {
      case undefined:
        allow(method, ['GET']);
        return [200, this.#viewOf(recordingId)];
      case '/layout': {
        allow(method, ['PUT']);
        const body = parse(layoutChecker, await readJsonBody(request, this.#options.maxBodyBytes));
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
        const after = url.searchParams.get('after') ?? '0';
        if (!/^\d{1,15}$/.test(after)) throw new CodedError(RecordingErrorCode.InvalidParameter, 'after must be a non-negative integer');
        if (!this.#options.log.has(recordingId) && !this.#options.engine.known(recordingId)) throw notFound(recordingId);
        const { entries, complete } = this.#options.log.since(recordingId, Number(after));
        return [200, { recordingId, events: entries.map(toWireEvent), lastSeq: this.#options.log.lastSeq(recordingId), complete }];
      }
    }
    throw new ApiError(404, SignalingErrorCode.NotFound, `no resource ${path}`);
  }

  async #start(raw: Record<string, unknown>): Promise<RecordingView> {
    const body = parse(startChecker, raw);
    const config = resolveRecordingConfig(body.recordingConfig ?? {});
    const target = cloudStorageTarget(body.cloudStorageConfig ?? { vendor: 'Local' });
    this.#options.engine.assertTargetAllowed(target);
    const fileName = body.fileName === undefined ? undefined : sanitizeFileName(body.fileName, 'fileName');
    const channel = await this.#options.getOrCreateChannel(body.channelName, config.channelType);
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
    return this.#view(status);
  }

  #view(status: RecordingStatus): RecordingView {
    const recording = this.#options.engine.get(status.recordingId);
    const transcoding = recording?.config.transcodingConfig;
    return {
      ...status,
      ...(transcoding && status.mode === 'composite'
        ? { layout: { layout: transcoding.layout, ...(transcoding.maxResolutionUid ? { maxResolutionUid: transcoding.maxResolutionUid } : {}) } }
        : {}),
      lastSeq: this.#options.log.lastSeq(status.recordingId),
    };
  }
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) throw new ApiError(405, HttpErrorCode.MethodNotAllowed, `use ${methods.join(', ')}`);
}

function notFound(recordingId: string): ApiError {
  return new ApiError(404, SignalingErrorCode.NotFound, `no recording ${recordingId} on this server`);
}

function parse<T>(schema: { parse(value: unknown, path?: string): T }, value: unknown): T {
  try {
    return schema.parse(value, '');
  } catch (error) {
    if (error instanceof SchemaError) throw new CodedError(RecordingErrorCode.InvalidParameter, error.message);
    throw error;
  }
}
