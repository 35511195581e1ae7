import type http from 'node:http';
import { CodedError, ErrorCode, HttpErrorCode, RecordingErrorCode, SignalingErrorCode } from '../../signaling/errors';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../signaling/jsonDepth';
import { sendErrorBody } from './json';

/** An error answered as `{ error: { code, message } }` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const STATUS_BY_CODE: Partial<Record<string, number>> = {
  [RecordingErrorCode.InvalidParameter]: 400,
  [RecordingErrorCode.InvalidOperation]: 409,
  [RecordingErrorCode.ConnectError]: 400,
  [RecordingErrorCode.NoUsers]: 409,
  [RecordingErrorCode.RecorderInitFailed]: 500,
  [RecordingErrorCode.RecorderFailed]: 500,
  [RecordingErrorCode.UploaderInitFailed]: 500,
  [RecordingErrorCode.GeneralError]: 500,
  [SignalingErrorCode.BadJson]: 400,
  [SignalingErrorCode.BadRequest]: 400,
  [SignalingErrorCode.MessageTooLarge]: 413,
  [SignalingErrorCode.NotFound]: 404,
  [SignalingErrorCode.Forbidden]: 403,
  [SignalingErrorCode.ChannelClosed]: 409,
  // Cluster mode: Redis away, the node cannot place or list anything new.
  [SignalingErrorCode.ClusterUnavailable]: 503,
  // Cluster mode: the channel lives on another node (the message names its URL).
  [SignalingErrorCode.Redirect]: 421,
  // Cluster mode: the node owning the resource did not answer the forwarded request.
  [SignalingErrorCode.NodeUnavailable]: 502,
};

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof CodedError) return new ApiError(STATUS_BY_CODE[error.code] ?? 500, error.code, error.message);
  return new ApiError(500, SignalingErrorCode.Internal, 'internal error');
}

export function sendError(response: http.ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
  sendErrorBody(response, error.status, error.code, error.message, headers);
}

/**
 * Reads a JSON object body of at most `limit` bytes: 413 MESSAGE_TOO_LARGE beyond (the rest of the
 * upload is not read), 415 for other content types, 400 BAD_JSON for bad JSON or JSON nested deeper
 * than MAX_JSON_DEPTH. An empty body is {}.
 */
export async function readJsonBody(request: http.IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = String(request.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new ApiError(413, SignalingErrorCode.MessageTooLarge, `body of ${declared} bytes exceeds ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, SignalingErrorCode.MessageTooLarge, `body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  if (type !== 'application/json') throw new ApiError(415, HttpErrorCode.UnsupportedMediaType, 'send the body as application/json');
  if (jsonNestsDeeperThan(text)) throw new ApiError(400, SignalingErrorCode.BadJson, `body nests deeper than ${MAX_JSON_DEPTH} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, SignalingErrorCode.BadJson, `body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ApiError(400, SignalingErrorCode.BadJson, 'body must be a JSON object');
  return parsed as Record<string, unknown>;
}
