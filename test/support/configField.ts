import { ConfigError } from '../../server/config';

/** The config field a loader refused, or a note saying it did not refuse with a ConfigError. */
export function refusedField(load: () => unknown): string | undefined {
  try {
    load();
  } catch (error) {
    return error instanceof ConfigError ? error.field : `not a ConfigError: ${String(error)}`;
  }
  return undefined;
}
