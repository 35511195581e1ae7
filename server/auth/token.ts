import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CodedError, SignalingErrorCode } from '../../signaling/errors';
import type { Role } from '../../signaling/protocol';

/**
 * Join tokens: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "v1." + claims))>`.
 * The claims bind app id, channel, uid, role, privileges and validity window, so a token for one
 * channel or role cannot be replayed for another. There is no wildcard channel: a token opens exactly
 * the channel it names (backends that act on every channel use the HTTP API's own credentials).
 */
export interface TokenPrivileges {
  publish: boolean;
  record: boolean;
  /**
   * List and download the channel's finished recordings. Optional so tokens minted before it existed
   * keep working: absent, it follows the role (hosts have it, the audience does not).
   */
  recordings?: boolean;
}

export interface TokenClaims {
  appId: string;
  channelId: string;
  uid: string;
  role: Role;
  privileges: TokenPrivileges;
  /** Expiry, unix seconds (an integer). */
  exp: number;
  /** Not before, unix seconds (an integer); optional. */
  nbf?: number;
}

const VERSION = 'v1';

export function mintToken(secret: string, claims: TokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${VERSION}.${payload}.${sign(secret, payload)}`;
}

export interface VerifyExpectation {
  appId: string;
  channelId: string;
  nowSeconds?: number;
}

/** Verifies signature, validity window, app and channel; throws CodedError with TOKEN_* codes. */
export function verifyToken(secret: string, token: string, expected: VerifyExpectation): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw new CodedError(SignalingErrorCode.TokenInvalid, 'token is malformed');
  const [, payload, signature] = parts as [string, string, string];
  const expectedSignature = Buffer.from(sign(secret, payload));
  const givenSignature = Buffer.from(signature);
  if (givenSignature.length !== expectedSignature.length || !crypto.timingSafeEqual(givenSignature, expectedSignature)) {
    throw new CodedError(SignalingErrorCode.TokenInvalid, 'token signature is invalid');
  }
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new CodedError(SignalingErrorCode.TokenInvalid, 'token payload is not JSON');
  }
  if (!isClaims(claims)) throw new CodedError(SignalingErrorCode.TokenInvalid, 'token claims are incomplete or malformed (exp and nbf are integer unix seconds)');
  const now = expected.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (claims.nbf !== undefined && now < claims.nbf) {
    throw new CodedError(SignalingErrorCode.TokenInvalid, `token is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  }
  if (claims.exp <= now) throw new CodedError(SignalingErrorCode.TokenExpired, 'token has expired');
  if (claims.appId !== expected.appId) throw new CodedError(SignalingErrorCode.TokenMismatch, 'token is for another app');
  if (claims.channelId !== expected.channelId) throw new CodedError(SignalingErrorCode.TokenMismatch, 'token is for another channel');
  return claims;
}

/** Whether a verified token may list and download its channel's recordings. */
export function mayAccessRecordings(claims: Pick<TokenClaims, 'role' | 'privileges'>): boolean {
  return claims.privileges.recordings ?? claims.role === 'host';
}

function sign(secret: string, payload: string): string {
  return crypto.createHmac('sha256', secret).update(`${VERSION}.${payload}`).digest('base64url');
}

function isClaims(value: unknown): value is TokenClaims {
  const claims = value as TokenClaims;
  return (
    typeof claims === 'object' &&
    claims !== null &&
    typeof claims.appId === 'string' &&
    typeof claims.channelId === 'string' &&
    typeof claims.uid === 'string' &&
    /^[A-Za-z0-9_.:-]{1,64}$/.test(claims.uid) &&
    (claims.role === 'host' || claims.role === 'audience') &&
    typeof claims.privileges === 'object' &&
    claims.privileges !== null &&
    typeof claims.privileges.publish === 'boolean' &&
    typeof claims.privileges.record === 'boolean' &&
    (claims.privileges.recordings === undefined || typeof claims.privileges.recordings === 'boolean') &&
    isUnixSeconds(claims.exp) &&
    (claims.nbf === undefined || isUnixSeconds(claims.nbf))
  );
}

/** JSON numbers like 1e999 parse to Infinity and would never expire: times are safe integers. */
function isUnixSeconds(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The configured secret, or one generated on first use and kept (0600) in the state dir. */
export function resolveAuthSecret(configured: string, stateDir: string): string {
  if (configured) return configured;
  const file = path.join(stateDir, 'auth-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(stateDir, { recursive: true });
    const secret = crypto.randomBytes(32).toString('base64url');
    try {
      fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
      return secret;
    } catch {
      // Another process created it first: use theirs.
      return fs.readFileSync(file, 'utf8').trim();
    }
  }
}
