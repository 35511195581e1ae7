/**
 * Channel signaling (WebSocket `/ws`, JSON text frames): every request with its response and its
 * errors, and every notification. The server validates each request against `request` once, at the
 * socket; docs/protocol.md is generated from this table. Browser-safe.
 */
import { Static, TSchema, Type } from '@sinclair/typebox';
import { SignalingErrorCode as S, RecordingErrorCode as R, type ErrorCode } from '../errors';
import {
  ChannelTypeSchema,
  ErrorBody,
  ErrorCodeSchema,
  Id,
  MediaKindSchema,
  RecordingId,
  RecordStateSchema,
  RoleSchema,
} from './common';
import { OpaqueObject, StringEnum } from './validate';
import { RECORDING_EVENT_TYPES, RecordingEventEntrySchema } from './recordingEvent';

const CHANNEL_RECORDING_EVENT_TYPES = [...RECORDING_EVENT_TYPES, 'recordParamRefused'] as const;

const object = <P extends Parameters<typeof Type.Object>[0]>(properties: P, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
const Empty = object({});
const NoData = Type.Optional(Empty);

export const ChannelIdSchema = Id('The channel to join (created by the first join)');
const TransportId = Id('A transport id from createWebRtcTransport / createPlainTransport');
const ProducerId = Id('A producer id (produce, newProducer, peers[].producers)');
const ConsumerId = Id('A consumer id from consume');
const Direction = StringEnum(['send', 'recv'] as const, { description: 'send: the client publishes through it; recv: it receives consumers' });
const RtpObject = (description: string) => OpaqueObject(32 * 1024, { description });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Pixels = (description: string) => Type.Integer({ minimum: 1, maximum: 16384, description });
const Layer = (description: string) => Type.Integer({ minimum: 0, maximum: 15, description });
/** A mediasoup object the server sends (capabilities, ICE/DTLS/RTP parameters), as mediasoup defines it. */
const MediasoupObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

export const RecordParamMessageSchema = object(
  { recordString: Type.String({ minLength: 1, maxLength: 8 * 1024, description: 'A record string: rp1.<base64url JSON> (see "Record strings")' }) },
  'Where recordings of the channel go (Juphoon seed recordParam)',
);
export type RecordParamMessage = Static<typeof RecordParamMessageSchema>;

export const JoinParamSchema = object(
  {
    record: Type.Optional(RecordParamMessageSchema),
    channelType: Type.Optional(ChannelTypeSchema),
  },
  'Juphoon seed joinParam: a record param (needs the record privilege) and, for the first host, the channel type',
);
export type JoinParam = Static<typeof JoinParamSchema>;

export const ProducerInfoSchema = object({ producerId: ProducerId, kind: MediaKindSchema, paused: Type.Boolean() });
export const PeerInfoSchema = object({
  peerId: Type.String({ description: 'This session of the peer' }),
  uid: Type.String({ description: 'The user id (the token subject)' }),
  displayName: Type.String(),
  role: RoleSchema,
  producers: Type.Array(ProducerInfoSchema),
});
const RecordParamDescription = Type.Union(
  [
    Type.Object(
      {
        vendor: StringEnum(['qiniu', 's3', 'local'] as const),
        bucket: Type.Optional(Type.String()),
        region: Type.Optional(Type.String()),
        endpoint: Type.Optional(Type.String()),
        fileName: Type.String(),
        video: Type.Boolean(),
        setBy: Type.String({ description: "The setter's uid, or server" }),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: 'The record param in force, without keys; null when none' },
);
export const ChannelPropertiesSchema = Type.Object(
  {
    recordState: RecordStateSchema,
    recordingId: Type.Union([RecordingId, Type.Null()], { description: 'The running recording, when recordState is Running' }),
    recordParam: Type.Optional(RecordParamDescription),
  },
  { additionalProperties: Type.Unknown(), description: 'Channel properties (Juphoon seed); plugins may add more' },
);

/** One signaling method: what it takes, what it answers, which error codes it may answer with. */
export interface MethodSpec {
  summary: string;
  request: TSchema;
  response: TSchema;
  errors: readonly ErrorCode[];
}

const JOINED = [S.NotJoined, S.BadRequest] as const;
const method = <Q extends TSchema, A extends TSchema>(summary: string, request: Q, response: A, errors: readonly ErrorCode[]) => ({ summary, request, response, errors });

const JoinResponseSchema = object({
  peerId: Type.String(),
  uid: Type.String(),
  role: RoleSchema,
  privileges: object({ publish: Type.Boolean({ description: 'May produce in this channel' }), record: Type.Boolean() }),
  channel: object({ id: Type.String(), type: ChannelTypeSchema, properties: ChannelPropertiesSchema }),
  peers: Type.Array(PeerInfoSchema, { description: 'The other peers, with their producers' }),
  routerRtpCapabilities: MediasoupObject('mediasoup RtpCapabilities of the channel router'),
});

const PlainTransportSchema = object({
  transportId: Type.String(),
  ip: Type.String({ description: 'Where the transport listens (send RTP there)' }),
  port: Port,
  rtcpPort: Type.Optional(Port),
});

const PreferredLayersAnswer = object({
  preferredLayers: Type.Union(
    [object({ spatialLayer: Type.Integer({ minimum: 0 }), temporalLayer: Type.Optional(Type.Integer({ minimum: 0 })) }), Type.Null()],
    { description: 'The layers the consumer now prefers; null when its producer has a single layer (nothing to choose)' },
  ),
});

/** The method table. Methods a plugin serves (enableRecord) are listed too: the client sees one protocol. */
export const signalingMethods = {
  getRouterRtpCapabilities: method('The media capabilities of the server (before join: to load a mediasoup-client Device)', NoData, object({ routerRtpCapabilities: MediasoupObject('mediasoup RtpCapabilities') }), [S.BadRequest]),
  join: method(
    'Join a channel with a token; answers with the peers already there and the channel properties',
    object({
      channelId: ChannelIdSchema,
      displayName: Type.String({ minLength: 1, maxLength: 128 }),
      token: Type.String({ minLength: 1, maxLength: 4096, description: 'A join token (HS256 JWT, see the README)' }),
      joinParam: Type.Optional(JoinParamSchema),
      rtpCapabilities: Type.Optional(RtpObject('mediasoup RtpCapabilities of the client (needed to consume through WebRTC)')),
    }),
    JoinResponseSchema,
    [S.BadRequest, S.AlreadyJoined, S.TokenInvalid, S.TokenExpired, S.TokenMismatch, S.ChannelClosed, S.Redirect, S.ClusterUnavailable],
  ),
  setRtpCapabilities: method('Give (or change) the client RTP capabilities used by later consume calls', object({ rtpCapabilities: RtpObject('mediasoup RtpCapabilities') }), Empty, JOINED),
  getChannelProperties: method('The channel properties now', NoData, object({ properties: ChannelPropertiesSchema }), JOINED),
  createWebRtcTransport: method(
    'A WebRTC transport (ICE over UDP and TCP, DTLS)',
    object({ direction: Direction }),
    object({
      transportId: Type.String(),
      iceParameters: MediasoupObject('mediasoup IceParameters'),
      iceCandidates: Type.Array(MediasoupObject('mediasoup IceCandidate')),
      dtlsParameters: MediasoupObject('mediasoup DtlsParameters'),
    }),
    [...JOINED, S.Forbidden],
  ),
  connectWebRtcTransport: method('Finish the DTLS handshake of a WebRTC transport', object({ transportId: TransportId, dtlsParameters: RtpObject('mediasoup DtlsParameters of the client') }), Empty, [...JOINED, S.NotFound]),
  createPlainTransport: method(
    'A plain RTP transport (no ICE/DTLS): publish from GStreamer/FFmpeg or receive RTP on a UDP port',
    object({
      direction: Direction,
      comedia: Type.Optional(Type.Boolean({ description: 'Learn the remote address from the first packet; default true for send, false for recv' })),
      rtcpMux: Type.Optional(Type.Boolean({ description: 'RTCP on the RTP port; default true' })),
    }),
    PlainTransportSchema,
    [...JOINED, S.Forbidden],
  ),
  connectPlainTransport: method(
    'Tell a plain transport where to send (recv transports: your UDP socket)',
    object({
      transportId: TransportId,
      ip: Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9a-fA-F:.]+$' }),
      port: Port,
      rtcpPort: Type.Optional(Port),
    }),
    Empty,
    [...JOINED, S.NotFound],
  ),
  closeTransport: method('Close a transport and everything on it', object({ transportId: TransportId }), Empty, [...JOINED, S.NotFound]),
  produce: method(
    'Publish a track on a send transport; the other peers get newProducer',
    object({
      transportId: TransportId,
      kind: MediaKindSchema,
      rtpParameters: RtpObject('mediasoup RtpParameters: { codecs: [{ mimeType, payloadType, clockRate, channels?, parameters? }], encodings: [{ ssrc }] }'),
      appData: Type.Optional(OpaqueObject(2 * 1024, { description: 'Free-form, kept with the producer' })),
      videoSize: Type.Optional(
        object(
          { width: Pixels('Width of the full-size picture'), height: Pixels('Height of the full-size picture') },
          'Video: the size of the picture the full-size encoding carries (the track as captured); the server sizes simulcast layers from it (scaleResolutionDownBy), else assumes 1280×720',
        ),
      ),
    }),
    object({ producerId: Type.String() }),
    [...JOINED, S.Forbidden, S.NotFound, S.ChannelClosed],
  ),
  pauseProducer: method('Pause a producer of yours (others get producerPaused)', object({ producerId: ProducerId }), Empty, [...JOINED, S.NotFound]),
  resumeProducer: method('Resume a producer of yours (others get producerResumed)', object({ producerId: ProducerId }), Empty, [...JOINED, S.NotFound]),
  closeProducer: method('Stop publishing a track (others get producerClosed)', object({ producerId: ProducerId }), Empty, [...JOINED, S.NotFound]),
  consume: method(
    'Receive a producer on a recv transport; the consumer starts paused: call resumeConsumer when ready',
    object({ transportId: TransportId, producerId: ProducerId }),
    object({
      consumerId: Type.String(),
      producerId: Type.String(),
      kind: MediaKindSchema,
      type: Type.String({ description: 'mediasoup consumer type: simple, simulcast, svc, pipe' }),
      rtpParameters: MediasoupObject('mediasoup RtpParameters of what the server sends: codecs[].payloadType, encodings[].ssrc'),
      paused: Type.Boolean(),
      producerPaused: Type.Boolean(),
    }),
    [...JOINED, S.Forbidden, S.NotFound, S.CannotConsume],
  ),
  resumeConsumer: method('Start receiving a consumer (video: a key frame is requested)', object({ consumerId: ConsumerId }), Empty, [...JOINED, S.NotFound]),
  pauseConsumer: method('Stop receiving a consumer for a while', object({ consumerId: ConsumerId }), Empty, [...JOINED, S.NotFound]),
  closeConsumer: method('Close a consumer', object({ consumerId: ConsumerId }), Empty, [...JOINED, S.NotFound]),
  setConsumerRenderSize: method(
    'Tell the server the box a video consumer is shown in (device pixels); it sends the smallest simulcast layer that fills the box without upscaling, at full frame rate. Send again when the box changes',
    object({ consumerId: ConsumerId, width: Pixels('Box width, device pixels'), height: Pixels('Box height, device pixels') }),
    PreferredLayersAnswer,
    [...JOINED, S.NotFound],
  ),
  setConsumerPreferredLayers: method(
    'Choose the simulcast layers of a video consumer yourself (mediasoup setPreferredLayers); a layer above what the producer sends means its highest',
    object({ consumerId: ConsumerId, spatialLayer: Layer('0 = the smallest encoding'), temporalLayer: Type.Optional(Layer('0 = the lowest frame rate; default: the highest')) }),
    PreferredLayersAnswer,
    [...JOINED, S.NotFound],
  ),
  requestKeyFrame: method('Ask the producer of a video consumer for a key frame', object({ consumerId: ConsumerId }), Empty, [...JOINED, S.NotFound]),
  leave: method('Leave the channel (the socket stays; join again or close it)', NoData, Empty, [S.NotJoined, S.BadRequest]),
  enableRecord: method(
    'Juphoon seed enableRecord(enable, recordParam): start (needs recordState Ready or a recordParam) or stop recording the channel; needs the record privilege',
    object({
      enable: Type.Boolean(),
      recordParam: Type.Optional(Type.Union([RecordParamMessageSchema, Type.Null()], { description: 'A non-null param on enable replaces the one in force' })),
    }),
    object({
      accepted: Type.Literal(true),
      recordingId: Type.Optional(RecordingId),
      recordState: RecordStateSchema,
    }),
    [...JOINED, S.Forbidden, R.InvalidParameter, R.InvalidOperation, R.RecorderInitFailed],
  ),
} satisfies Record<string, MethodSpec>;

export type Method = keyof typeof signalingMethods;
export type RequestData<M extends Method> = Static<(typeof signalingMethods)[M]['request']>;
export type ResponseData<M extends Method> = Static<(typeof signalingMethods)[M]['response']>;

// ---------------------------------------------------------------------------------------------------
// Envelopes

export const RequestEnvelopeSchema = object({
  id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Chosen by the client; echoed in the response' }),
  method: Type.String({ minLength: 1, maxLength: 64 }),
  data: Type.Optional(OpaqueObject(64 * 1024, { description: "The method's request" })),
});
export type RequestEnvelope = Static<typeof RequestEnvelopeSchema>;
export const ResponseEnvelopeSchema = Type.Union([
  object({ id: Type.Union([Type.Integer(), Type.Null()]), ok: Type.Literal(true), data: Type.Unknown({ description: "The method's response" }) }),
  object({ id: Type.Union([Type.Integer(), Type.Null()], { description: "null only when the frame's id could not be read" }), ok: Type.Literal(false), error: ErrorBody }),
]);
export type ErrorBody = Static<typeof ErrorBody>;

// ---------------------------------------------------------------------------------------------------
// Notifications: { notification, data }, server → client, never answered.

const PeerRef = { peerId: Type.String(), producerId: Type.String() };
export const signalingNotifications = {
  peerJoined: { summary: 'Another peer joined', data: object({ peer: PeerInfoSchema }) },
  peerLeft: { summary: 'A peer left', data: object({ peerId: Type.String(), uid: Type.String() }) },
  newProducer: { summary: 'A peer published a track: consume it with its producerId', data: object({ peerId: Type.String(), producer: ProducerInfoSchema }) },
  producerClosed: { summary: 'A peer stopped publishing a track', data: object(PeerRef) },
  producerPaused: { summary: 'A peer paused a track', data: object(PeerRef) },
  producerResumed: { summary: 'A peer resumed a track', data: object(PeerRef) },
  consumerClosed: { summary: 'One of your consumers closed (its producer went away)', data: object({ consumerId: Type.String(), reason: Type.String() }) },
  propertyChange: {
    summary: 'Juphoon seed onMediaChannelPropertyChange: which properties changed, and all their values now',
    data: object({ changed: Type.Array(Type.String(), { description: 'e.g. ["recordState", "recordingId"]' }), properties: ChannelPropertiesSchema }),
  },
  channelClosed: {
    summary: 'The channel closed for you (media worker died, joined again elsewhere, server shutdown; CHANNEL_MOVED: it now lives on another cluster node)',
    data: object({ channelId: Type.String(), reason: Type.String(), code: ErrorCodeSchema }),
  },
  recordingProgress: {
    summary: "Upload progress of one of the channel's recordings",
    data: object({ recordingId: Type.String(), fileName: Type.String(), percent: Type.Integer({ minimum: 0, maximum: 100 }) }),
  },
  recordingEvent: {
    summary:
      "An event of one of the channel's recordings (as the recorder SDK gets it; every type but connecting and uploadingProgress, which goes as recordingProgress), or recordParamRefused (your join param was not used; recordingId is empty, no seq)",
    data: Type.Object(
      {
        ...RecordingEventEntrySchema.properties,
        seq: Type.Optional(RecordingEventEntrySchema.properties.seq),
        at: Type.Optional(RecordingEventEntrySchema.properties.at),
        type: StringEnum(CHANNEL_RECORDING_EVENT_TYPES),
        event: StringEnum(CHANNEL_RECORDING_EVENT_TYPES, { description: 'The same as type (first-version clients)' }),
        code: Type.Optional(ErrorCodeSchema),
      },
      { additionalProperties: false },
    ),
  },
} satisfies Record<string, { summary: string; data: TSchema }>;

export type NotificationName = keyof typeof signalingNotifications;
export type Notifications = { [N in NotificationName]: Static<(typeof signalingNotifications)[N]['data']> };
export type ChannelProperties = Static<typeof ChannelPropertiesSchema> & { [key: string]: unknown };
export type PeerInfo = Static<typeof PeerInfoSchema>;
export type ProducerInfo = Static<typeof ProducerInfoSchema>;
export type JoinResponse = Static<typeof JoinResponseSchema>;
