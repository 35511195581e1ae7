// A finished recording is forgotten from memory after recording.retainFinishedMs; the HTTP API and
// the event log keep answering for it from disk (its final status beside its event log), also
// after a restart.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { sleep, until } from '../support/recordingServer';
import { startBackendServer, waitUploaded } from './support';

t.test('a finished recording leaves memory after the retention and is still answered for from disk', async (t) => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'confrec-retention-'));
  t.teardown(() => fsp.rm(root, { recursive: true, force: true }));
  const recording = { stateDir: path.join(root, 'state'), recordingsDir: path.join(root, 'recordings'), retainFinishedMs: 2000 };
  const env = await startBackendServer({ overrides: { recording } });
  let closed = false;
  t.teardown(() => (closed ? undefined : env.close()));

  const started = await env.api.request('POST', '/recordings', { channelName: 'kept', recordingConfig: { transcodingConfig: { width: 320, height: 240 } } });
  t.equal(started.status, 201);
  const recordingId: string = started.body.recordingId;
  await sleep(1500);
  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'stopped');
  t.ok(env.recording.engine.get(recordingId), 'right after the stop, memory still holds the recording');
  const uploaded = await waitUploaded(env.api, recordingId);
  t.equal(uploaded.uploads[0].state, 'uploaded', 'its file is stored');

  t.ok(await until(() => env.recording.engine.get(recordingId) === undefined, 20_000), 'after the retention memory forgot it');
  const statusFile = path.join(recording.stateDir, 'events', `${Buffer.from(recordingId).toString('base64url')}.status.json`);
  t.ok(fs.existsSync(statusFile), 'its final status is on disk beside its event log');

  const answer = async (label: string, api: typeof env.api): Promise<void> => {
    const status = await api.request('GET', `/recordings/${recordingId}`);
    t.equal(status.status, 200, `${label}: GET /recordings/{id} answers`);
    t.match(status.body, { recordingId, channelId: 'kept', phase: 'stopped', mode: 'composite' }, `${label}: with its final phase`);
    t.equal(status.body.files.length, 1, `${label}: and its file`);
    t.equal(status.body.uploads[0]?.state, 'uploaded', `${label}: and its upload`);
    const list = await api.request('GET', '/recordings');
    t.ok(list.body.recordings.some((entry: { recordingId: string }) => entry.recordingId === recordingId), `${label}: listed`);
    const events = await api.request('GET', `/recordings/${recordingId}/events`);
    t.same(
      events.body.events.map((event: { type: string }) => event.type).filter((type: string) => type !== 'uploadingProgress'),
      ['connecting', 'started', 'recorderFailure', 'stopped', 'uploaded'],
      `${label}: its event log is complete`,
    );
    t.equal((await api.request('POST', `/recordings/${recordingId}/stop`)).body.error?.code, 'InvalidOperation', `${label}: stopping it again is refused as not running`);
    t.equal((await api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Float' })).body.error?.code, 'InvalidOperation', `${label}: so is a layout change`);
    const resumed = await api.request('POST', `/recordings/${recordingId}/resume-uploads`);
    t.match({ status: resumed.status, resumed: resumed.body.resumed }, { status: 200, resumed: 0 }, `${label}: resume-uploads knows it (nothing held)`);
  };
  await answer('forgotten', env.api);

  await env.close();
  closed = true;
  const restarted = await startBackendServer({ overrides: { recording } });
  t.teardown(() => restarted.close());
  await answer('after a restart', restarted.api);
});
