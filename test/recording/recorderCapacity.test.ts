/**
 * A node's recorder capacity (recording.capacityUnits, in the units of recordingCost.ts): with room
 * for two composites the third start is refused at once with InvalidOperation, before anything of
 * it exists — no recorder process (counted in /proc: children of this test process running the
 * recorder's entry), no working directory, no recording listed, no channel left open for it —
 * and the running two are untouched; a recording's cost follows its channel's publishers; once one
 * stops, a start fits again.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { recordingCost } from '../../plugin/recording/cluster/recordingCost';
import { publishTestMedia } from '../../scripts/publishRtp';
import { createCloudRecorderInstance, RecordingErrorCode } from '../../signaling/recorder';
import { sleep, until } from '../support/recordingServer';
import { startBackendServer } from '../backend/support';
import { recorderChildren } from '../support/recorderChildren';

const SMALL = { transcodingConfig: { width: 320, height: 240 } };
/** One publisher (audio + video) on the SMALL canvas. */
const ONE = recordingCost({ recordingMode: 'composite', recordingStreamTypes: 'AudioVideo', canvas: { width: 320, height: 240, fps: 15 }, inputs: { audio: 1, video: 1 } });
const TWO = recordingCost({ recordingMode: 'composite', recordingStreamTypes: 'AudioVideo', canvas: { width: 320, height: 240, fps: 15 }, inputs: { audio: 2, video: 2 } });
/** Room for two one-publisher composites, not three. */
const CAPACITY = 2 * ONE + Math.floor(ONE / 2);


t.test('capacity for two composites: the third start is refused at once and leaves nothing behind; a stop makes room', async (t) => {
  const env = await startBackendServer({ overrides: { recording: { capacityUnits: CAPACITY } } });
  t.teardown(() => env.close());
  const engine = env.recording.engine;
  t.same(engine.recorderLoad(), { capacity: CAPACITY, used: 0 }, `capacity ${CAPACITY} units (a one-publisher composite costs ${ONE})`);
  t.same(recorderChildren(), [], 'no recorder before the test');

  const publishers = [];
  for (const channelId of ['cap-1', 'cap-2', 'cap-sdk']) {
    const peer = await env.join(channelId, `pub-${channelId}`);
    const media = await publishTestMedia({ client: peer.client, color: 0x00ff00 });
    t.teardown(() => media.stop());
    publishers.push(peer);
  }
  const ids: string[] = [];
  for (const channelName of ['cap-1', 'cap-2']) {
    const started = await env.api.request('POST', '/recordings', { channelName, recordingConfig: SMALL });
    t.equal(started.status, 201, `${channelName}: started`);
    ids.push(started.body.recordingId);
  }
  t.same(engine.recorderLoad(), { capacity: CAPACITY, used: 2 * ONE }, 'two running: their costs are used');
  const running = recorderChildren();
  t.equal(running.length, 2, `two recorder processes (${running.join(', ')})`);
  const workDir = path.join(env.server.config.recording.stateDir, 'work');
  const workDirs = fs.readdirSync(workDir).sort();

  const before = Date.now();
  const refused = await env.api.request('POST', '/recordings', { channelName: 'cap-3', recordingConfig: SMALL });
  const refusedMs = Date.now() - before;
  t.equal(refused.status, 409, 'the third start: 409');
  t.equal(refused.body.error?.code, RecordingErrorCode.InvalidOperation, 'InvalidOperation');
  t.match(refused.body.error?.message, new RegExp(`recorders are full: its running recordings cost ${2 * ONE} of its ${CAPACITY} units and this one needs ${ONE}`), `a message that says it is full (${refused.body.error?.message})`);
  t.ok(refusedMs < 1000, `answered at once (${refusedMs} ms), not after a recorder tried to start`);
  t.same(recorderChildren(), running, 'no recorder process was spawned for it');
  t.same(fs.readdirSync(workDir).sort(), workDirs, 'no working directory was made for it');
  t.equal(env.server.registry.find('cap-3'), undefined, 'the channel the start created for itself was not left open');
  const listed = (await env.api.request('GET', '/recordings')).body.recordings as Array<{ channelId: string }>;
  t.same(listed.map((recording) => recording.channelId).sort(), ['cap-1', 'cap-2'], 'and no recording of it is listed');

  const sdk = createCloudRecorderInstance(env.httpUrl, {});
  t.teardown(() => sdk.release());
  await t.rejects(
    sdk.startCloudRecording('confrec', 'cap-sdk', env.token({ channelId: 'cap-sdk', uid: 'sdk' }), 'sdk', SMALL),
    { name: 'CloudRecordingError', code: RecordingErrorCode.InvalidOperation, message: /full/ },
    'the recorder SDK is refused the same way',
  );
  t.ok(env.server.registry.find('cap-sdk'), 'a refused start leaves a channel people are in open');

  // Someone else publishes in cap-1: its recording costs a second participant's worth from now on.
  const second = await env.join('cap-1', 'second');
  const secondMedia = await publishTestMedia({ client: second.client, color: 0xff0000 });
  t.teardown(() => secondMedia.stop());
  t.ok(await until(() => engine.recorderLoad()?.used === ONE + TWO, 5000), `used follows the channels: ${engine.recorderLoad()?.used} = ${ONE} + ${TWO}`);

  await sleep(1000);
  t.same(recorderChildren(), running, 'still the same two recorders a second later');
  for (const recordingId of ids) t.equal((await env.api.request('GET', `/recordings/${recordingId}`)).body.phase, 'running', `${recordingId} runs on`);

  t.equal((await env.api.request('POST', `/recordings/${ids[1]}/stop`)).status, 200, 'one stops');
  t.same(engine.recorderLoad(), { capacity: CAPACITY, used: TWO }, 'its cost is freed');
  const third = await env.api.request('POST', '/recordings', { channelName: 'cap-sdk', recordingConfig: SMALL });
  t.equal(third.status, 201, 'and a start fits again');
  for (const recordingId of [ids[0], third.body.recordingId]) t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200);
  t.ok(await until(() => recorderChildren().length === 0, 10_000), 'every recorder exits after its stop');
  t.same(engine.recorderLoad(), { capacity: CAPACITY, used: 0 });
});
