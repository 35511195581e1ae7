/**
 * Record parameters: the `recordString` of the Juphoon seed (`buildQiniuRecordParam`) and its S3 and
 * local siblings, plus the validation the server applies before it trusts one.
 *
 * Wire format, version 1:
 *
 *     rp1.<base64url(UTF-8 JSON)>
 *
 * where the JSON is exactly
 *
 *     { "v": 1, "video": boolean, "fileName": string,
 *       "storage": { "vendor": "qiniu"|"s3"|"local", "bucket"?, "region"?, "endpoint"?,
 *                    "accessKey"?, "secretKey"? } }
 *
 * base64url has no padding. Unknown fields are refused: a field this version does not know means the
 * sender speaks a newer version, and silently dropping it could upload to the wrong place. A future
 * format gets a new prefix (`rp2.`), so the prefix alone tells a parser whether it can read a string.
 *
 * The string carries the storage secret (the seed's design: the client hands its Qiniu keys over when
 * it joins). base64 is an encoding, not encryption: send it over TLS only, and never log it.
 *
 * Browser-safe on purpose (clients build these): no Buffer, no fs — TextEncoder/btoa/atob only.
 */

import { CodedError, RecordingErrorCode } from './errors';
import { RecordParamPayloadSchema, type RecordParamPayload } from './schemas/recordParam';
import { checker, SchemaError } from './schemas/validate';

export type StorageVendor = 'qiniu' | 's3' | 'local';

/** Where a recording goes. `endpoint` points an SDK at a non-default host (S3-compatible store, test server). */
export type StorageTarget = {
  vendor: StorageVendor;
  bucket?: string;
  region?: string;
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
};

export type RecordParam = {
  version: 1;
  video: boolean;
  fileName: string;
  storage: StorageTarget;
};

export const RECORD_PARAM_PREFIX = 'rp1.';
/** Generous for a bucket, two keys, an endpoint and a file name; bounds the work a hostile string causes. */
export const MAX_RECORD_PARAM_LENGTH = 8192;
/** Object keys: Qiniu allows 750 bytes, S3 1024; we keep well below both and below PATH_MAX. */
export const MAX_FILE_NAME_BYTES = 512;
export const MAX_FILE_NAME_SEGMENT_BYTES = 255;
const MAX_FILE_NAME_SEGMENTS = 16;

function invalid(field: string, why: string): CodedError {
  return new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${field}: ${why}`);
}

// ---------------------------------------------------------------------------------------------------
// base64url over UTF-8 without Buffer

function base64UrlEncode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlDecode(encoded: string, field: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw invalid(field, 'not base64url');
  const padded = encoded.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (encoded.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    throw invalid(field, 'not base64url');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(field, 'not UTF-8');
  }
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

// ---------------------------------------------------------------------------------------------------
// File names

// C0/C1 controls, DEL, and the bidi overrides that make a name display differently from what it is.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_FILE_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\\]/;

/**
 * Returns `name` (NFC-normalised) when it is a safe relative object name, else throws
 * InvalidParameter naming `field`. Hostile names are refused rather than rewritten: a recording
 * silently renamed is, for its owner, a lost recording.
 *
 * Safe means: '/'-separated segments, none empty, none starting with '.' ('.', '..' and hidden
 * names); no leading '/' (absolute), no backslash (Windows separators), no NUL or other control
 * characters; at most 512 bytes in total and 255 per segment. The same rules hold for the name's
 * percent-decoded form: stores, consoles and web servers that show or serve an object key may decode
 * it, and `..%2fx` must not become `../x` there (nor a hidden `.…` file here). Such a name joined
 * under a prefix (bucket prefix or recordings directory) can never resolve outside it.
 */
export function sanitizeFileName(name: unknown, field = 'fileName'): string {
  if (typeof name !== 'string') throw invalid(field, 'must be a string');
  if (name.length === 0) throw invalid(field, 'must not be empty');
  // Length first, so the regexes below never run over megabytes.
  if (name.length > MAX_FILE_NAME_BYTES) throw invalid(field, `longer than ${MAX_FILE_NAME_BYTES} bytes`);
  const normalised = name.normalize('NFC');
  if (utf8Length(normalised) > MAX_FILE_NAME_BYTES) throw invalid(field, `longer than ${MAX_FILE_NAME_BYTES} bytes`);
  checkFileNameShape(normalised, field, '');
  const decoded = percentDecoded(normalised);
  if (decoded !== normalised) checkFileNameShape(decoded, field, ' once percent-decoded');
  return normalised;
}

function checkFileNameShape(name: string, field: string, context: string): void {
  if (FORBIDDEN_FILE_NAME_CHARS.test(name)) {
    throw invalid(field, `contains a control character or backslash${context}`);
  }
  if (name.startsWith('/')) throw invalid(field, `must be relative (no leading "/")${context}`);
  const segments = name.split('/');
  if (segments.length > MAX_FILE_NAME_SEGMENTS) throw invalid(field, `more than ${MAX_FILE_NAME_SEGMENTS} path segments${context}`);
  for (const segment of segments) {
    if (segment === '') throw invalid(field, `has an empty path segment${context}`);
    if (segment === '.' || segment === '..') throw invalid(field, `has a "." or ".." path segment${context}`);
    if (segment.startsWith('.')) throw invalid(field, `a path segment starts with "." (hidden name)${context}`);
    if (segment.trim() !== segment) throw invalid(field, `a path segment starts or ends with whitespace${context}`);
    if (utf8Length(segment) > MAX_FILE_NAME_SEGMENT_BYTES) {
      throw invalid(field, `a path segment is longer than ${MAX_FILE_NAME_SEGMENT_BYTES} bytes`);
    }
  }
}

/** `%XX` escapes decoded until none is left (`%252f` → `%2f` → `/`); bytes that are not UTF-8 stay escaped. */
function percentDecoded(name: string): string {
  let current = name;
  for (let round = 0; round < 4 && /%[0-9A-Fa-f]{2}/.test(current); round++) {
    const next = current.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => (parseInt(hex, 16) < 0x80 ? String.fromCharCode(parseInt(hex, 16)) : `%${hex}`));
      }
    });
    if (next === current) break;
    current = next;
  }
  return current.normalize('NFC');
}

// ---------------------------------------------------------------------------------------------------
// Storage targets

const VENDORS: readonly StorageVendor[] = ['qiniu', 's3', 'local'];
// Qiniu: 3–63 lowercase letters, digits and '-', starting and ending with a letter or digit.
const QINIU_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// S3 general-purpose bucket rules (the subset that matters for path-style and virtual-host URLs).
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Qiniu AK/SK are 40 urlsafe-base64 characters; tests and private deployments use shorter ones.
const QINIU_KEY = /^[A-Za-z0-9_-]{4,128}$/;
const S3_ACCESS_KEY = /^[A-Za-z0-9_.-]{3,128}$/;
// Printable ASCII, no spaces: what AWS, MinIO and s3rver all accept.
const S3_SECRET_KEY = /^[\x21-\x7e]{3,256}$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checkBucket(vendor: StorageVendor, bucket: unknown, field: string): string {
  if (typeof bucket !== 'string' || bucket.length === 0) throw invalid(field, 'required');
  if (vendor === 'qiniu') {
    if (!QINIU_BUCKET.test(bucket)) {
      throw invalid(field, 'Qiniu bucket names are 3-63 lowercase letters, digits or "-", starting and ending with a letter or digit');
    }
  } else {
    if (!S3_BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket) || bucket.startsWith('xn--')) {
      throw invalid(field, 'S3 bucket names are 3-63 lowercase letters, digits, "." or "-", starting and ending with a letter or digit, not an IP address');
    }
  }
  return bucket;
}

function checkEndpoint(endpoint: unknown, field: string): string {
  if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > 512) {
    throw invalid(field, 'must be an http(s) URL');
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalid(field, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(field, 'must be an http(s) URL');
  // Credentials in a URL end up in logs and error messages; they belong in accessKey/secretKey.
  if (url.username || url.password) throw invalid(field, 'must not contain credentials');
  if (url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw invalid(field, 'must be scheme://host[:port] only');
  }
  return `${url.protocol}//${url.host}`;
}

const TARGET_FIELDS = new Set(['vendor', 'bucket', 'region', 'endpoint', 'accessKey', 'secretKey']);

/** Targets this process validated: inner code (the upload queue) takes them as they are. */
const validatedTargets = new WeakSet<StorageTarget>();

/** True for a target validateStorageTarget returned (and nobody copied since): checked at its boundary already. */
export function isValidatedStorageTarget(target: unknown): target is StorageTarget {
  return typeof target === 'object' && target !== null && validatedTargets.has(target as StorageTarget);
}

/**
 * Validates a storage target and returns a clean copy (only known fields, normalised endpoint).
 * `prefix` names the fields in errors ('storage' → 'storage.bucket').
 */
export function validateStorageTarget(input: unknown, prefix = 'storage'): StorageTarget {
  const target = checkStorageTarget(input, prefix);
  validatedTargets.add(target);
  return target;
}

function checkStorageTarget(input: unknown, prefix: string): StorageTarget {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid(prefix, 'must be an object');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!TARGET_FIELDS.has(key)) throw invalid(`${prefix}.${key}`, 'unknown field');
  }
  const vendor = raw.vendor;
  if (typeof vendor !== 'string' || !VENDORS.includes(vendor as StorageVendor)) {
    throw invalid(`${prefix}.vendor`, `must be one of ${VENDORS.join(', ')}`);
  }
  if (vendor === 'local') {
    for (const key of ['bucket', 'region', 'endpoint', 'accessKey', 'secretKey']) {
      if (raw[key] !== undefined) throw invalid(`${prefix}.${key}`, 'not allowed for local storage');
    }
    return { vendor: 'local' };
  }

  const target: StorageTarget = { vendor: vendor as StorageVendor };
  target.bucket = checkBucket(target.vendor, raw.bucket, `${prefix}.bucket`);

  const keyPattern = vendor === 'qiniu' ? QINIU_KEY : S3_ACCESS_KEY;
  const secretPattern = vendor === 'qiniu' ? QINIU_KEY : S3_SECRET_KEY;
  // Never echo a key back in the message: the message may be logged or sent to a client.
  if (typeof raw.accessKey !== 'string' || !keyPattern.test(raw.accessKey)) {
    throw invalid(`${prefix}.accessKey`, 'missing or has characters outside the allowed set');
  }
  if (typeof raw.secretKey !== 'string' || !secretPattern.test(raw.secretKey)) {
    throw invalid(`${prefix}.secretKey`, 'missing or has characters outside the allowed set');
  }
  target.accessKey = raw.accessKey;
  target.secretKey = raw.secretKey;

  if (raw.region !== undefined) {
    if (typeof raw.region !== 'string' || !REGION.test(raw.region)) {
      throw invalid(`${prefix}.region`, 'lowercase letters, digits and "-" only');
    }
    target.region = raw.region;
  } else if (vendor === 's3') {
    throw invalid(`${prefix}.region`, 'required for S3');
  }
  if (raw.endpoint !== undefined) target.endpoint = checkEndpoint(raw.endpoint, `${prefix}.endpoint`);
  return target;
}

// ---------------------------------------------------------------------------------------------------
// Builders and parser

function encode(param: RecordParam): string {
  // Validate on the way out too, so a client finds its mistake before it joins.
  const storage = validateStorageTarget(param.storage);
  const fileName = sanitizeFileName(param.fileName);
  if (typeof param.video !== 'boolean') throw invalid('video', 'must be a boolean');
  const json = JSON.stringify({ v: 1, video: param.video, fileName, storage });
  return RECORD_PARAM_PREFIX + base64UrlEncode(json);
}

/** The Juphoon seed's builder, same argument order: (video, bucketName, secretKey, accessKey, fileName). */
export function buildQiniuRecordParam(
  video: boolean,
  bucketName: string,
  secretKey: string,
  accessKey: string,
  fileName: string,
): string {
  return encode({ version: 1, video, fileName, storage: { vendor: 'qiniu', bucket: bucketName, accessKey, secretKey } });
}

export type S3RecordParamOptions = {
  video: boolean;
  region: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  fileName: string;
  /** For S3-compatible stores (path-style addressing is used when set). */
  endpoint?: string;
};

export function buildS3RecordParam(options: S3RecordParamOptions): string {
  const { video, region, bucket, accessKey, secretKey, fileName, endpoint } = options;
  const storage: StorageTarget = { vendor: 's3', region, bucket, accessKey, secretKey };
  if (endpoint !== undefined) storage.endpoint = endpoint;
  return encode({ version: 1, video, fileName, storage });
}

/** Local storage: the file lands under the server's recordings directory. */
export function buildLocalRecordParam(video: boolean, fileName: string): string {
  return encode({ version: 1, video, fileName, storage: { vendor: 'local' } });
}

const payloadChecker = checker(RecordParamPayloadSchema);

/** Parses and validates a record string; throws CodedError(InvalidParameter) naming the bad field. */
export function parseRecordParam(recordString: unknown): RecordParam {
  if (typeof recordString !== 'string' || recordString.length === 0) throw invalid('recordString', 'must be a non-empty string');
  if (recordString.length > MAX_RECORD_PARAM_LENGTH) throw invalid('recordString', `longer than ${MAX_RECORD_PARAM_LENGTH} characters`);
  if (!recordString.startsWith(RECORD_PARAM_PREFIX)) {
    throw invalid('recordString', `unsupported format (expected prefix "${RECORD_PARAM_PREFIX}")`);
  }
  const json = base64UrlDecode(recordString.slice(RECORD_PARAM_PREFIX.length), 'recordString');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw invalid('recordString', 'payload is not JSON');
  }
  let obj: RecordParamPayload;
  try {
    obj = payloadChecker.parse(raw, '');
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    throw invalid(error.path || 'recordString', error.path ? error.message.slice(error.path.length + 2) : 'payload must be an object');
  }
  const fileName = sanitizeFileName(obj.fileName);
  const storage = validateStorageTarget(obj.storage);
  return { version: 1, video: obj.video, fileName, storage };
}
