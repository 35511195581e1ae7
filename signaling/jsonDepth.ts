/**
 * Nesting depth of JSON text, measured before parsing. JSON.parse accepts any depth, but everything
 * after it that walks the value (JSON.stringify, structuredClone, schema checks) recurses and would
 * overflow the stack; refusing deep input at the boundary keeps that a client's error. Browser-safe.
 */

/** Deepest object/array nesting a message or HTTP body may have. */
export const MAX_JSON_DEPTH = 32;

/** True when `text` nests objects/arrays deeper than `limit` (strings are skipped; the scan stops early). */
export function jsonNestsDeeperThan(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c /* \ */) index++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}
