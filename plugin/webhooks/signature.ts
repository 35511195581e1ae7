import crypto from 'node:crypto';

/**
 * Webhook signatures. Every POST carries
 *
 *   X-Confrec-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the raw body bytes it received, compares in constant time,
 * and refuses timestamps older than its tolerance (replays). verifyWebhookSignature() does all that.
 */
export const SIGNATURE_HEADER = 'x-confrec-signature';

export function signWebhook(secret: string, body: string | Buffer, timestampSeconds: number = Math.floor(Date.now() / 1000)): string {
  const mac = crypto.createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

export interface VerifyWebhookOptions {
  /** Oldest (and furthest in the future) timestamp accepted, in seconds from now; default 300. */
  toleranceSeconds?: number;
  nowSeconds?: number;
}

/** True when `header` is a valid signature of exactly `body` under `secret`, within the tolerance. */
export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | string[] | undefined, options: VerifyWebhookOptions = {}): boolean {
  if (typeof header !== 'string' || !secret) return false;
  const { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) } = options;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, timestamp).split('v1=')[1]!, 'hex');
  // Every candidate is compared (no early exit) so timing says nothing about which one matched.
  let ok = false;
  for (const candidate of candidates) ok = crypto.timingSafeEqual(Buffer.from(candidate, 'hex'), expected) || ok;
  return ok;
}
