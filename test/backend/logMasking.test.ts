import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { heldSecretCount, Logger } from '../../server/logger';
import { createCloudRecorderInstance } from '../../signaling/recorder';
import { sleep, until } from '../support/recordingServer';
import { startS3Server } from '../support/s3Server';
import { captureLogs } from '../support/storageFixtures';
import { startBackendServer } from './support';

const probe = new Logger('probe');

t.test('a start refused before authorisation leaves the log masker alone: a secretKey of "ERROR" hides nothing', async (t) => {
  const logs = captureLogs();
  t.teardown(() => logs.restore());
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const held = heldSecretCount();

  const recorder = createCloudRecorderInstance(env.httpUrl, {});
  t.teardown(() => recorder.release());
  const poison = { vendor: 'AWS' as const, region: 'us-east-1', bucket: 'poison-bucket', accessKey: 'AKIAPOISON', secretKey: 'ERROR' };
  await t.rejects(recorder.startCloudRecording('confrec', 'poison-room', 'not-a-token', 'intruder', {}, poison), { code: 'ConnectError' }, 'no token: refused');
  const otherChannel = env.token({ channelId: 'elsewhere', uid: 'intruder' });
  await t.rejects(recorder.startCloudRecording('confrec', 'poison-room', otherChannel, 'intruder', {}, poison), { code: 'ConnectError' }, "another channel's token: refused");
  const noRecord = env.token({ channelId: 'poison-room', uid: 'intruder', privileges: { publish: true, record: false } });
  await t.rejects(recorder.startCloudRecording('confrec', 'poison-room', noRecord, 'intruder', {}, poison), { code: 'InvalidOperation' }, 'no record privilege: refused');

  probe.error('after the refused starts, ERROR');
  const line = logs.lines.at(-1) ?? '';
  t.match(JSON.parse(line), { level: 'error', ns: 'probe', msg: 'after the refused starts, ERROR' }, `later log lines still show ERROR: ${line}`);
  t.equal(heldSecretCount(), held, 'nothing was added to the masker');

  // The socket and the server carry on: an authorised call on the same recorder is served.
  const answer = await env.api.request('GET', '/recordings');
  t.equal(answer.status, 200, 'the server still answers');
});

t.test('a storage secret is masked while a recording or upload uses it, until its last user is done', async (t) => {
  const AK = 'MASKTESTAK';
  const SK = 'mask-test-secret-shared-by-two';
  const logs = captureLogs();
  t.teardown(() => logs.restore());
  const s3 = await startS3Server({ buckets: ['masked'], accessKey: AK, secretKey: SK });
  t.teardown(() => s3.close());
  const env = await startBackendServer({ overrides: { recording: { allowedStorageEndpoints: '127.0.0.1' } } });
  t.teardown(() => env.close());
  const storage = { vendor: 'S3' as const, region: s3.region, bucket: 'masked', accessKey: AK, secretKey: SK, endpoint: s3.endpoint };

  const shown = (): boolean => {
    probe.info(`probe key=${SK}`);
    return (logs.lines.at(-1) ?? '').includes(SK);
  };
  t.ok(shown(), 'before anyone uses it, the string is an ordinary string');

  const uploaded: Record<string, boolean> = {};
  const recorders = ['mask-a', 'mask-b'].map((channel) =>
    createCloudRecorderInstance(env.httpUrl, { onRecordingUploaded: () => (uploaded[channel] = true) }),
  );
  t.teardown(() => Promise.all(recorders.map((recorder) => recorder.release(true))));
  for (const [index, channel] of ['mask-a', 'mask-b'].entries()) {
    const host = await env.join(channel, `host-${channel}`);
    const media = await publishTestMedia({ client: host.client, color: index ? 0x00ff00 : 0xff0000 });
    t.teardown(() => media.stop());
    await recorders[index]!.startCloudRecording('confrec', channel, env.token({ channelId: channel, uid: 'backend' }), 'backend', { transcodingConfig: { width: 320, height: 240 } }, storage);
  }
  t.notOk(shown(), 'two recordings use it: masked');
  await sleep(1500);
  await recorders[0]!.stopCloudRecording();
  t.ok(await until(() => uploaded['mask-a'] === true, 30_000), 'the first recording is stored');
  t.notOk(shown(), 'the first is done, the second still uses it: still masked');
  await recorders[1]!.stopCloudRecording();
  t.ok(await until(() => uploaded['mask-b'] === true, 30_000), 'the second recording is stored');
  t.ok(await until(() => shown(), 5000), 'both recordings and their uploads are done: released');

  const before = logs.lines.slice(0, -1);
  t.notOk(before.some((line) => line.includes(SK) && (JSON.parse(line) as { ns: string }).ns !== 'probe'), 'the secret reached no log line of the server');
});
