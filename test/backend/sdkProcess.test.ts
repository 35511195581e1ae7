import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { colorName, decodedDurationS, frameAt, meanColor, probe } from '../support/mediaProbe';
import { sleep, until } from '../support/recordingServer';
import { milestones, SdkProcess, startBackendServer, waitUploaded } from './support';

t.test('the SDK in another process records a channel: Connecting → Started → Stopped → Uploaded, file decodes', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const red = await env.join('sdk-room', 'red');
  const blue = await env.join('sdk-room', 'blue');
  const redMedia = await publishTestMedia({ client: red.client, color: 0xff0000 });
  const blueMedia = await publishTestMedia({ client: blue.client, color: 0x0000ff, frequency: 880 });
  t.teardown(() => Promise.all([redMedia.stop(), blueMedia.stop()]));

  const sdk = await SdkProcess.spawn(env.httpUrl);
  t.teardown(() => sdk.kill());
  const token = env.token({ channelId: 'sdk-room', uid: 'sdk-backend' });
  const recordingId: string = await sdk.call({
    cmd: 'start',
    args: ['confrec', 'sdk-room', token, 'sdk-backend', { transcodingConfig: { layout: 'BestFit', width: 320, height: 240 } }, { vendor: 'Local' }],
  });
  t.match(recordingId, /^rec_/, `recording id ${recordingId} returned over the wire`);
  t.same(sdk.names(), ['connecting', 'started'], 'Connecting and Started arrived before start() answered');
  await sleep(4000);
  await sdk.call({ cmd: 'stop' });
  t.ok(await until(() => sdk.names().includes('uploaded'), 30_000), 'Uploaded arrived');
  t.same(milestones(sdk.names()), ['connecting', 'started', 'stopped', 'uploaded'], 'the callbacks in the seed order');
  t.ok(sdk.events.every((event) => event.recordingId === recordingId), 'every callback carries the recording id');
  const progress = sdk.events.filter((event) => event.name === 'uploadingProgress').map((event) => event.args[0] as number);
  t.ok(progress.every((value, index) => index === 0 || value >= progress[index - 1]!), `progress never goes back (${progress.join(',')})`);

  const fileName = sdk.events.find((event) => event.name === 'uploaded')!.args[0] as string;
  const file = path.join(env.server.config.recording.recordingsDir, fileName);
  t.ok(fs.existsSync(file), `uploaded to the local store as ${fileName}`);
  const info = await probe(file);
  t.equal(info.video?.codec_name, 'h264', 'H.264 video');
  t.ok(info.audio, 'audio track');
  t.ok(info.durationS >= 3, `duration ${info.durationS} s`);
  const frame = await frameAt(file, Math.max(1, info.durationS - 1.5));
  const left = colorName(meanColor(frame, { x: 0, y: 0, width: frame.width / 2, height: frame.height }));
  const right = colorName(meanColor(frame, { x: frame.width / 2, y: 0, width: frame.width / 2, height: frame.height }));
  t.same([left, right].sort(), ['blue', 'red'], `BestFit: both publishers side by side (${left} | ${right})`);

  await sdk.call({ cmd: 'release', keep: false });
});

t.test('the SDK process killed after release(true): the recording goes on, is stopped over HTTP, file complete', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const green = await env.join('sdk-kill', 'green');
  const greenMedia = await publishTestMedia({ client: green.client, color: 0x00ff00 });
  t.teardown(() => greenMedia.stop());

  const sdk = await SdkProcess.spawn(env.httpUrl);
  t.teardown(() => sdk.kill());
  const token = env.token({ channelId: 'sdk-kill', uid: 'sdk-backend' });
  const recordingId: string = await sdk.call({ cmd: 'start', args: ['confrec', 'sdk-kill', token, 'sdk-backend', { transcodingConfig: { width: 320, height: 240 } }, { vendor: 'Local' }] });
  const startedAt = Date.now();
  await sdk.call({ cmd: 'release', keep: true });
  await sleep(1000);
  await sdk.kill('SIGKILL');
  t.equal(sdk.child.signalCode, 'SIGKILL', 'the SDK process is gone');
  await sleep(2500);
  const running = await env.api.request('GET', `/recordings/${recordingId}`);
  t.equal(running.status, 200);
  t.equal(running.body.phase, 'running', 'still recording without its controller');
  t.same(running.body.participants, ['green'], 'participants listed');

  // Measured when the stop is asked for: the answer comes after the file is final, which takes
  // seconds on a loaded machine, and the file rightly ends at the request.
  const spanS = (Date.now() - startedAt) / 1000;
  const stopped = await env.api.request('POST', `/recordings/${recordingId}/stop`);
  t.equal(stopped.status, 200, 'stopped through the HTTP API');
  t.equal(stopped.body.phase, 'stopped');
  const status = await waitUploaded(env.api, recordingId);
  t.equal(status?.uploads?.[0]?.state, 'uploaded', 'upload state reaches uploaded');
  t.equal(status.files.length, 1, 'one composite file');
  const file = path.join(env.server.config.recording.recordingsDir, status.files[0].objectKey);
  const decoded = await decodedDurationS(file);
  t.ok(decoded >= spanS - 1.5, `the file covers the whole span: ${decoded.toFixed(2)} s decoded for ${spanS.toFixed(2)} s recorded`);
  const frame = await frameAt(file, decoded - 1);
  t.equal(colorName(meanColor(frame, { x: 0, y: 0, width: frame.width, height: frame.height })), 'green', 'the publisher is in the last second');
});
