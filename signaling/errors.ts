/**
 * The error vocabulary shared by the server, the signaling protocol and the recording plugin.
 *
 * Two families, one shape ({ code, message }):
 * - SignalingErrorCode: protocol and channel errors (UPPER_SNAKE).
 * - RecordingErrorCode: the fourteen codes of the Agora Cloud Recording seed
 *   (kRecordingErrorXxx → 'Xxx'), with the seed's numeric values in RECORDING_ERROR_NUMBERS.
 * - HttpErrorCode: the few codes only the HTTP surfaces (API, file routes) answer with.
 */

export const SignalingErrorCode = {
  BadJson: 'BAD_JSON',
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  BadRequest: 'BAD_REQUEST',
  UnknownMethod: 'UNKNOWN_METHOD',
  NotJoined: 'NOT_JOINED',
  AlreadyJoined: 'ALREADY_JOINED',
  TokenInvalid: 'TOKEN_INVALID',
  TokenExpired: 'TOKEN_EXPIRED',
  TokenMismatch: 'TOKEN_MISMATCH',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  CannotConsume: 'CANNOT_CONSUME',
  ChannelClosed: 'CHANNEL_CLOSED',
  RateLimited: 'RATE_LIMITED',
  /** WebSocket upgrade refused: the client's IP (HTTP 429) or the server (HTTP 503) has its maximum of sockets open. */
  TooManyConnections: 'TOO_MANY_CONNECTIONS',
  Internal: 'INTERNAL',
  /** Cluster mode: the cluster's Redis cannot be reached, so nothing new (a channel) can be placed. */
  ClusterUnavailable: 'CLUSTER_UNAVAILABLE',
  /** Cluster mode: the channel lives on another node; the error's data.url is that node's publicUrl (join there). */
  Redirect: 'REDIRECT',
  /** Cluster mode (channelClosed): this node lost the channel's lease to another node; join again to follow it. */
  ChannelMoved: 'CHANNEL_MOVED',
  /** Cluster mode (HTTP 502): the node that owns the resource did not answer a request forwarded to it. */
  NodeUnavailable: 'NODE_UNAVAILABLE',
  /** Client side: the socket closed before the answer came. */
  ConnectionClosed: 'CONNECTION_CLOSED',
  /** Client side: no answer within the request timeout. */
  Timeout: 'TIMEOUT',
} as const;
export type SignalingErrorCode = (typeof SignalingErrorCode)[keyof typeof SignalingErrorCode];

/**
 * Close codes the server ends a WebSocket with, on both socket paths (channel signaling and the
 * recorder SDK), each with the reason text sent beside it. ws itself closes with 1009 when a message
 * (a fragmented one counted whole) passes twice signaling.maxMessageBytes.
 */
export const SocketCloseCode = {
  /** The server is shutting down. */
  ServerShutdown: 1001,
  /** No join (recorder SDK: no start, attach or resume) within signaling.joinTimeoutMs. */
  JoinTimeout: 4001,
  /** A ping went unanswered for signaling.pingTimeoutMs. */
  PingTimeout: 4002,
  /** More than signaling.maxBufferedBytes were waiting for the client to read them. */
  SlowConsumer: 4008,
} as const;
export type SocketCloseCode = (typeof SocketCloseCode)[keyof typeof SocketCloseCode];

export const SOCKET_CLOSE_REASONS: Readonly<Record<SocketCloseCode, string>> = {
  [SocketCloseCode.ServerShutdown]: 'server shutting down',
  [SocketCloseCode.JoinTimeout]: 'join timeout',
  [SocketCloseCode.PingTimeout]: 'ping timeout',
  [SocketCloseCode.SlowConsumer]: 'slow consumer',
};

export const RecordingErrorCode = {
  Ok: 'Ok',
  ConnectError: 'ConnectError',
  Disconnected: 'Disconnected',
  InvalidParameter: 'InvalidParameter',
  InvalidOperation: 'InvalidOperation',
  NoUsers: 'NoUsers',
  NoRecordedData: 'NoRecordedData',
  RecorderInitFailed: 'RecorderInitFailed',
  RecorderFailed: 'RecorderFailed',
  UploaderInitFailed: 'UploaderInitFailed',
  UploaderFailed: 'UploaderFailed',
  BackupFailed: 'BackupFailed',
  RecorderExpireExit: 'RecorderExpireExit',
  GeneralError: 'GeneralError',
} as const;
export type RecordingErrorCode = (typeof RecordingErrorCode)[keyof typeof RecordingErrorCode];

/** Numeric values in the seed's enum order (kRecordingErrorOk = 0 … kRecordingErrorGeneralError = 13). */
export const RECORDING_ERROR_NUMBERS: Readonly<Record<RecordingErrorCode, number>> = Object.freeze(
  Object.fromEntries(Object.values(RecordingErrorCode).map((code, index) => [code, index])) as Record<
    RecordingErrorCode,
    number
  >,
);

export const HttpErrorCode = {
  Unauthorized: 'UNAUTHORIZED',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

export type ErrorCode = SignalingErrorCode | RecordingErrorCode | HttpErrorCode;

const ALL_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(SignalingErrorCode),
  ...Object.values(RecordingErrorCode),
  ...Object.values(HttpErrorCode),
]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ALL_CODES.has(value);
}

/** What an error carries beside its message, for the client to act on (REDIRECT: where to go). */
export interface ErrorData {
  /** REDIRECT: the publicUrl of the node the channel lives on. */
  url?: string;
}

/** An error that crosses a boundary (wire, IPC, callback) as { code, message } (and data, when it has some). */
export class CodedError extends Error {
  readonly code: ErrorCode;
  readonly data: ErrorData | undefined;

  constructor(code: ErrorCode, message: string, data?: ErrorData) {
    super(message);
    this.name = 'CodedError';
    this.code = code;
    this.data = data;
  }

  toJSON(): { code: ErrorCode; message: string; data?: ErrorData } {
    return this.data ? { code: this.code, message: this.message, data: this.data } : { code: this.code, message: this.message };
  }
}

/** Turns anything thrown into a CodedError, keeping unexpected internals out of the message. */
export function toCodedError(error: unknown, fallback: ErrorCode = SignalingErrorCode.Internal): CodedError {
  if (error instanceof CodedError) return error;
  if (error instanceof TypeError) return new CodedError(SignalingErrorCode.BadRequest, error.message);
  return new CodedError(fallback, error instanceof Error ? error.message : String(error));
}
