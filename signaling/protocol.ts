/**
 * The signaling protocol: every message that crosses the WebSocket. The schemas themselves (one
 * source for types, validation and docs/protocol.md) are in ./schemas/signaling.ts; this module
 * gives the server its checkers and the clients their types.
 *
 *   client → server  request       { id, method, data? }
 *   server → client  response      { id, ok: true, data } | { id, ok: false, error: { code, message } }
 *   server → client  notification  { notification, data }
 *
 * Requests are answered exactly once; notifications are fire-and-forget. Browser-safe.
 */
import type { TSchema } from '@sinclair/typebox';
import type { ErrorCode } from './errors';
import { CHANNEL_TYPES, RECORD_STATES, ROLES } from './schemas/common';
import { RequestEnvelopeSchema, signalingMethods, type Method, type NotificationName, type Notifications, type RequestData } from './schemas/signaling';
import { checker, type Checker } from './schemas/validate';

export type {
  ChannelProperties,
  JoinParam,
  JoinResponse,
  Method,
  NotificationName,
  Notifications,
  PeerInfo,
  ProducerInfo,
  RecordParamMessage,
  RequestData,
  RequestEnvelope,
  ResponseData,
} from './schemas/signaling';

export const PROTOCOL_VERSION = 1;

export const ChannelType = CHANNEL_TYPES;
export type ChannelType = (typeof ChannelType)[number];
export const RecordState = RECORD_STATES;
export type RecordState = (typeof RecordState)[number];
export const Role = ROLES;
export type Role = (typeof Role)[number];

/** Request data checkers by method, compiled on first use. */
export const requestSchemas = Object.fromEntries(
  Object.entries(signalingMethods).map(([name, spec]) => [name, checker(spec.request as TSchema)]),
) as { [M in Method]: Checker<RequestData<M>> };

export function isMethod(value: string): value is Method {
  return Object.prototype.hasOwnProperty.call(signalingMethods, value);
}

/** The envelope of every client message. */
export const requestEnvelopeSchema = checker(RequestEnvelopeSchema);

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export type ResponseMessage =
  | { id: number | null; ok: true; data: unknown }
  | { id: number | null; ok: false; error: ErrorBody };

export interface NotificationMessage<N extends NotificationName = NotificationName> {
  notification: N;
  data: Notifications[N];
}
