import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { buildLocalRecordParam } from '../../signaling/recordParam';
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
  t.match(fileName, /^wire\/meeting_\d{8}-\d{6}\.mp4$/, `file named from the record param (${fileName})`);
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
