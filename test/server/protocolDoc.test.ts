// The schema source is the only description of the wire: docs/protocol.md and the OpenAPI document
// are generated from it, and these tests fail when either drifts from the schemas (or the schemas
// from what the server really answers).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { requestSchemas } from '../../signaling/protocol';
import { recorderRequestSchemas } from '../../signaling/recorder/protocol';
import { apiRoutes, WebhookPayloadSchema } from '../../signaling/schemas/httpApi';
import { RecordingEventSchema } from '../../signaling/schemas/recordingEvent';
import { buildOpenApiDocument } from '../../signaling/schemas/openapi';
import { renderProtocolDoc } from '../../signaling/schemas/protocolDoc';
import { recorderMethods, recorderNotifications } from '../../signaling/schemas/recorderSdk';
import { signalingMethods, signalingNotifications } from '../../signaling/schemas/signaling';
import { checker } from '../../signaling/schemas/validate';
import { startBackendServer } from '../backend/support';
import { until } from '../support/recordingServer';
import { docSection, readProtocolDoc } from '../support/protocolDoc';

t.test('docs/protocol.md is what the schemas generate (run npm run docs after changing a schema)', async (t) => {
  const committed = readProtocolDoc();
  t.ok(committed === renderProtocolDoc(), 'the committed docs/protocol.md equals the generator output');
});

t.test('the protocol reference lists every signaling method with its request, its response and its errors, and every notification', async (t) => {
  const doc = renderProtocolDoc();
  t.same(Object.keys(requestSchemas).sort(), Object.keys(signalingMethods).sort(), 'the server validates exactly the methods the table describes');
  const signalingStart = doc.indexOf('## Channel signaling');
  const sdkStart = doc.indexOf('## Recorder SDK socket');
  t.ok(signalingStart >= 0 && sdkStart > signalingStart, 'both sockets have a part');
  for (const method of Object.keys(signalingMethods)) {
    const section = docSection(doc, method, signalingStart);
    t.ok(section.length > 0 && doc.indexOf(section) < sdkStart, `${method}: has a section`);
    t.match(section, /\*\*Request\*\* `data`:\n\n```ts\n/, `${method}: request`);
    t.match(section, /\*\*Response\*\* `data`:\n\n```ts\n/, `${method}: response`);
    t.match(section, /\*\*Errors:\*\* `[A-Za-z_]+`/, `${method}: errors`);
  }
  for (const notification of Object.keys(signalingNotifications)) t.match(docSection(doc, notification, signalingStart), /`data`:\n\n```ts\n\{/, `notification ${notification}`);
  t.same(Object.keys(recorderRequestSchemas).sort(), Object.keys(recorderMethods).sort(), 'the recorder SDK socket validates exactly its table');
  for (const method of Object.keys(recorderMethods)) {
    const section = docSection(doc, method, sdkStart);
    t.match(section, /\*\*Response\*\* `data`:\n\n```ts\n/, `recorder SDK ${method}: response`);
  }
  for (const notification of Object.keys(recorderNotifications)) t.ok(docSection(doc, notification, sdkStart).length > 0, `recorder SDK notification ${notification}`);
  for (const route of apiRoutes) t.ok(doc.includes(`\`/api/v1${route.path}\``), `HTTP ${route.method.toUpperCase()} ${route.path} listed`);
});

t.test('GET /api/v1/openapi.json is the generated document; every route has its body and answer shapes, and the answers match them', async (t) => {
  // A webhook receiver: what it is sent must match the webhook payload schema.
  const deliveries: unknown[] = [];
  const receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      deliveries.push(JSON.parse(body));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const env = await startBackendServer({ overrides: { webhooks: { urls: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` } } });
  t.teardown(() => env.close());
  const served = await (await fetch(`${env.httpUrl}/api/v1/openapi.json`)).json();
  t.same(served, JSON.parse(JSON.stringify(buildOpenApiDocument())), 'served = generated from the schemas');
  t.equal(served.openapi, '3.1.0');
  for (const route of apiRoutes) {
    const operation = served.paths[route.path]?.[route.method];
    t.ok(operation, `${route.method.toUpperCase()} ${route.path} described`);
    if (route.body) t.ok(operation.requestBody?.content?.['application/json']?.schema, `${route.path}: request body shape`);
    const success = Object.keys(operation.responses).find((status) => status.startsWith('2'))!;
    t.ok(operation.responses[success]?.content?.['application/json']?.schema, `${route.method} ${route.path}: ${success} answer shape`);
  }
  t.equal(served.components.schemas.StartRequest.additionalProperties, false, 'bodies refuse unknown fields');
  t.same(served.webhooks.recordingEvent.post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/WebhookPayload' }, 'the webhook body is described');

  // The answers the server really gives match the answer schemas of the route table.
  const answerOf = (method: string, pathTemplate: string) => {
    const route = apiRoutes.find((candidate) => candidate.method === method && candidate.path === pathTemplate)!;
    const success = Object.keys(route.responses).find((status) => status.startsWith('2'))!;
    return { status: Number(success), check: checker(route.responses[success]![1]!) };
  };
  const conforms = (name: string, answer: { status: number; body: unknown }, method: string, pathTemplate: string): void => {
    const expected = answerOf(method, pathTemplate);
    t.equal(answer.status, expected.status, `${name}: status ${expected.status}`);
    t.doesNotThrow(() => expected.check.parse(answer.body, 'answer'), `${name}: the answer matches its schema`);
  };
  const started = await env.api.request('POST', '/recordings', { channelName: 'schema-room', recordingConfig: { recordingMode: 'individual' } });
  conforms('start', started, 'post', '/recordings');
  const id = started.body.recordingId as string;
  conforms('list', await env.api.request('GET', '/recordings'), 'get', '/recordings');
  conforms('one', await env.api.request('GET', `/recordings/${id}`), 'get', '/recordings/{recordingId}');
  const events = await env.api.request('GET', `/recordings/${id}/events?after=0`);
  conforms('events', events, 'get', '/recordings/{recordingId}/events');
  // The event model (a union on `type`) holds every logged event, field for field.
  const union = checker(RecordingEventSchema);
  for (const { event, ...fields } of events.body.events) t.doesNotThrow(() => union.parse({ type: event, ...fields }, event), `${event} fits the RecordingEvent union`);
  conforms('stop', await env.api.request('POST', `/recordings/${id}/stop`), 'post', '/recordings/{recordingId}/stop');
  conforms('resume uploads', await env.api.request('POST', `/recordings/${id}/resume-uploads`), 'post', '/recordings/{recordingId}/resume-uploads');
  const composite = await env.api.request('POST', '/recordings', { channelName: 'schema-mixed', recordingConfig: { transcodingConfig: { layout: 'BestFit' } } });
  conforms('start composite', composite, 'post', '/recordings');
  conforms('layout', await env.api.request('PUT', `/recordings/${composite.body.recordingId}/layout`, { layout: 'Vertical' }), 'put', '/recordings/{recordingId}/layout');
  await env.api.request('POST', `/recordings/${composite.body.recordingId}/stop`);
  const refused = await env.api.request('PUT', `/recordings/${composite.body.recordingId}/layout`, { layout: 'Vertical', colour: 'red' });
  t.match(refused.body, { error: { code: 'InvalidParameter', message: /colour: is not a known field/ } }, 'an unknown field is refused by name');
  t.doesNotThrow(() => checker(apiRoutes[0]!.responses['200']![1]!).parse(served), 'the document itself is an object');
  t.ok(await until(() => deliveries.length >= 4, 20_000), `webhooks delivered (${deliveries.length})`);
  const webhook = checker(WebhookPayloadSchema);
  for (const delivery of deliveries) t.doesNotThrow(() => webhook.parse(delivery, 'webhook'), `webhook ${(delivery as { event: string }).event} matches its schema`);
});
