import { CodedError, RECORDING_ERROR_NUMBERS, RecordingErrorCode, SignalingErrorCode } from '../errors';

/**
 * What every recorder SDK call rejects with: one of the Agora seed's fourteen codes
 * (`code`, e.g. 'InvalidParameter') and its numeric value (`errorNumber`, kRecordingErrorXxx).
 */
export class CloudRecordingError extends CodedError {
  declare readonly code: RecordingErrorCode;
  readonly errorNumber: number;

  constructor(code: RecordingErrorCode, message: string) {
    super(code, message);
    this.name = 'CloudRecordingError';
    this.errorNumber = RECORDING_ERROR_NUMBERS[code];
  }
}

const RECORDING_CODES: ReadonlySet<string> = new Set(Object.values(RecordingErrorCode));

/** Maps the server's answer (or a transport failure) onto the seed's codes. */
export function toCloudRecordingError(error: unknown): CloudRecordingError {
  if (error instanceof CloudRecordingError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && RECORDING_CODES.has(code)) return new CloudRecordingError(code as RecordingErrorCode, message);
  switch (code) {
    case SignalingErrorCode.ConnectionClosed:
      return new CloudRecordingError(RecordingErrorCode.Disconnected, message);
    case SignalingErrorCode.BadJson:
    case SignalingErrorCode.BadRequest:
    case SignalingErrorCode.MessageTooLarge:
      return new CloudRecordingError(RecordingErrorCode.InvalidParameter, message);
    case SignalingErrorCode.UnknownMethod:
    case SignalingErrorCode.Forbidden:
      return new CloudRecordingError(RecordingErrorCode.InvalidOperation, message);
    case SignalingErrorCode.TokenInvalid:
    case SignalingErrorCode.TokenExpired:
    case SignalingErrorCode.TokenMismatch:
      return new CloudRecordingError(RecordingErrorCode.ConnectError, message);
    default:
      return new CloudRecordingError(RecordingErrorCode.GeneralError, message);
  }
}
