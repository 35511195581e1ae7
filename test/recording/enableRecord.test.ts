import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { buildLocalRecordParam, buildS3RecordParam } from '../../signaling/recordParam';
import { colorName, frameAt, meanColor, probe } from '../support/mediaProbe';
import { sleep, startRecordingServer, until } from '../support/recordingServer';

t.test('over the wire: record param → Ready, enableRecord → Running → Ready, file decodes with both publishers', async (t) => {
  const env = await startRecordingServer({ overrides: { recording: { defaultStorage: 'none' } } });
  t.teardown(() => env.close());

  const watcher = await env.join('rec-wire', 'watcher', { record: false });
  t.equal(watcher.joined.channel.properties.recordState, 'None', 'no param, no default storage: None');
  const states: string[] = [];
  watcher.client.on('propertyChange', (data) => {
    if (data.changed.includes('recordState')) states.push(data.properties.recordState);
  });

  await t.rejects(watcher.client.request('enableRecord', { enable: true }), { code: 'FORBIDDEN' }, 'no record privilege → refused');

  const red = await env.join('rec-wire', 'red', { joinParam: { record: { recordString: buildLocalRecordParam(true, 'wire/meeting.mp4') } } });
  t.equal(red.joined.channel.properties.recordState, 'Ready', 'a join with a record param makes the channel Ready');
  const blue = await env.join('rec-wire', 'blue');
  const redMedia = await publishTestMedia({ client: red.client, color: 0xff0000, frequency: 440 });
  const blueMedia = await publishTestMedia({ client: blue.client, color: 0x0000ff, frequency: 880 });
  t.teardown(() => Promise.all([redMedia.stop(), blueMedia.stop()]));

  await t.rejects(red.client.request('enableRecord', { enable: false }), { code: 'InvalidOperation' }, 'stop while Ready → InvalidOperation');
  await t.rejects(red.client.request('enableRecord', { enable: true, recordParam: { recordString: 'rp1.garbage' } }), { code: 'InvalidParameter' }, 'bad param → InvalidParameter');

  const running = watcher.client.waitFor('propertyChange', (data) => data.properties.recordState === 'Running', 20_000);
  const answer = await red.client.request('enableRecord', { enable: true, recordParam: null });
  t.equal(answer.accepted, true, 'enableRecord(true) accepted');
  await running;
  await t.rejects(blue.client.request('enableRecord', { enable: true }), { code: 'InvalidOperation' }, 'second start → InvalidOperation');

  await sleep(4000);
  const uploaded = red.client.waitFor('recordingEvent', (data) => data.event === 'uploaded', 30_000);
  await blue.client.request('enableRecord', { enable: false });
  t.equal((await watcher.client.request('getChannelProperties')).properties.recordState, 'Ready', 'back to Ready after stop');
  const { fileName } = await uploaded;
  t.match(fileName, /^wire\/meeting_\d{8}-\d{6}_[0-9a-f]{8}\.mp4$/, `file named from the record param (${fileName})`);
  t.same(states, ['Ready', 'Running', 'Ready'], 'watcher saw Ready (param at join), Running, then Ready');

  const file = path.join(env.server.config.recording.recordingsDir, fileName!);
  t.ok(fs.existsSync(file), 'the file is in the local recordings directory');
  const info = await probe(file);
  t.ok(info.streams.some((stream) => stream.codec_type === 'video' && stream.codec_name === 'h264'), 'H.264 video');
  t.ok(info.streams.some((stream) => stream.codec_type === 'audio'), 'audio track');
  t.ok(info.durationS >= 3 && info.durationS <= 8, `duration ${info.durationS} s is about the recording length`);
  // Default layout (Float): the first user fills the canvas; the second floats in a small window.
  const frame = await frameAt(file, Math.max(1, info.durationS - 1.5));
  const colors = new Set<string>();
  for (let y = 0; y < frame.height; y += 20) for (let x = 0; x < frame.width; x += 20) colors.add(colorName(meanColor(frame, { x, y, width: 20, height: 20 }, 0.25)));
  t.ok(colors.has('red') && colors.has('blue'), `both publishers visible (${[...colors].join(', ')})`);
});

t.test('maxIdleTime: the recording stops itself when the channel stays empty (NoUsers, then RecorderExpireExit)', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const events: string[] = [];
  const recorder = env.recording.createCloudRecorder({
    onRecordingConnecting: () => events.push('connecting'),
    onRecordingStarted: () => events.push('started'),
    onRecordingStopped: () => events.push('stopped'),
    onRecorderFailure: (_id, code) => events.push(`recorderFailure:${code}`),
    onRecordingUploaded: () => events.push('uploaded'),
  });
  const token = env.token({ channelId: 'idle-room', uid: 'backend' });
  const recordingId = await recorder.startCloudRecording('confrec', 'idle-room', token, 'backend', { maxIdleTime: 2 }, { vendor: 'Local' } as never);
  t.match(recordingId, /^rec_/, 'recording id returned');
  t.ok(await until(() => events.includes('stopped'), 20_000), 'stopped by itself with nobody in the channel');
  t.ok(await until(() => events.includes('uploaded'), 20_000), 'and its file was stored');
  t.same(events.slice(0, 5), ['connecting', 'started', 'recorderFailure:NoUsers', 'recorderFailure:RecorderExpireExit', 'stopped'], 'callbacks in order, with the codes of why');
  await recorder.release();
});

/** Every file under dir, relative, '/'-separated. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => fs.statSync(path.join(dir, name)).isFile())
    .map((name) => name.split(path.sep).join('/'));
}

/** Starts a recording from `client`, lets it write, stops it and answers the stored file's key. */
async function recordOnce(t: { equal(found: unknown, wanted: unknown, message: string): void }, client: any, stopper: any = client): Promise<string> {
  const uploaded = client.waitFor('recordingEvent', (data: any) => data.event === 'uploaded', 40_000);
  const answer = await client.request('enableRecord', { enable: true, recordParam: null });
  t.equal(answer.accepted, true, 'enableRecord(true, null) accepted');
  await sleep(1500);
  await stopper.request('enableRecord', { enable: false });
  return (await uploaded).fileName as string;
}

t.test('issue 10 attack: an audience member without the record privilege cannot choose where the host records', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const dir = env.server.config.recording.recordingsDir;
  const host = await env.join('victim', 'host');
  const defaultParam = { vendor: 'local', fileName: 'victim/recording', video: true, setBy: 'server' };
  t.same(host.joined.channel.properties.recordParam, defaultParam, 'the host sees the param in force: the server default');

  // npm run token -- --channel victim --uid mallory --role audience --no-record --no-publish
  const attacker = await env.connect();
  const refused = attacker.waitFor('recordingEvent', (data) => data.event === 'recordParamRefused', 10_000);
  const hostSawChange = host.client.waitFor('propertyChange', (data) => data.changed.includes('recordParam'), 1500).then(() => true, () => false);
  await attacker.request('join', {
    channelId: 'victim',
    displayName: 'mallory',
    token: env.token({ channelId: 'victim', uid: 'mallory', role: 'audience', privileges: { publish: false, record: false } }),
    joinParam: { record: { recordString: buildLocalRecordParam(true, 'loot/stolen') } },
  });
  const told = await refused;
  t.equal(told.code, 'FORBIDDEN', 'the attacker is told: recordParamRefused FORBIDDEN');
  t.match(told.message, /record privilege/, 'naming the missing privilege');
  t.same((await host.client.request('getChannelProperties')).properties.recordParam, defaultParam, 'the param in force is unchanged');
  t.notOk(await hostSawChange, 'no recordParam change was pushed to the host');
  await attacker.request('leave');

  const fileName = await recordOnce(t, host.client);
  t.match(fileName, /^victim\/recording[^/]*\.mp4$/, `recorded to the default param (${fileName}), not loot/stolen`);
  t.ok(fs.existsSync(path.join(dir, fileName)), 'the file is on disk under that key');
  t.same(filesUnder(dir).filter((file) => file.startsWith('loot')), [], 'nothing under loot/ on disk');
  t.notOk(fs.existsSync(path.join(dir, 'loot')), 'not even the directory');
});

t.test('record params are kept per setter: the most recent of a peer still present is in force, and the host sees it without secrets', async (t) => {
  const env = await startRecordingServer({ overrides: { recording: { defaultStorage: 'none' } } });
  t.teardown(() => env.close());
  const dir = env.server.config.recording.recordingsDir;
  const watcher = await env.join('params', 'watcher', { record: false });
  t.equal(watcher.joined.channel.properties.recordParam, null, 'no param, no default: recordParam null');
  const inForce = async () => (await watcher.client.request('getChannelProperties')).properties;

  const first = await env.join('params', 'first', { joinParam: { record: { recordString: buildLocalRecordParam(true, 'first/a') } } });
  t.same((await inForce()).recordParam, { vendor: 'local', fileName: 'first/a', video: true, setBy: 'first' }, "first's param in force");

  const secretKey = 'S3CRET-never-shown-0123456789';
  const accessKey = 'AKIA-never-shown-0123';
  const pushed: string[] = [];
  watcher.client.on('propertyChange', (data) => pushed.push(JSON.stringify(data)));
  const second = await env.join('params', 'second', {
    joinParam: { record: { recordString: buildS3RecordParam({ video: false, region: 'eu-west-1', bucket: 'second-bucket', accessKey, secretKey, fileName: 'second/b' }) } },
  });
  const shown = (await inForce()).recordParam;
  t.same(shown, { vendor: 's3', bucket: 'second-bucket', region: 'eu-west-1', fileName: 'second/b', video: false, setBy: 'second' }, 'the most recent setter wins; vendor, bucket, region, file name and who');
  t.ok(await until(() => pushed.some((line) => line.includes('second-bucket')), 5000), 'pushed to the channel with propertyChange');
  t.notOk(pushed.some((line) => line.includes(secretKey) || line.includes(accessKey)), 'no storage key in what peers were sent');

  await second.client.request('leave');
  t.ok(await until(() => pushed.some((line) => JSON.parse(line).properties.recordParam?.setBy === 'first' && line.includes('first/a')), 5000), 'when the setter leaves, the param of the one still present is back');
  const fileName = await recordOnce(t, first.client);
  t.match(fileName, /^first\/a[^/]*\.mp4$/, `recorded to first/a (${fileName}), not the departed peer's bucket`);
  t.ok(fs.existsSync(path.join(dir, fileName)), 'on disk');

  // A param given in enableRecord is its setter's, and stays the target of the recording it started.
  const running = watcher.client.waitFor('propertyChange', (data) => data.properties.recordState === 'Running', 20_000);
  await first.client.request('enableRecord', { enable: true, recordParam: { recordString: buildLocalRecordParam(true, 'first/live') } });
  await running;
  t.equal((await inForce()).recordParam.fileName, 'first/live', 'the enableRecord param is in force');
  await sleep(1500);
  await first.client.request('leave');
  t.ok(await until(() => pushed.some((line) => JSON.parse(line).properties.recordParam === null), 5000), 'the last setter left: no param in force');
  t.equal((await inForce()).recordState, 'Running', 'the running recording carries on');
  const closer = await env.join('params', 'closer');
  const uploaded = watcher.client.waitFor('recordingEvent', (data) => data.event === 'uploaded', 40_000);
  await closer.client.request('enableRecord', { enable: false });
  const live = (await uploaded).fileName!;
  t.match(live, /^first\/live[^/]*\.mp4$/, `the recording kept the target it started with (${live})`);
  t.equal((await inForce()).recordState, 'None', 'stopped with no param in force: None');
  await t.rejects(closer.client.request('enableRecord', { enable: true, recordParam: null }), { code: 'InvalidOperation' }, 'and no recording can start without a param');
});
