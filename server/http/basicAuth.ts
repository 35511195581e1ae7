import crypto from 'node:crypto';
import type http from 'node:http';
import { HttpErrorCode } from '../../signaling/errors';
import { ApiError } from './apiError';
import type { ServerConfig } from '../../config/defaults';

/** The HTTP API's secret (with auth.appId, the Basic credentials every node of a cluster shares): api.secret, else the token secret. */
export function apiSecretOf(config: Pick<ServerConfig, 'api'>, authSecret: string): string {
  return config.api.secret || authSecret;
}

/**
 * Backend authentication: `Authorization: Basic base64(appId:secret)` (curl -u appId:secret).
 * Both parts are compared as HMAC digests with timingSafeEqual, and both always, so neither the
 * length nor which part was wrong leaks through timing.
 */
export class ApiAuthenticator {
  readonly #key = crypto.randomBytes(32);
  readonly #appId: Buffer;
  readonly #secret: Buffer;

  constructor(appId: string, secret: string) {
    this.#appId = this.#digest(appId);
    this.#secret = this.#digest(secret);
  }

  /** Throws 401 UNAUTHORIZED unless the request carries the right app id and secret. */
  check(request: http.IncomingMessage): void {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const appId = colon === -1 ? '' : decoded.slice(0, colon);
    const secret = colon === -1 ? '' : decoded.slice(colon + 1);
    const appOk = crypto.timingSafeEqual(this.#digest(appId), this.#appId);
    const secretOk = crypto.timingSafeEqual(this.#digest(secret), this.#secret);
    if (!match || !(appOk && secretOk)) {
      throw new ApiError(401, HttpErrorCode.Unauthorized, match ? 'wrong app id or secret' : 'send Authorization: Basic base64(appId:secret)');
    }
  }

  #digest(value: string): Buffer {
    return crypto.createHmac('sha256', this.#key).update(value).digest();
  }
}
