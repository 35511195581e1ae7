/**
 * The media link (WebSocket `/api/v1/cluster/media?channel=<id>&node=<nodeId>`, cluster mode): a
 * recorder node follows a channel that lives on another node (the media node) and has that node
 * send the channel's RTP straight to it. Internal to a cluster, authenticated with the HTTP API's
 * Basic credentials on the upgrade (a refusal is an HTTP answer `{ error: { code, message } }`:
 * 401 UNAUTHORIZED, 400 BAD_REQUEST, 404 NOT_FOUND when the channel is not open on that node).
 *
 * The same framing as channel signaling:
 *   recorder → media  request       { id, method, data }
 *   media → recorder  response      { id, ok: true, data } | { id, ok: false, error: { code, message } }
 *   media → recorder  notification  { notification, data }
 * The first notification is always `snapshot`; every change after it follows in order. While the
 * link is open the media node holds the channel open (a recording of a channel nobody is in yet).
 * Browser-safe (no Node imports).
 */
import { Static, TSchema, Type } from '@sinclair/typebox';
import { SignalingErrorCode as S, type ErrorCode } from '../errors';
import { Id, MediaKindSchema } from './common';
import { RecorderCodecSchema } from './recorderIpc';
import { checker, type Checker } from './validate';

/** Path of the media link's WebSocket on a media node. */
export const MEDIA_LINK_PATH = '/api/v1/cluster/media';

const object = <P extends Parameters<typeof Type.Object>[0]>(properties: P, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
const Empty = object({});
const IP = Type.String({ pattern: '^[0-9a-fA-F.:]{2,45}$', description: 'An IPv4 or IPv6 address' });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const ProducerId = Id('A producer of the channel (snapshot, producerAdded)');
const InputId = Id('An input of this link (openInput)');

export const LinkProducerSchema = object({
  producerId: ProducerId,
  kind: MediaKindSchema,
  paused: Type.Boolean(),
  uid: Type.String({ minLength: 1, maxLength: 256, description: 'The uid of the peer that publishes it' }),
});

/** What the recorder needs to receive one input (RecorderInput without inputId and uid). */
export const InputDescriptionSchema = object({
  kind: MediaKindSchema,
  codec: RecorderCodecSchema,
  ssrc: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
  rtcp: Type.Optional(object({ ip: IP, port: Port }, "Where the media node's RTCP for this input comes from (and the recorder's RTCP goes to)")),
});

const Pixels = Type.Integer({ minimum: 1, maximum: 16384 });
/** The layers a simulcast/SVC producer sends (plugin/recording/media/videoLayers.ts says how they are learnt). */
export const VideoLayersSchema = object({
  spatial: Type.Array(object({ width: Pixels, height: Pixels }), { minItems: 1, maxItems: 16, description: "Each spatial layer's size, lowest first" }),
  temporalLayers: Type.Integer({ minimum: 1, maximum: 16, description: 'Temporal layers in each spatial layer (1: none)' }),
  topFps: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'Frame rate of the top temporal layer' }),
});
const Layer = Type.Integer({ minimum: 0, maximum: 15 });

export interface MediaLinkMethodSpec {
  summary: string;
  request: TSchema;
  response: TSchema;
  errors: readonly ErrorCode[];
}
const method = <Q extends TSchema, A extends TSchema>(summary: string, request: Q, response: A, errors: readonly ErrorCode[]) => ({ summary, request, response, errors });
const OfInput = object({ inputId: InputId });

export const mediaLinkMethods = {
  openInput: method(
    'A paused input for one producer: a PlainTransport on the media node (at its cluster.rtpAddress) and a Consumer on it. One per producer per link',
    object({
      producerId: ProducerId,
      preferredSpatialLayer: Type.Integer({ minimum: 0, maximum: 10, description: 'Simulcast/SVC producers: the layer to receive (10: the highest)' }),
    }),
    object({
      inputId: InputId,
      kind: MediaKindSchema,
      description: InputDescriptionSchema,
      layers: Type.Optional(VideoLayersSchema),
    }),
    [S.NotFound, S.BadRequest, S.ChannelClosed],
  ),
  connect: method(
    "Sends the input's RTP to the recorder's ports (and RTCP to its RTCP port, else to its RTP port). Once per input",
    object({ inputId: InputId, ip: IP, rtpPort: Port, rtcpPort: Type.Optional(Port) }),
    Empty,
    [S.NotFound, S.BadRequest],
  ),
  resume: method('Starts the paused input', OfInput, Empty, [S.NotFound]),
  pause: method('Stops sending the input for a while (a tile the layout does not draw); resume starts it again', OfInput, Empty, [S.NotFound]),
  setPreferredLayers: method(
    "Which of the input's layers to send (mediasoup's setPreferredLayers; an input without layers ignores it)",
    object({ inputId: InputId, spatialLayer: Layer, temporalLayer: Layer }),
    Empty,
    [S.NotFound],
  ),
  requestKeyFrame: method("Asks the input's producer for a key frame", OfInput, Empty, [S.NotFound]),
  closeInput: method('Closes an input (idempotent: an input already closed is fine)', OfInput, Empty, []),
} satisfies Record<string, MediaLinkMethodSpec>;

export type MediaLinkMethod = keyof typeof mediaLinkMethods;
export type MediaLinkRequestData<M extends MediaLinkMethod> = Static<(typeof mediaLinkMethods)[M]['request']>;
export type MediaLinkResponses = { [M in MediaLinkMethod]: Static<(typeof mediaLinkMethods)[M]['response']> };

export const mediaLinkNotifications = {
  snapshot: {
    summary: 'Sent once, first: the producers of the channel and how many peers are in it',
    data: object({ producers: Type.Array(LinkProducerSchema, { maxItems: 4096 }), peerCount: Type.Integer({ minimum: 0 }) }),
  },
  producerAdded: { summary: 'A peer published a track', data: LinkProducerSchema },
  producerClosed: { summary: 'A producer is gone', data: object({ producerId: ProducerId }) },
  producerPaused: { summary: 'A producer was paused or resumed', data: object({ producerId: ProducerId, paused: Type.Boolean() }) },
  peerCount: { summary: 'Peers in the channel now (a peer joined or left)', data: object({ count: Type.Integer({ minimum: 0 }) }) },
  inputClosed: { summary: "An input closed on the media node (its producer went away); no closeInput is needed", data: object({ inputId: InputId }) },
  channelClosed: { summary: 'The channel closed on the media node; the link closes after this', data: object({ reason: Type.String({ maxLength: 1024 }) }) },
} satisfies Record<string, { summary: string; data: TSchema }>;

export type MediaLinkNotification = keyof typeof mediaLinkNotifications;
export type MediaLinkNotifications = { [N in MediaLinkNotification]: Static<(typeof mediaLinkNotifications)[N]['data']> };

const hasOwn = (table: object, key: string): boolean => Object.prototype.hasOwnProperty.call(table, key);
export const isMediaLinkMethod = (value: string): value is MediaLinkMethod => hasOwn(mediaLinkMethods, value);
export const isMediaLinkNotification = (value: string): value is MediaLinkNotification => hasOwn(mediaLinkNotifications, value);

/** Checkers by name, compiled on first use: requests (media node), responses and notifications (recorder node). */
export const mediaLinkRequestSchemas = Object.fromEntries(
  Object.entries(mediaLinkMethods).map(([name, spec]) => [name, checker(spec.request as TSchema)]),
) as { [M in MediaLinkMethod]: Checker<MediaLinkRequestData<M>> };
export const mediaLinkResponseSchemas = Object.fromEntries(
  Object.entries(mediaLinkMethods).map(([name, spec]) => [name, checker(spec.response as TSchema)]),
) as { [M in MediaLinkMethod]: Checker<MediaLinkResponses[M]> };
export const mediaLinkNotificationSchemas = Object.fromEntries(
  Object.entries(mediaLinkNotifications).map(([name, spec]) => [name, checker(spec.data as TSchema)]),
) as { [N in MediaLinkNotification]: Checker<MediaLinkNotifications[N]> };
