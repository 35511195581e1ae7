/**
 * The signaling protocol: every message that crosses the WebSocket, with its schema.
 *
 *   client → server  request       { id, method, data? }
 *   server → client  response      { id, ok: true, data } | { id, ok: false, error: { code, message } }
 *   server → client  notification  { notification, data }
 *
 * Requests are answered exactly once; notifications are fire-and-forget. Browser-safe.
 */
import { bool, Infer, nullable, num, obj, oneOf, opaqueObject, optional, Schema, str } from './schema';
import type { ErrorCode } from './errors';
import type { WireRecordingEvent } from './recordingEvent';

export const PROTOCOL_VERSION = 1;

const id = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_.:-]+$/ });
export const channelIdSchema = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_.:-]+$/ });
const rtpObject = opaqueObject({ maxJsonLength: 32 * 1024 });
const appData = optional(opaqueObject({ maxJsonLength: 2 * 1024 }));

export const ChannelType = ['Communication', 'Live'] as const;
export type ChannelType = (typeof ChannelType)[number];
export const RecordState = ['None', 'Ready', 'Running'] as const;
export type RecordState = (typeof RecordState)[number];
export const Role = ['host', 'audience'] as const;
export type Role = (typeof Role)[number];

export const recordParamSchema = obj({ recordString: str({ min: 1, max: 8 * 1024 }) });
export type RecordParamMessage = Infer<typeof recordParamSchema>;

export const joinParamSchema = obj({
  record: optional(recordParamSchema),
  channelType: optional(oneOf(ChannelType)),
});
export type JoinParam = Infer<typeof joinParamSchema>;

/** Request data schemas by method. Methods beyond these may be served by plugins (see plugin/). */
export const requestSchemas = {
  getRouterRtpCapabilities: optional(obj({})),
  join: obj({
    channelId: channelIdSchema,
    displayName: str({ min: 1, max: 128 }),
    token: str({ min: 1, max: 4096 }),
    joinParam: optional(joinParamSchema),
    rtpCapabilities: optional(rtpObject),
  }),
  setRtpCapabilities: obj({ rtpCapabilities: rtpObject }),
  getChannelProperties: optional(obj({})),
  createWebRtcTransport: obj({ direction: oneOf(['send', 'recv'] as const) }),
  connectWebRtcTransport: obj({ transportId: id, dtlsParameters: rtpObject }),
  createPlainTransport: obj({
    direction: oneOf(['send', 'recv'] as const),
    comedia: optional(bool()),
    rtcpMux: optional(bool()),
  }),
  connectPlainTransport: obj({
    transportId: id,
    ip: str({ min: 2, max: 64, pattern: /^[0-9a-fA-F:.]+$/ }),
    port: num({ min: 1, max: 65535, integer: true }),
    rtcpPort: optional(num({ min: 1, max: 65535, integer: true })),
  }),
  closeTransport: obj({ transportId: id }),
  produce: obj({ transportId: id, kind: oneOf(['audio', 'video'] as const), rtpParameters: rtpObject, appData }),
  pauseProducer: obj({ producerId: id }),
  resumeProducer: obj({ producerId: id }),
  closeProducer: obj({ producerId: id }),
  consume: obj({ transportId: id, producerId: id }),
  resumeConsumer: obj({ consumerId: id }),
  pauseConsumer: obj({ consumerId: id }),
  closeConsumer: obj({ consumerId: id }),
  requestKeyFrame: obj({ consumerId: id }),
  leave: optional(obj({})),
  /** Juphoon seed: enableRecord(enable, recordParam). Served by the recording plugin. */
  enableRecord: obj({ enable: bool(), recordParam: optional(nullable(recordParamSchema)) }),
} satisfies Record<string, Schema<unknown>>;

export type Method = keyof typeof requestSchemas;
export type RequestData<M extends Method> = Infer<(typeof requestSchemas)[M]>;

export function isMethod(value: string): value is Method {
  return Object.prototype.hasOwnProperty.call(requestSchemas, value);
}

/** The envelope of every client message. */
export const requestEnvelopeSchema = obj({
  id: num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }),
  method: str({ min: 1, max: 64 }),
  data: optional(opaqueObject({ maxJsonLength: 64 * 1024 })),
});
export type RequestEnvelope = Infer<typeof requestEnvelopeSchema>;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export type ResponseMessage =
  | { id: number | null; ok: true; data: unknown }
  | { id: number | null; ok: false; error: ErrorBody };

export interface PeerInfo {
  peerId: string;
  uid: string;
  displayName: string;
  role: Role;
  producers: ProducerInfo[];
}

export interface ProducerInfo {
  producerId: string;
  kind: 'audio' | 'video';
  paused: boolean;
}

/**
 * What the `recordParam` channel property shows of the param in force: where recordings go and who
 * chose it, never a storage key.
 */
export interface RecordParamDescription {
  vendor: string;
  bucket?: string;
  region?: string;
  endpoint?: string;
  fileName: string;
  video: boolean;
  setBy: string;
}

export interface ChannelProperties {
  recordState: RecordState;
  /** The running recording's id, when recordState is Running. */
  recordingId: string | null;
  /** What the record param in force says (vendor, file name: never its keys); null without one. Absent without the recording plugin. */
  recordParam?: RecordParamDescription | null;
}

/** Told to the peer whose record param (at join) was refused; the join stands. Not a recording's event. */
export interface RecordParamRefused {
  recordingId: '';
  type: 'recordParamRefused';
  event: 'recordParamRefused';
  code: ErrorCode;
  message: string;
}

/** Notification payloads by name. */
export interface Notifications {
  peerJoined: { peer: PeerInfo };
  peerLeft: { peerId: string; uid: string };
  newProducer: { peerId: string; producer: ProducerInfo };
  producerClosed: { peerId: string; producerId: string };
  producerPaused: { peerId: string; producerId: string };
  producerResumed: { peerId: string; producerId: string };
  consumerClosed: { consumerId: string; reason: string };
  /** Juphoon seed: onMediaChannelPropertyChange — which properties changed and all their new values. */
  propertyChange: { changed: string[]; properties: ChannelProperties };
  channelClosed: { channelId: string; reason: string; code: ErrorCode };
  recordingProgress: { recordingId: string; fileName: string; percent: number };
  /** A recording's event (see recordingEvent.ts), or a peer's own record param refused at join. */
  recordingEvent: WireRecordingEvent | RecordParamRefused;
}

export type NotificationName = keyof Notifications;
export interface NotificationMessage<N extends NotificationName = NotificationName> {
  notification: N;
  data: Notifications[N];
}

export interface JoinResponse {
  peerId: string;
  uid: string;
  role: Role;
  privileges: { publish: boolean; record: boolean };
  channel: { id: string; type: ChannelType; properties: ChannelProperties };
  peers: PeerInfo[];
  routerRtpCapabilities: unknown;
}
