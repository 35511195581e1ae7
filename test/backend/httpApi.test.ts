import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { colorName, frameAt, meanColor, probe } from '../support/mediaProbe';
import { sleep, until } from '../support/recordingServer';
import { TEST_SECRET } from '../support/server';
import { apiClient, startBackendServer } from './support';

t.test('HTTP API: authentication, validation with field names, errors with codes, OpenAPI', async (t) => {
  const env = await startBackendServer({ overrides: { api: { maxBodyBytes: 4096 } } });
  t.teardown(() => env.close());

  const anonymous = await fetch(`${env.httpUrl}/api/v1/recordings`);
  t.equal(anonymous.status, 401, 'no credentials → 401');
  t.match(await anonymous.json(), { error: { code: 'UNAUTHORIZED' } });
  t.match(anonymous.headers.get('www-authenticate'), /^Basic/, 'asks for Basic auth');
  const wrongSecret = await apiClient(env.httpUrl, 'confrec', `${TEST_SECRET}x`).request('GET', '/recordings');
  t.equal(wrongSecret.status, 401, 'wrong secret → 401');
  t.equal(wrongSecret.body.error.code, 'UNAUTHORIZED');
  t.equal((await apiClient(env.httpUrl, 'other-app', TEST_SECRET).request('GET', '/recordings')).status, 401, 'wrong app id → 401');
  const listed = await env.api.request('GET', '/recordings');
  t.equal(listed.status, 200, 'app id + secret → 200');
  t.same(listed.body, { recordings: [] });

  const openapi = await fetch(`${env.httpUrl}/api/v1/openapi.json`);
  t.equal(openapi.status, 200, 'the OpenAPI description is served without credentials');
  const document = (await openapi.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  t.match(document.openapi, /^3\./);
  for (const [route, method] of [
    ['/recordings', 'get'],
    ['/recordings', 'post'],
    ['/recordings/{recordingId}', 'get'],
    ['/recordings/{recordingId}/layout', 'put'],
    ['/recordings/{recordingId}/stop', 'post'],
    ['/recordings/{recordingId}/events', 'get'],
  ] as const) {
    t.ok(document.paths[route]?.[method], `OpenAPI describes ${method.toUpperCase()} ${route}`);
  }

  const badJson = await env.api.request('POST', '/recordings', undefined, { raw: '{"channelName": ' });
  t.equal(badJson.status, 400, 'bad JSON → 400');
  t.equal(badJson.body.error.code, 'BAD_JSON');
  t.equal((await env.api.request('POST', '/recordings', undefined, { raw: '[1,2]' })).body.error.code, 'BAD_JSON', 'a JSON array is not a body');
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing channel', {}, /channelName/],
    ['bad channel name', { channelName: 'no spaces allowed' }, /channelName/],
    ['unknown field', { channelName: 'room', colour: 'red' }, /colour/],
    ['bad maxIdleTime', { channelName: 'room', recordingConfig: { maxIdleTime: -1 } }, /recordingConfig\.maxIdleTime/],
    ['bad layout', { channelName: 'room', recordingConfig: { transcodingConfig: { layout: 'Diagonal' } } }, /recordingConfig\.transcodingConfig\.layout/],
    ['odd width', { channelName: 'room', recordingConfig: { transcodingConfig: { width: 321 } } }, /recordingConfig\.transcodingConfig\.width/],
    ['bad vendor', { channelName: 'room', cloudStorageConfig: { vendor: 'Dropbox' } }, /cloudStorageConfig\.vendor/],
    ['hostile file name', { channelName: 'room', fileName: '../../etc/passwd' }, /fileName/],
    ['percent-encoded traversal', { channelName: 'room', fileName: '..%2fx' }, /fileName/],
    ['hidden file name', { channelName: 'room', fileName: 'dir/.x' }, /fileName/],
  ];
  for (const [name, body, field] of cases) {
    const answer = await env.api.request('POST', '/recordings', body);
    t.equal(answer.status, 400, `${name} → 400`);
    t.equal(answer.body.error?.code, 'InvalidParameter', `${name} → InvalidParameter`);
    t.match(answer.body.error?.message, field, `${name}: the message names the field (${answer.body.error?.message})`);
  }
  const large = await env.api.request('POST', '/recordings', { channelName: 'room', fileName: 'x'.repeat(5000) });
  t.equal(large.status, 413, 'body over api.maxBodyBytes → 413');
  t.equal(large.body.error?.code, 'MESSAGE_TOO_LARGE');
  const missing = await env.api.request('GET', '/recordings/rec_nope');
  t.equal(missing.status, 404, 'unknown recording → 404');
  t.equal(missing.body.error.code, 'NOT_FOUND');
  const wrongMethod = await env.api.request('DELETE', '/recordings');
  t.equal(wrongMethod.status, 405, 'wrong method → 405');
  t.equal(wrongMethod.headers.get('allow'), 'GET, POST');
  t.equal((await env.api.request('POST', '/recordings/rec_nope/stop')).status, 404, 'stop unknown → 404');
  t.equal((await fetch(`${env.httpUrl}/api/v1/nothing-here`)).status, 401, 'unknown API paths need credentials too');
  t.equal((await env.api.request('GET', '/nothing-here')).status, 404, 'unknown API path → 404');
});

t.test('HTTP API: start, query, layout change while running (BestFit → Vertical), stop, list with files and uploads', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const red = await env.join('layout-room', 'red');
  const blue = await env.join('layout-room', 'blue');
  const redMedia = await publishTestMedia({ client: red.client, color: 0xff0000 });
  const blueMedia = await publishTestMedia({ client: blue.client, color: 0x0000ff });
  t.teardown(() => Promise.all([redMedia.stop(), blueMedia.stop()]));

  const started = await env.api.request('POST', '/recordings', {
    channelName: 'layout-room',
    uid: 'backend',
    fileName: 'api/layout.mp4',
    recordingConfig: { transcodingConfig: { layout: 'BestFit', width: 320, height: 240 } },
  });
  t.equal(started.status, 201, 'started');
  const recordingId: string = started.body.recordingId;
  t.match(started.body, { phase: 'running', channelId: 'layout-room', startedBy: 'api:backend', mode: 'composite', layout: { layout: 'BestFit' } });
  t.ok(await until(() => env.recording.engine.status(recordingId)!.participants.length === 2, 10_000), 'both publishers recorded');
  const queried = await env.api.request('GET', `/recordings/${recordingId}`);
  t.same([...queried.body.participants].sort(), ['blue', 'red'], 'query lists the participants');
  t.ok(queried.body.lastSeq >= 2, 'and the last event number');
  await sleep(2500);

  const badLayout = await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Sideways' });
  t.equal(badLayout.status, 400);
  t.match(badLayout.body.error.message, /layout/, 'bad layout names the field');
  const updated = await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Vertical', maxResolutionUid: 'blue' });
  t.equal(updated.status, 200, 'layout updated while running');
  t.same(updated.body.layout, { layout: 'Vertical', maxResolutionUid: 'blue' });
  await sleep(2500);

  const stopped = await env.api.request('POST', `/recordings/${recordingId}/stop`);
  t.equal(stopped.status, 200);
  t.equal(stopped.body.phase, 'stopped');
  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).body.error?.code, 'InvalidOperation', 'stopping twice → InvalidOperation');
  t.equal((await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Float' })).status, 409, 'layout after stop → 409');

  let listed: any;
  t.ok(
    await until(() => {
      void env.api.request('GET', '/recordings').then((answer) => (listed = answer.body));
      return listed?.recordings?.[0]?.uploads?.[0]?.state === 'uploaded';
    }, 30_000, 200),
    'the list shows the upload finished',
  );
  const [entry] = listed.recordings;
  t.equal(entry.recordingId, recordingId);
  t.match(entry.files[0].objectKey, /^api\/layout_\d{8}-\d{6}_[0-9a-f]{8}\.mp4$/, 'the file named after fileName');
  t.equal(entry.uploads[0].percent, 100);
  t.notOk(JSON.stringify(listed).includes('secretKey'), 'no keys in answers');
  const events = await env.api.request('GET', `/recordings/${recordingId}/events?after=1`);
  t.equal(events.body.events[0].seq, 2, 'events after seq 1');
  t.ok(events.body.events.some((event: any) => event.event === 'uploaded'), 'the event log holds the upload');

  const file = path.join(env.server.config.recording.recordingsDir, entry.files[0].objectKey);
  const info = await probe(file);
  const regions = async (timeS: number) => {
    const frame = await frameAt(file, timeS);
    const { width, height } = frame;
    return {
      left: colorName(meanColor(frame, { x: 0, y: height / 4, width: width / 2, height: height / 2 })),
      topRight: colorName(meanColor(frame, { x: Math.ceil(width * 0.8) + 2, y: 0, width: Math.floor(width * 0.2) - 2, height: Math.floor(height / 8) })),
    };
  };
  const before = await regions(1.5);
  const after = await regions(info.durationS - 1);
  t.ok(['red', 'blue'].includes(before.left), `BestFit before the update: the left half is one publisher (${before.left})`);
  t.equal(after.left, 'blue', 'Vertical after the update: blue (maxResolutionUid) fills the left');
  t.equal(after.topRight, 'red', 'and red is the small tile on the right');
  t.not(before.topRight, 'red', `before the update there was no small red tile top right (${before.topRight})`);
});
