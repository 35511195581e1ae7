/**
 * Renders docs/protocol.md from the schema source: every signaling method with its request, its
 * response and its errors, every notification, the recorder SDK socket, the recording event model and
 * the HTTP routes. `npm run docs` writes it (scripts/gen-protocol-doc.ts); a test regenerates it in
 * memory and fails when the committed file drifts. Deterministic: no dates, no environment.
 */
import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { HttpErrorCode, RecordingErrorCode, SignalingErrorCode, SocketCloseCode, SOCKET_CLOSE_REASONS, type ErrorCode } from '../errors';
import { apiRoutes, WEBHOOK_HEADERS, WebhookPayloadSchema } from './httpApi';
import { JoinTokenClaimsSchema } from './joinToken';
import { RecordParamPayloadSchema } from './recordParam';
import { recorderMethods, recorderNotifications } from './recorderSdk';
import { RecordingEventEntrySchema, RecordingEventSchema } from './recordingEvent';
import { RequestEnvelopeSchema, ResponseEnvelopeSchema, signalingMethods, signalingNotifications } from './signaling';

type Schema = TSchema & Record<string | symbol, unknown>;

const ERROR_MEANINGS: Record<ErrorCode, string> = {
  [SignalingErrorCode.BadJson]: 'the frame is not JSON text (binary, unparsable, nested deeper than 32 levels)',
  [SignalingErrorCode.MessageTooLarge]: 'the frame is over signaling.maxMessageBytes (64 KiB); the socket stays',
  [SignalingErrorCode.BadRequest]: 'the envelope or the data does not match the schema; the message names the field (`data.rtpParameters: must be an object`), unknown fields are refused',
  [SignalingErrorCode.UnknownMethod]: 'no such method',
  [SignalingErrorCode.NotJoined]: 'the method needs a joined channel: join first',
  [SignalingErrorCode.AlreadyJoined]: 'this socket is in a channel already (leave first)',
  [SignalingErrorCode.TokenInvalid]: 'the token is malformed, badly signed, not yet valid or of another algorithm',
  [SignalingErrorCode.TokenExpired]: 'the token is past its exp',
  [SignalingErrorCode.TokenMismatch]: 'the token is for another app or channel',
  [SignalingErrorCode.Forbidden]: 'the token does not grant it (publish, record), an audience produce in a Live channel, or a per-peer cap',
  [SignalingErrorCode.NotFound]: 'no transport, producer or consumer of yours with that id',
  [SignalingErrorCode.CannotConsume]: 'the producer cannot be consumed with your RTP capabilities',
  [SignalingErrorCode.ChannelClosed]: 'the channel closed while the request ran',
  [SignalingErrorCode.RateLimited]: 'over signaling.maxRequestsPerSecond (200) frames a second',
  [SignalingErrorCode.TooManyConnections]: 'WebSocket upgrade refused (HTTP 429 per IP, 503 per server)',
  [SignalingErrorCode.Internal]: 'a server fault (logged)',
  [SignalingErrorCode.ClusterUnavailable]: "cluster mode: the cluster's Redis cannot be reached, so no new channel can be placed; retry later",
  [SignalingErrorCode.Redirect]: 'cluster mode: the channel lives on another node; `error.data.url` is its publicUrl: connect to `<url>/ws` and join again (the SDKs do, at most 3 hops)',
  [SignalingErrorCode.ChannelMoved]: "cluster mode (channelClosed): this node lost the channel's lease to another node; join again through any node (the SDKs reconnect)",
  [SignalingErrorCode.NodeUnavailable]: 'cluster mode, HTTP only (502): the request belongs to another node, which did not answer (down, unreachable or over its timeout); retry later',
  [SignalingErrorCode.ConnectionClosed]: 'client side only: the socket closed before the answer',
  [SignalingErrorCode.Timeout]: 'client side only: no answer in time',
  [RecordingErrorCode.Ok]: 'no error',
  [RecordingErrorCode.ConnectError]: 'the recorder could not join (token refused)',
  [RecordingErrorCode.Disconnected]: 'the SDK lost its link',
  [RecordingErrorCode.InvalidParameter]: 'a recording parameter is wrong; the message names it',
  [RecordingErrorCode.InvalidOperation]: 'not possible now (already recording, not recording, the cap reached)',
  [RecordingErrorCode.NoUsers]: 'nobody in the channel for maxIdleTime',
  [RecordingErrorCode.NoRecordedData]: 'nothing was recorded',
  [RecordingErrorCode.RecorderInitFailed]: 'the recorder process could not start',
  [RecordingErrorCode.RecorderFailed]: 'the recorder process failed while recording',
  [RecordingErrorCode.UploaderInitFailed]: 'the store could not be set up',
  [RecordingErrorCode.UploaderFailed]: 'an upload failed',
  [RecordingErrorCode.BackupFailed]: 'the backup copy failed',
  [RecordingErrorCode.RecorderExpireExit]: 'the recorder stopped at its time limit',
  [RecordingErrorCode.GeneralError]: 'anything else',
  [HttpErrorCode.Unauthorized]: 'HTTP only: missing or wrong credentials',
  [HttpErrorCode.MethodNotAllowed]: 'HTTP only: wrong method for the path',
  [HttpErrorCode.UnsupportedMediaType]: 'HTTP only: the body is not JSON',
};

// ---------------------------------------------------------------------------------------------------
// Schema → TypeScript-like text, with constraints and descriptions as comments.

function isOptional(schema: Schema): boolean {
  return schema[OptionalKind] === 'Optional';
}

function constraints(schema: Schema): string[] {
  const notes: string[] = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined) notes.push(`${schema.minLength ?? 0}-${schema.maxLength ?? '∞'} chars`);
  if (schema.pattern !== undefined) notes.push(`/${schema.pattern}/`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) notes.push(`${schema.minimum ?? '-∞'}..${schema.maximum ?? '∞'}`);
  if (schema.maxItems !== undefined) notes.push(`at most ${schema.maxItems} items`);
  if (schema['x-maxJsonBytes'] !== undefined) notes.push(`JSON object, at most ${schema['x-maxJsonBytes']} bytes`);
  if (schema.format !== undefined) notes.push(String(schema.format));
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.description !== undefined) notes.push(String(schema.description));
  return notes;
}

function typeText(schema: Schema, indent: string): string {
  if (schema[Kind] === 'StringEnum') return (schema.enum as string[]).map((value) => JSON.stringify(value)).join(' | ');
  if (schema[Kind] === 'OpaqueObject') return 'object';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return (schema.anyOf as Schema[]).map((variant) => typeText(variant, indent)).join(' | ');
  switch (schema.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return String(schema.type);
    case 'integer':
      return 'integer';
    case 'array': {
      const items = typeText(schema.items as Schema, indent);
      return items.includes('\n') || items.includes('|') ? `Array<${items}>` : `${items}[]`;
    }
    case 'object':
      return objectText(schema, indent);
    default:
      return 'unknown';
  }
}

function objectText(schema: Schema, indent: string): string {
  // A record (Type.Record): any JSON object, described by its description.
  if (schema.patternProperties !== undefined) return 'object';
  const properties = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
  const open = schema.additionalProperties !== false && schema.additionalProperties !== undefined;
  if (properties.length === 0 && !open) return '{}';
  const inner = `${indent}  `;
  const lines: string[] = ['{'];
  for (const [name, field] of properties) {
    const type = typeText(field, inner);
    const notes = constraints(field);
    const key = `${name}${isOptional(field) ? '?' : ''}`;
    if (type.includes('\n')) {
      if (notes.length > 0) lines.push(`${inner}// ${notes.join('; ')}`);
      lines.push(`${inner}${key}: ${type};`);
    } else {
      lines.push(`${inner}${key}: ${type};${notes.length > 0 ? `  // ${notes.join('; ')}` : ''}`);
    }
  }
  if (open) lines.push(`${inner}[other: string]: unknown;  // other fields are allowed`);
  lines.push(`${indent}}`);
  return lines.join('\n');
}

function block(schema: TSchema): string {
  const s = schema as Schema;
  const text = typeText(s, '');
  const notes = constraints(s).filter((note) => !note.startsWith('JSON object'));
  const head = s.anyOf && s.description ? `// ${s.description}\n` : '';
  const optional = isOptional(s) ? '// data may be left out\n' : '';
  return '```ts\n' + optional + head + (s.anyOf ? (s.anyOf as Schema[]).map((variant) => typeText(variant, '')).join('\n| ') : text) + '\n```' + (notes.length > 0 && !s.anyOf ? `\n\n${notes.join('; ')}.` : '');
}

function errorList(codes: readonly ErrorCode[]): string {
  return codes.map((code) => `\`${code}\``).join(', ');
}

// ---------------------------------------------------------------------------------------------------

export function renderProtocolDoc(): string {
  const out: string[] = [];
  const push = (...lines: string[]): void => void out.push(...lines);

  push(
    '# confrec wire protocol',
    '',
    '<!-- Generated from signaling/schemas/ by `npm run docs` (scripts/gen-protocol-doc.ts). Do not edit by hand: a test fails when this file and the schemas differ. -->',
    '',
    'Everything a client needs to talk to a confrec server: channel signaling (publish, consume, record), the recorder SDK socket, the recording event model and the HTTP API. ' +
      'Types are written TypeScript-style: `?` marks an optional field, comments give the constraints. Every object refuses fields it does not list (`BAD_REQUEST` / `InvalidParameter` naming the field) unless it says `[other: string]: unknown`.',
    '',
    '## Channel signaling',
    '',
    '### Connecting',
    '',
    'Open a WebSocket to `wss://<server>:8080/ws` (`ws://` from the server itself, or with `http.tls: "off"`). Every frame is one JSON text message:',
    '',
    '```ts',
    '// client → server: a request',
    typeText(RequestEnvelopeSchema as unknown as Schema, ''),
    '// server → client: its response, exactly one per request, in order',
    (ResponseEnvelopeSchema.anyOf as unknown as Schema[]).map((variant) => typeText(variant, '')).join('\n| '),
    '// server → client: a notification, never answered',
    '{ notification: string; data: object }',
    '```',
    '',
    'A connection serves its requests one at a time, in order. Send `join` within `signaling.joinTimeoutMs` (10 s) of connecting; answer pings (every WebSocket library does). ' +
      'The server closes a socket with these codes:',
    '',
    '| close code | reason | when |',
    '| --- | --- | --- |',
    ...Object.entries(SocketCloseCode).map(([name, code]) => `| ${code} | \`${SOCKET_CLOSE_REASONS[code]}\` | ${name} |`),
    '| 1009 | | a message over twice `signaling.maxMessageBytes` |',
    '',
    'A join needs a token: a standard JWT, `alg: HS256` only, signed with the server secret (its UTF-8 bytes), minted by your backend with any JWT library (`npm run token` mints one; README, "Join a channel"). No clock leeway. Its claims:',
    '',
    block(JoinTokenClaimsSchema),
    '',
    '### Error codes',
    '',
    'An error response is `{ id, ok: false, error: { code, message } }`. Codes:',
    '',
    '| code | meaning |',
    '| --- | --- |',
    ...Object.entries(ERROR_MEANINGS).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`),
    '',
    '### Flows',
    '',
    '- **Publish from an RTP sender** (GStreamer, FFmpeg): `join` → `createPlainTransport { direction: "send", comedia: true, rtcpMux: true }` (answer: `ip`, `port`) → ' +
      '`produce { transportId, kind, rtpParameters: { codecs: [{ mimeType: "video/VP8", payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 1111 }] } }` → send RTP with that payload type and SSRC to `ip:port`. VP8 needs a picture ID in its payload descriptor (GStreamer: `rtpvp8pay picture-id-mode=2`): without one the SFU does not forward it.',
    '- **Consume into a UDP socket**: `createPlainTransport { direction: "recv", comedia: false, rtcpMux: true }` → `connectPlainTransport { transportId, ip, port }` (your socket) → ' +
      '`consume { transportId, producerId }` (producer ids come from `join`\'s `peers[].producers` and `newProducer`) → `resumeConsumer { consumerId }`; RTP arrives with the answer\'s `rtpParameters.codecs[0].payloadType` and `rtpParameters.encodings[0].ssrc`.',
    '- **Publish/consume from a browser**: `getRouterRtpCapabilities` (or `join`\'s `routerRtpCapabilities`) loads a mediasoup-client Device; `createWebRtcTransport` / `connectWebRtcTransport` carry ICE and DTLS.',
    '- **Record**: watch `join`\'s `channel.properties.recordState` and `propertyChange`: in `Ready`, `enableRecord { enable: true }` (or pass a `recordParam` to choose the store) starts a recording; `recordState` goes `Running`. ' +
      '`enableRecord { enable: false }` stops it; `recordingEvent` `{ event: "uploaded", fileName }` tells when the file is stored, `recordingProgress` how far the upload is.',
    '',
    '### Methods',
    '',
  );
  for (const [name, spec] of Object.entries(signalingMethods)) {
    push(`#### \`${name}\``, '', `${spec.summary}.`, '', '**Request** `data`:', '', block(spec.request), '', '**Response** `data`:', '', block(spec.response), '', `**Errors:** ${errorList(spec.errors)}.`, '');
  }
  push('### Notifications', '');
  for (const [name, spec] of Object.entries(signalingNotifications)) {
    push(`#### \`${name}\``, '', `${spec.summary}.`, '', '`data`:', '', block(spec.data), '');
  }
  push(
    '### Record strings',
    '',
    'A `recordString` is `rp1.` followed by the base64url (no padding) of the UTF-8 JSON',
    '',
    block(RecordParamPayloadSchema),
    '',
    'Unknown fields are refused. It carries the storage secret: send it over TLS only. A server with `recording.defaultStorage: "local"` is `Ready` without one.',
    '',
    '## Recorder SDK socket',
    '',
    'WebSocket `wss://<server>:8080/api/v1/recorder`, the same framing and error shape as channel signaling; errors of the recording family (`InvalidParameter`, …). ' +
      'A connection follows the recordings it started, resumed or attached to: first `recordingAttached`, then every `recordingEvent` in `seq` order. After a reconnect, `resume` with the last `seq` seen replays what was missed. Closing the socket never stops a recording.',
    '',
    '### Methods',
    '',
  );
  for (const [name, spec] of Object.entries(recorderMethods)) {
    push(`#### \`${name}\``, '', `${spec.summary}.`, '', '**Request** `data`:', '', block(spec.request), '', '**Response** `data`:', '', block(spec.response), '', `**Errors:** ${errorList(spec.errors)}.`, '');
  }
  push('### Notifications', '');
  for (const [name, spec] of Object.entries(recorderNotifications)) {
    push(`#### \`${name}\``, '', `${spec.summary}.`, '', '`data`:', '', block(spec.data), '');
  }
  push(
    '## Recording events',
    '',
    'One recording\'s lifecycle is one stream of numbered events (`seq` from 1). On the wire (SDK `recordingEvent`, webhooks, `GET /api/v1/recordings/{id}/events`) an event is:',
    '',
    block(RecordingEventEntrySchema),
    '',
    'The same events as a discriminated union on `type`, which shows the fields each type carries:',
    '',
    block(RecordingEventSchema),
    '',
    '## HTTP API',
    '',
    'Under `/api/v1`, JSON in and out, HTTP Basic (user `auth.appId`, password the API secret). The full description, with every body and answer, is the OpenAPI 3.1 document at `GET /api/v1/openapi.json` (generated from the same schemas).',
    '',
    '| method | path | does | answers |',
    '| --- | --- | --- | --- |',
    ...apiRoutes.map((route) => `| ${route.method.toUpperCase()} | \`/api/v1${route.path}\` | ${route.summary} | ${Object.keys(route.responses).join(', ')} |`),
    '',
    '## Webhooks',
    '',
    'With `webhooks.urls` set, every recording event is POSTed as JSON to each URL, per URL and recording in order, retried with backoff until the receiver answers 2xx. Headers:',
    '',
    '| header | value |',
    '| --- | --- |',
    ...Object.entries(WEBHOOK_HEADERS).map(([name, value]) => `| \`${name}\` | ${value.includes('<') ? `\`${value}\`` : value} |`),
    '',
    'Verify the signature over the raw body bytes, in constant time, and refuse old timestamps. The body:',
    '',
    block(WebhookPayloadSchema),
    '',
  );
  return out.join('\n');
}
