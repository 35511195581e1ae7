/**
 * Signed file links: a <video src> cannot send an Authorization header, and a join token in a URL ends
 * up in history, logs and Referer headers where it grants a whole channel (joining, publishing,
 * recording). A link instead carries `exp` and `sig` = HMAC-SHA256(secret, "file.v1" \n channel \n key
 * \n exp), so what leaks opens one file until it expires.
 */
import crypto from 'node:crypto';
import { CodedError, SignalingErrorCode } from '../../signaling/errors';

/** How long a link given out with a listing stays valid. */
export const FILE_LINK_TTL_S = 3600;

export interface FileLink {
  exp: number;
  sig: string;
}

export function signFileLink(secret: string, channelId: string, objectKey: string, nowSeconds = Math.floor(Date.now() / 1000)): FileLink {
  const exp = nowSeconds + FILE_LINK_TTL_S;
  return { exp, sig: signature(secret, channelId, objectKey, exp) };
}

/** Throws TOKEN_INVALID for a signature that is not this file's, TOKEN_EXPIRED past `exp`. */
export function verifyFileLink(secret: string, channelId: string, objectKey: string, exp: string, sig: string, nowSeconds = Math.floor(Date.now() / 1000)): void {
  const expiry = /^\d{1,12}$/.test(exp) ? Number(exp) : NaN;
  if (!Number.isFinite(expiry)) throw new CodedError(SignalingErrorCode.TokenInvalid, 'link has no valid expiry');
  const expected = Buffer.from(signature(secret, channelId, objectKey, expiry));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    throw new CodedError(SignalingErrorCode.TokenInvalid, 'link signature is invalid for this file');
  }
  if (expiry <= nowSeconds) throw new CodedError(SignalingErrorCode.TokenExpired, 'link has expired: list the recordings again');
}

function signature(secret: string, channelId: string, objectKey: string, exp: number): string {
  return crypto.createHmac('sha256', secret).update(`file.v1\n${channelId}\n${objectKey}\n${exp}`).digest('base64url');
}
