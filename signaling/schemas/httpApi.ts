/**
 * The backend HTTP API (`/api/v1`, JSON, HTTP Basic appId:secret): every route with its body and
 * its answers. The server validates bodies with these schemas; the OpenAPI document served at
 * GET /api/v1/openapi.json is generated from this table (./openapi.ts). Browser-safe.
 */
import { Static, TSchema, Type } from '@sinclair/typebox';
import { ErrorBody, ID_PATTERN, IsoTime, MixedVideoLayoutSchema, RECORDING_MODES, RECORDING_PHASES, RecordingErrorCodeSchema, Seq } from './common';
import { RecordingEventEntrySchema } from './recordingEvent';
import { CloudStorageConfigSchema, RecordingConfigSchema } from './recordingConfig';
import { StringEnum } from './validate';

const Uid = Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN });

export const StartRequestSchema = Type.Object(
  {
    channelName: Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN, description: 'The channel (created if nobody joined it yet)' }),
    uid: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: ID_PATTERN, description: 'Who starts it (logs, startedBy)' })),
    recordingConfig: Type.Optional(RecordingConfigSchema),
    cloudStorageConfig: Type.Optional(CloudStorageConfigSchema),
    fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Object key stem (relative, "/"-separated); the start stamp and id are appended' })),
  },
  { additionalProperties: false },
);
export type StartRequest = Static<typeof StartRequestSchema>;

export const LayoutRequestSchema = Type.Object({ layout: MixedVideoLayoutSchema, maxResolutionUid: Type.Optional(Uid) }, { additionalProperties: false });
export type LayoutRequest = Static<typeof LayoutRequestSchema>;


export const UploadSchema = Type.Object(
  {
    id: Type.String(),
    recordingId: Type.String(),
    channelId: Type.String(),
    objectKey: Type.String(),
    target: Type.Object(
      { vendor: StringEnum(['qiniu', 's3', 'local'] as const), bucket: Type.Optional(Type.String()), region: Type.Optional(Type.String()), endpoint: Type.Optional(Type.String()) },
      { additionalProperties: false, description: 'Where it goes (never keys)' },
    ),
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 (hex) of the file as it was queued: what the store must end up holding' })),
    state: StringEnum(['queued', 'uploading', 'retrying', 'backingUp', 'backedUp', 'held', 'uploaded', 'failed'] as const, {
      description: 'held: uploading stopped by Release(false); the file waits in backup until resume-uploads',
    }),
    percent: Type.Integer({ minimum: 0, maximum: 100, description: 'Monotonic; 100 only once the store acknowledged the object' }),
    attempts: Type.Integer({ minimum: 0 }),
    createdAt: IsoTime,
    backup: Type.Optional(Type.Object({ localPath: Type.Optional(Type.String()), bucketLocation: Type.Optional(Type.String()) }, { additionalProperties: false })),
    location: Type.Optional(Type.String({ description: 'Where the store put it' })),
    lastError: Type.Optional(
      Type.Object(
        { code: RecordingErrorCodeSchema, kind: StringEnum(['user', 'transient'] as const), message: Type.String(), status: Type.Optional(Type.Integer()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const RecordingSchema = Type.Object(
  {
    recordingId: Type.String(),
    channelId: Type.String(),
    phase: StringEnum(RECORDING_PHASES),
    recovered: Type.Optional(Type.Literal(true, { description: 'A recording a previous server process never finished; its files were recovered after the restart' })),
    mode: StringEnum(RECORDING_MODES),
    startedAt: Type.String({ format: 'date-time', description: "When the recorder started (a recording's first segment): the instant files[].startOffsetMs count from" }),
    startedBy: Type.String({ description: 'api:<uid>, peer:<uid> or sdk:<uid>' }),
    participants: Type.Array(Type.String(), { description: 'uids whose streams were recorded at any time (kept after stop)' }),
    files: Type.Array(
      Type.Object(
        {
          objectKey: Type.String(),
          kind: StringEnum(['composite', 'audio', 'video', 'metadata'] as const),
          uid: Type.Optional(Type.String()),
          startOffsetMs: Type.Number(),
          segment: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Cluster mode, a recording that moved to another recorder node when its node died: 0 as it started, 1 on the next node …' }),
          ),
          durationMs: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    uploads: Type.Array(UploadSchema),
    layout: Type.Optional(Type.Object({ layout: MixedVideoLayoutSchema, maxResolutionUid: Type.Optional(Type.String()) }, { additionalProperties: false })),
    lastSeq: Seq,
    nodeId: Type.Optional(Type.String({ description: 'Cluster mode: the node that records it (another node answers for it with its last published state)' })),
    nodeLost: Type.Optional(Type.Literal(true, { description: 'Cluster mode: its node died during the recording, and the cluster declared it failed' })),
    segment: Type.Optional(Type.Integer({ minimum: 1, description: 'Cluster mode: the segment its node records now, after recorder nodes died (absent: 0)' })),
  },
  { additionalProperties: false, description: 'A recording: state, participants, files and upload states' },
);
export type RecordingView = Static<typeof RecordingSchema>;

export const ErrorAnswerSchema = Type.Object({ error: ErrorBody }, { additionalProperties: false });
const RecordingListSchema = Type.Object({ recordings: Type.Array(RecordingSchema) }, { additionalProperties: false });
const EventsAnswerSchema = Type.Object(
  {
    recordingId: Type.String(),
    events: Type.Array(RecordingEventEntrySchema),
    lastSeq: Seq,
    complete: Type.Boolean({ description: 'false when older events were dropped from the bounded log' }),
  },
  { additionalProperties: false },
);
const ResumeUploadsAnswerSchema = Type.Object(
  { recordingId: Type.String(), resumed: Type.Integer({ minimum: 0 }), uploads: Type.Array(UploadSchema) },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });
/** One live node of a cluster, as it heartbeats into Redis (server/cluster/NodeRegistry NodeInfo). */
export const ClusterNodeSchema = Type.Object(
  {
    nodeId: Type.String(),
    publicUrl: Type.String({ description: 'How clients and other nodes reach its HTTP/WebSocket (cluster.publicUrl); REDIRECTs point here' }),
    rtpAddress: Type.String({ description: 'The address other nodes send RTP to' }),
    roles: Type.Array(StringEnum(['media', 'recorder'] as const), {
      description: 'cluster.roles: media hosts channels (new channels are placed only there), recorder runs recordings',
    }),
    load: Type.Object(
      {
        channels: Count,
        peers: Count,
        producers: Count,
        recordings: Type.Integer({ minimum: 0, description: 'Channels with a recording running' }),
        cpu: Type.Number({ minimum: 0, description: 'Load average of the last minute per core (1 = every core busy)' }),
        recorder: Type.Optional(
          Type.Object(
            {
              capacity: Type.Integer({ minimum: 0, description: 'Recording cost units this node runs at most (recording.capacityUnits, or 800 per core); 0 on a node without the recorder role' }),
              used: Type.Integer({ minimum: 0, description: 'What its running recordings cost now (1 unit = a thousandth of a core; a 4-party composite about 175)' }),
            },
            { additionalProperties: false, description: 'Recorder room, once the recording plugin reports it' },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    startedAt: Type.Integer({ description: "ms since the epoch, the node's clock" }),
    seenAt: Type.Integer({ description: "Its last heartbeat, ms since the epoch, the node's clock" }),
  },
  { additionalProperties: false },
);
export const ClusterNodesAnswerSchema = Type.Object(
  { nodeId: Type.String({ description: 'The node that answered' }), nodes: Type.Array(ClusterNodeSchema, { description: 'The live nodes, by nodeId' }) },
  { additionalProperties: false },
);

/** What a webhook receiver gets: one recording event, POSTed as JSON, signed (X-Confrec-Signature). */
export const WebhookPayloadSchema = Type.Object(
  { id: Type.String({ description: '<recordingId>:<seq>, the same on retries (deduplicate on it)' }), ...RecordingEventEntrySchema.properties },
  { additionalProperties: false, description: RecordingEventEntrySchema.description },
);
export type WebhookPayload = Static<typeof WebhookPayloadSchema>;
export const WEBHOOK_HEADERS = {
  'x-confrec-signature': 't=<unix seconds>,v1=<hex HMAC-SHA256(webhooks.secret, "<t>." + raw body)>',
  'x-confrec-event': 'the event name',
  'x-confrec-delivery': 'the payload id',
} as const;

export interface ApiRoute {
  method: 'get' | 'post' | 'put';
  /** OpenAPI path template under /api/v1. */
  path: string;
  summary: string;
  /** Public: no credentials needed. */
  public?: boolean;
  query?: Record<string, TSchema>;
  body?: TSchema;
  /** status → [description, schema]; errors use ErrorAnswerSchema. */
  responses: Record<string, [string, TSchema | undefined]>;
}

const ERR = ErrorAnswerSchema;
const unauthorized: [string, TSchema] = ['Missing or wrong app id / secret (UNAUTHORIZED)', ERR];
const notFound: [string, TSchema] = ['No such recording on this server (NOT_FOUND)', ERR];
const badBody: [string, TSchema] = ['BAD_JSON, or InvalidParameter (the message names the field)', ERR];
const tooLarge: [string, TSchema] = ['MESSAGE_TOO_LARGE: body over api.maxBodyBytes', ERR];

/** Every route RecordingsApi serves, in the order of the README, and the cluster's (server/cluster/clusterRoutes). */
export const apiRoutes: readonly ApiRoute[] = [
  { method: 'get', path: '/openapi.json', summary: 'This document', public: true, responses: { '200': ['OpenAPI 3.1 document', Type.Object({}, { additionalProperties: true })] } },
  { method: 'get', path: '/recordings', summary: 'List the recordings of this server (running and finished)', responses: { '200': ['Recordings', RecordingListSchema], '401': unauthorized } },
  {
    method: 'post',
    path: '/recordings',
    summary:
      'Start recording a channel; answers once the recorder has written its first bytes (composite: the file; per participant: the first stream file, or at once when nobody publishes), at most 5 s after the recorder started',
    body: StartRequestSchema,
    responses: {
      '201': ['Started', RecordingSchema],
      '400': badBody,
      '401': unauthorized,
      '409': ['InvalidOperation: the channel is already recorded, or the server runs recording.maxConcurrentRecordings recordings', ERR],
      '413': tooLarge,
      '500': ['RecorderInitFailed and other server-side failures', ERR],
    },
  },
  { method: 'get', path: '/recordings/{recordingId}', summary: 'One recording', responses: { '200': ['The recording', RecordingSchema], '401': unauthorized, '404': notFound } },
  {
    method: 'put',
    path: '/recordings/{recordingId}/layout',
    summary: 'Change the composite layout while recording',
    body: LayoutRequestSchema,
    responses: { '200': ['Layout applied', RecordingSchema], '400': badBody, '401': unauthorized, '404': notFound, '409': ['InvalidOperation: not running, or not a composite recording', ERR], '413': tooLarge },
  },
  {
    method: 'post',
    path: '/recordings/{recordingId}/stop',
    summary: 'Stop a recording; answers once the files are finalized and in the upload queue (files[] and uploads[] final)',
    responses: { '200': ['Stopped', RecordingSchema], '401': unauthorized, '404': notFound, '409': ['InvalidOperation: not running', ERR], '413': tooLarge },
  },
  {
    method: 'post',
    path: '/recordings/{recordingId}/resume-uploads',
    summary: 'Upload the files Release(false) held in backup (state held); they go through the usual retries',
    responses: { '200': ['Resumed', ResumeUploadsAnswerSchema], '401': unauthorized, '404': notFound, '413': tooLarge },
  },
  {
    method: 'get',
    path: '/recordings/{recordingId}/events',
    summary: "The recording's events with seq > after (the same events the SDK and webhooks get)",
    query: { after: Type.Integer({ minimum: 0, maximum: 999_999_999_999_999, default: 0 }) },
    responses: { '200': ['Events', EventsAnswerSchema], '400': ['InvalidParameter: after is not a non-negative integer', ERR], '401': unauthorized, '404': notFound },
  },
  {
    method: 'get',
    path: '/cluster/nodes',
    summary: "Cluster mode (cluster.redisUrl set; 404 on a single node): the cluster's live nodes with their load, from any node",
    responses: { '200': ['The live nodes', ClusterNodesAnswerSchema], '401': unauthorized, '503': ["CLUSTER_UNAVAILABLE: the cluster's Redis cannot be reached", ERR] },
  },
];
