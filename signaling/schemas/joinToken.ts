/**
 * The claims of a join token (a standard HS256 JWT, verified with jose in server/auth/token.ts). Open
 * like any JWT claim set: claims a minting library adds (iss, jti, …) are allowed and ignored.
 * Browser-safe.
 */
import { Static, Type } from '@sinclair/typebox';
import { ID_PATTERN, RoleSchema } from './common';

const UnixSeconds = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

export const JoinTokenClaimsSchema = Type.Object({
  sub: Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN, description: 'The uid' }),
  appId: Type.String({ description: "The server's auth.appId; another app: TOKEN_MISMATCH" }),
  channel: Type.String({ description: 'The one channel it opens (no wildcard); another: TOKEN_MISMATCH' }),
  role: RoleSchema,
  privileges: Type.Object({
    publish: Type.Boolean({ description: 'May publish media' }),
    record: Type.Boolean({ description: 'May start/stop recordings and choose where they go' }),
    recordings: Type.Optional(Type.Boolean({ description: "May list and download the channel's recordings (absent: hosts may, the audience not)" })),
  }, { additionalProperties: true }),
  exp: UnixSeconds('Expiry, required; past it: TOKEN_EXPIRED'),
  nbf: Type.Optional(UnixSeconds('Not before; earlier: TOKEN_INVALID')),
  iat: Type.Optional(Type.Number({ description: 'Issued at (informational)' })),
}, { additionalProperties: true });
export type JoinTokenClaims = Static<typeof JoinTokenClaimsSchema>;
