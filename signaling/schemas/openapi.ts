/**
 * The OpenAPI 3.1 document of the backend HTTP API, generated from the route table and schemas in
 * ./httpApi.ts (served at GET /api/v1/openapi.json). Named schemas become components and are
 * referenced by $ref wherever they occur. Browser-safe.
 */
import type { TSchema } from '@sinclair/typebox';
import { ErrorAnswerSchema, LayoutRequestSchema, RecordingSchema, StartRequestSchema, UploadSchema, WEBHOOK_HEADERS, WebhookPayloadSchema, apiRoutes } from './httpApi';
import { RecordingEventEntrySchema } from './recordingEvent';
import { CloudStorageConfigSchema, RecordingConfigSchema, TranscodingConfigSchema } from './recordingConfig';

/** Components by name; any occurrence of these schema objects is written as a $ref. */
export const OPENAPI_COMPONENTS: ReadonlyArray<[string, TSchema]> = [
  ['Error', ErrorAnswerSchema],
  ['StartRequest', StartRequestSchema],
  ['RecordingConfig', RecordingConfigSchema],
  ['TranscodingConfig', TranscodingConfigSchema],
  ['CloudStorageConfig', CloudStorageConfigSchema],
  ['LayoutRequest', LayoutRequestSchema],
  ['Recording', RecordingSchema],
  ['Upload', UploadSchema],
  ['RecordingEvent', RecordingEventEntrySchema],
  ['WebhookPayload', WebhookPayloadSchema],
];

const DESCRIPTION =
  'Drive server-side recordings from a backend. Authenticate with HTTP Basic: the app id (auth.appId) as user name and the API secret ' +
  '(api.secret, or auth.secret when empty) as password. Errors are { "error": { "code", "message" } }; codes are the Agora Cloud Recording ' +
  'codes (InvalidParameter, InvalidOperation, …) or BAD_JSON, MESSAGE_TOO_LARGE, NOT_FOUND, UNAUTHORIZED, METHOD_NOT_ALLOWED, UNSUPPORTED_MEDIA_TYPE. ' +
  'Validation messages name the offending field; unknown fields are refused. Recording events are also POSTed to webhooks (see the README) and ' +
  'streamed to the recorder SDK (WebSocket at /api/v1/recorder; docs/protocol.md).';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Plain JSON Schema of a TypeBox schema (its symbols dropped), with components replaced by $ref. */
function toJson(value: unknown, refs: Map<unknown, string>, top: unknown): Json {
  const ref = refs.get(value);
  if (ref && value !== top) return { $ref: `#/components/schemas/${ref}` };
  if (Array.isArray(value)) return value.map((item) => toJson(item, refs, top));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, toJson(field, refs, top)]));
  }
  return value as Json;
}

export function buildOpenApiDocument(): Record<string, Json> {
  const refs = new Map<unknown, string>(OPENAPI_COMPONENTS.map(([name, schema]) => [schema, name]));
  const schema = (value: TSchema): Json => toJson(value, refs, undefined);
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of apiRoutes) {
    const item = (paths[route.path] ??= {});
    const parameters: Json[] = [];
    if (route.path.includes('{recordingId}')) {
      parameters.push({ name: 'recordingId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' } });
    }
    for (const [name, query] of Object.entries(route.query ?? {})) parameters.push({ name, in: 'query', required: false, schema: schema(query) });
    const responses: Record<string, Json> = {};
    for (const [status, [description, body]] of Object.entries(route.responses)) {
      responses[status] = body ? { description, content: { 'application/json': { schema: schema(body) } } } : { description };
    }
    item[route.method] = {
      summary: route.summary,
      ...(route.public ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(route.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'confrec backend API', version: '1.0.0', description: DESCRIPTION },
    servers: [{ url: '/api/v1' }],
    security: [{ basic: [] }],
    paths,
    webhooks: {
      recordingEvent: {
        post: {
          summary: 'Every event of every recording, POSTed to each of webhooks.urls; per URL and recording in order, retried with backoff until a 2xx',
          parameters: Object.entries(WEBHOOK_HEADERS).map(([name, description]) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } })),
          requestBody: { required: true, content: { 'application/json': { schema: schema(WebhookPayloadSchema) } } },
          responses: { '200': { description: 'Any 2xx: delivered; anything else (or no answer within webhooks.timeoutMs) is retried' } },
        },
      },
    },
    components: {
      securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
      schemas: Object.fromEntries(OPENAPI_COMPONENTS.map(([name, component]) => [name, toJson(component, refs, component)])),
    },
  };
}
