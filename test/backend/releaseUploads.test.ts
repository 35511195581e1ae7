/**
 * Release(false) of the seed stops recording AND uploading (停止录制与上传): a file not yet stored
 * stays in the server's backup, listed by the HTTP API as held, never deleted, and nothing is
 * uploaded until POST /api/v1/recordings/{id}/resume-uploads. The store is a real s3rver behind
 * a proxy that holds the first upload request, so the release lands mid-upload.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createCloudRecorderInstance } from '../../signaling/recorder';
import { StallingProxy } from '../support/stallingProxy';
import { startS3Server } from '../support/s3Server';
import { sleep } from '../support/recordingServer';
import { startBackendServer } from './support';

const S3_AK = 'S3ACCESSKEYRELEASE';
const S3_SK = 's3-secret-key-release-test';

t.test('network SDK: stop, then release(false) mid-upload — the upload stops, the file waits in backup until resumed', async (t) => {
  const s3 = await startS3Server({ buckets: ['archive'], accessKey: S3_AK, secretKey: S3_SK });
  t.teardown(() => s3.close());
  const proxy = await StallingProxy.start(s3.endpoint);
  t.teardown(() => proxy.close());
  const env = await startBackendServer({
    overrides: { recording: { allowedStorageEndpoints: '127.0.0.1' } },
    // Fast retries and background loop: if the hold were ignored, the file would be stored within the wait below.
    plugin: { uploads: { retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 }, backgroundRetry: { baseDelayMs: 100, maxDelayMs: 200 } } },
  });
  t.teardown(() => env.close());
  await env.join('release-room', 'host');

  const seen: string[] = [];
  const recorder = createCloudRecorderInstance(env.httpUrl, {
    onRecordingStopped: () => seen.push('stopped'),
    onRecordingUploaded: () => seen.push('uploaded'),
  });
  const token = env.token({ channelId: 'release-room', uid: 'backend' });
  // The seed's CloudStorageConfig: vender spelling and a numeric region (AWS table: 0 = us-east-1).
  const storage = { vender: 'S3', region: 0, bucket: 'archive', accessKey: S3_AK, secretKey: S3_SK, endpoint: proxy.endpoint } as const;
  const recordingId = await recorder.startCloudRecording('confrec', 'release-room', token, 'backend', { transcodingConfig: { width: 320, height: 240 } }, storage);
  await sleep(2000);
  const stalled = new Promise((resolve) => proxy.once('stalled', resolve));
  proxy.stallNext((request) => request.method === 'PUT');
  await recorder.stopCloudRecording();
  await stalled;
  await recorder.release(false);
  const requestsAtRelease = proxy.requests.length;

  const view = async (): Promise<any> => (await env.api.request('GET', `/recordings/${recordingId}`)).body;
  t.ok(await untilAsync(async () => (await view()).uploads?.[0]?.state === 'held', 10_000), 'the upload is listed as held');
  const status = await view();
  const upload = status.uploads[0];
  const backupDir = path.join(env.server.config.recording.stateDir, 'backup');
  t.ok(upload.backup?.localPath?.startsWith(backupDir + path.sep), `the file is in the server's backup (${upload.backup?.localPath})`);
  t.equal(fs.statSync(upload.backup.localPath).size, upload.size, 'whole');

  await sleep(3000);
  t.equal((await view()).uploads[0].state, 'held', 'still held seconds later');
  t.ok(fs.existsSync(upload.backup.localPath), 'not deleted');
  t.equal(await s3.getObject('archive', upload.objectKey), undefined, 'nothing was stored');
  t.same(proxy.requests.slice(requestsAtRelease).map((request) => request.method), [], 'no request reached the store after the release');
  t.notOk(seen.includes('uploaded'), 'the released instance heard nothing of an upload');

  const resumed = await env.api.request('POST', `/recordings/${recordingId}/resume-uploads`);
  t.equal(resumed.status, 200, 'resume-uploads answers 200');
  t.equal(resumed.body.resumed, 1, 'one upload resumed');
  t.ok(await untilAsync(async () => (await view()).uploads?.[0]?.state === 'uploaded', 30_000), 'then it is stored');
  const stored = await s3.getObject('archive', upload.objectKey);
  t.equal(stored?.length, upload.size, 'the stored object has the recording\'s bytes');
  t.notOk(fs.existsSync(upload.backup.localPath), 'the backup copy goes once the store has it');
  const events = (await env.api.request('GET', `/recordings/${recordingId}/events`)).body.events.map((entry: any) => entry.event);
  t.ok(events.includes('backuped') && events.at(-1) === 'uploaded', `events: ${events.filter((e: string) => e !== 'uploadingProgress').join(' → ')}`);
});

t.test('in process: release(false) while recording stops it, and its file is held in backup, not stored', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  await env.join('release-live', 'host');
  const recorder = env.recording.createCloudRecorder({});
  const token = env.token({ channelId: 'release-live', uid: 'backend' });
  const recordingId = await recorder.startCloudRecording('confrec', 'release-live', token, 'backend', { transcodingConfig: { width: 320, height: 240 } }, { vendor: 'Local' } as never);
  await sleep(1500);
  await recorder.release(false);
  t.not(env.recording.engine.get(recordingId)?.active, true, 'the recording stopped');
  const view = async (): Promise<any> => (await env.api.request('GET', `/recordings/${recordingId}`)).body;
  t.ok(await untilAsync(async () => (await view()).uploads?.[0]?.state === 'held', 10_000), 'its file is queued held');
  const upload = (await view()).uploads[0];
  t.ok(fs.existsSync(upload.backup.localPath), 'and waits in backup');
  await sleep(1000);
  t.notOk(fs.existsSync(path.join(env.server.config.recording.recordingsDir, upload.objectKey)), 'nothing in the local store');
  await env.api.request('POST', `/recordings/${recordingId}/resume-uploads`);
  t.ok(await untilAsync(async () => (await view()).uploads?.[0]?.state === 'uploaded', 20_000), 'stored once resumed');
  t.ok(fs.existsSync(path.join(env.server.config.recording.recordingsDir, upload.objectKey)), 'in the local store');
});

async function untilAsync(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}
