import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { SchemaError } from '../../signaling/schemas/validate';

/** Checks a value at a recording API's boundary: a schema violation is InvalidParameter naming the field (under `path`). */
export function parseParameter<T>(schema: { parse(value: unknown, path?: string): T }, value: unknown, path = ''): T {
  try {
    return schema.parse(value, path);
  } catch (error) {
    if (error instanceof SchemaError) throw new CodedError(RecordingErrorCode.InvalidParameter, error.message);
    throw error;
  }
}
