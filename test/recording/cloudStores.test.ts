import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { resetLogSink, setLogSink } from '../../server/logger';
import { buildQiniuRecordParam, buildS3RecordParam } from '../../signaling/recordParam';
import { probe } from '../support/mediaProbe';
import { QiniuTestServer } from '../support/qiniuServer';
import { sleep, startRecordingServer } from '../support/recordingServer';
import { startS3Server } from '../support/s3Server';

const QINIU_AK = 'qiniu-access-key-e2e';
const QINIU_SK = 'qiniu-secret-key-e2e-do-not-leak';
const S3_AK = 'S3ACCESSKEYE2E';
const S3_SK = 's3-secret-key-e2e-do-not-leak';

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

t.test('a channel recorded into Qiniu and into S3: stored bytes equal the recorder file, no secret leaks', async (t) => {
  const logLines: string[] = [];
  setLogSink((line) => logLines.push(line));
  t.teardown(() => resetLogSink());

  const qiniu = await QiniuTestServer.start({ accounts: { [QINIU_AK]: QINIU_SK }, buckets: ['meetings'] });
  t.teardown(() => qiniu.close());
  const s3 = await startS3Server({ buckets: ['archive'], accessKey: S3_AK, secretKey: S3_SK });
  t.teardown(() => s3.close());
  const env = await startRecordingServer({
    overrides: { recording: { allowedStorageEndpoints: '127.0.0.1' } },
    plugin: { uploads: { qiniuUpHost: qiniu.endpoint, deleteLocalAfterUpload: false } },
  });
  t.teardown(() => env.close());

  const host = await env.join('stores', 'host');
  const seen: string[] = [];
  host.client.on('*', (message) => seen.push(JSON.stringify(message)));
  const media = await publishTestMedia({ client: host.client, color: 0xff00ff });
  t.teardown(() => media.stop());

  const targets = [
    { name: 'Qiniu', recordString: buildQiniuRecordParam(true, 'meetings', QINIU_SK, QINIU_AK, 'e2e/qiniu.mp4'), read: (key: string) => Promise.resolve(qiniu.getObject('meetings', key)) },
    {
      name: 'S3',
      recordString: buildS3RecordParam({ video: true, region: s3.region, bucket: 'archive', accessKey: S3_AK, secretKey: S3_SK, fileName: 'e2e/s3.mp4', endpoint: s3.endpoint }),
      read: (key: string) => s3.getObject('archive', key),
    },
  ];
  for (const target of targets) {
    const uploaded = host.client.waitFor('recordingEvent', (data) => data.event === 'uploaded', 60_000);
    const progress: number[] = [];
    const off = host.client.on('recordingProgress', (data) => progress.push(data.percent));
    const { recordingId } = await host.client.request('enableRecord', { enable: true, recordParam: { recordString: target.recordString } });
    await sleep(3000);
    await host.client.request('enableRecord', { enable: false });
    const { fileName } = await uploaded;
    off();
    const local = path.join(env.server.config.recording.stateDir, 'work', recordingId, 'recording.mp4');
    const stored = await target.read(fileName!);
    t.ok(stored, `${target.name}: object ${fileName} stored`);
    t.equal(sha256(stored!), sha256(fs.readFileSync(local)), `${target.name}: stored bytes hash to the recorder's file`);
    t.ok(progress.length > 0 && progress.at(-1) === 100, `${target.name}: progress reached 100 over the wire`);
    t.same(progress, [...progress].sort((a, b) => a - b), `${target.name}: progress is monotonic`);
    fs.writeFileSync(`${local}.downloaded.mp4`, stored!);
    t.ok((await probe(`${local}.downloaded.mp4`)).durationS > 2, `${target.name}: the stored object is a playable recording`);
  }

  const status = JSON.stringify(env.recording.engine.list());
  for (const secret of [QINIU_SK, S3_SK]) {
    t.notOk(logLines.some((line) => line.includes(secret)), 'secret absent from every log line');
    t.notOk(seen.some((line) => line.includes(secret)), 'secret absent from every notification');
    t.notOk(status.includes(secret), 'secret absent from status answers');
  }
});
