import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errors as joseErrors, jwtVerify } from 'jose';
import { CodedError, SignalingErrorCode } from '../../signaling/errors';
import type { Role } from '../../signaling/protocol';
import { JoinTokenClaimsSchema } from '../../signaling/schemas/joinToken';
import { checker } from '../../signaling/schemas/validate';

/**
 * Join tokens are JWTs signed with HS256 under the server's auth secret (its UTF-8 bytes), so a
 * backend mints them with its own language's JWT library. The claims bind app id, channel, uid,
 * role, privileges and validity window, so a token for one channel or role cannot be replayed for
 * another. There is no wildcard channel: a token opens exactly the channel it names (backends that
 * act on every channel use the HTTP API's own credentials). Only the configured algorithm is
 * accepted: `alg: none`, other HMAC sizes and public-key algorithms are refused before any claim is read.
 */
export const TOKEN_ALGORITHM = 'HS256';

export interface TokenPrivileges {
  publish: boolean;
  record: boolean;
  /**
   * List and download the channel's finished recordings. Optional so tokens minted before it existed
   * keep working: absent, it follows the role (hosts have it, the audience does not).
   */
  recordings?: boolean;
}

/** A verified token as the server uses it. */
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

/** The JWT payload on the wire (README "Join a channel" documents it for backends). */
export interface JoinTokenPayload {
  sub: string;
  appId: string;
  channel: string;
  role: Role;
  privileges: TokenPrivileges;
  exp: number;
  nbf?: number;
  iat?: number;
}

/**
 * Mints a join token (for `npm run token` and tests). Signed here with node:crypto because callers
 * need it synchronously and jose's SignJWT is async; it is a plain HS256 JWT, and verification (the
 * part that must be right) is jose's.
 */
export function mintToken(secret: string, claims: TokenClaims): string {
  const payload: JoinTokenPayload = {
    sub: claims.uid,
    appId: claims.appId,
    channel: claims.channelId,
    role: claims.role,
    privileges: claims.privileges,
    iat: Math.floor(Date.now() / 1000),
    exp: claims.exp,
    ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
  };
  const signingInput = `${base64url({ alg: TOKEN_ALGORITHM, typ: 'JWT' })}.${base64url(payload)}`;
  return `${signingInput}.${crypto.createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export interface VerifyExpectation {
  appId: string;
  channelId: string;
  nowSeconds?: number;
}

/** Verifies algorithm, signature, validity window, app and channel; throws CodedError with TOKEN_* codes. */
export async function verifyToken(secret: string, token: string, expected: VerifyExpectation): Promise<TokenClaims> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: [TOKEN_ALGORITHM],
      requiredClaims: ['exp', 'sub'],
      ...(expected.nowSeconds !== undefined ? { currentDate: new Date(expected.nowSeconds * 1000) } : {}),
    }));
  } catch (error) {
    throw refusal(error);
  }
  if (!isPayload(payload)) throw malformed();
  if (payload.appId !== expected.appId) throw new CodedError(SignalingErrorCode.TokenMismatch, 'token is for another app');
  if (payload.channel !== expected.channelId) throw new CodedError(SignalingErrorCode.TokenMismatch, 'token is for another channel');
  return {
    appId: payload.appId,
    channelId: payload.channel,
    uid: payload.sub,
    role: payload.role,
    privileges: privilegesOf(payload.privileges),
    exp: payload.exp,
    ...(payload.nbf !== undefined ? { nbf: payload.nbf } : {}),
  };
}

/** Only the privileges we know: anything else a minting library added stays out of the join answer. */
function privilegesOf({ publish, record, recordings }: TokenPrivileges): TokenPrivileges {
  return { publish, record, ...(recordings !== undefined ? { recordings } : {}) };
}

/** jose's reasons, in the signaling vocabulary. A malformed claim set is invalid before it is expired. */
function refusal(error: unknown): CodedError {
  if (error instanceof joseErrors.JWTClaimValidationFailed || error instanceof joseErrors.JWTExpired) {
    if (!isPayload(error.payload)) return malformed();
    if (error instanceof joseErrors.JWTExpired) return new CodedError(SignalingErrorCode.TokenExpired, 'token has expired');
    if (error.claim === 'nbf') {
      return new CodedError(SignalingErrorCode.TokenInvalid, `token is not valid before ${new Date(error.payload.nbf! * 1000).toISOString()}`);
    }
    return new CodedError(SignalingErrorCode.TokenInvalid, `token claims refused: ${error.message}`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new CodedError(SignalingErrorCode.TokenInvalid, `token algorithm is not allowed (${TOKEN_ALGORITHM} only)`);
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new CodedError(SignalingErrorCode.TokenInvalid, 'token signature is invalid');
  return new CodedError(SignalingErrorCode.TokenInvalid, 'token is not a well-formed JWT');
}

function malformed(): CodedError {
  return new CodedError(
    SignalingErrorCode.TokenInvalid,
    'token claims are incomplete or malformed (sub, appId, channel, role, privileges { publish, record, recordings? }; exp and nbf are integer unix seconds)',
  );
}

/** Whether a verified token may list and download its channel's recordings. */
export function mayAccessRecordings(claims: Pick<TokenClaims, 'role' | 'privileges'>): boolean {
  return claims.privileges.recordings ?? claims.role === 'host';
}

const claimsChecker = checker(JoinTokenClaimsSchema);

/** The claim set's shape, from the schema source (times are safe integers: 1e999 would never expire). */
function isPayload(value: unknown): value is JoinTokenPayload {
  return claimsChecker.check(value);
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
