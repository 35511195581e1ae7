import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { RecorderCpuMeter } from '../../plugin/recording/RecorderCpuMeter';
import { publishTestMedia } from '../../scripts/publishRtp';
import { loadConfig } from '../../server/config';
import { attachMetrics } from '../../server/plugins';
import { startBackendServer } from '../backend/support';
import { Exposition, scrapeMetrics } from '../support/metricsText';
import { sleep } from '../support/recordingServer';
import { startTestServer, TEST_SECRET } from '../support/server';

const CREDENTIALS = { appId: 'confrec', secret: TEST_SECRET };

/** Every family GET /metrics promises (README "Metrics"), with its type. */
const FAMILIES: Record<string, string> = {
  confrec_channels: 'gauge',
  confrec_peers: 'gauge',
  confrec_producers: 'gauge',
  confrec_consumers: 'gauge',
  confrec_mediasoup_workers: 'gauge',
  confrec_mediasoup_worker_restarts_total: 'counter',
  confrec_recordings: 'gauge',
  confrec_recordings_started_total: 'counter',
  confrec_recording_failures_total: 'counter',
  confrec_recorder_processes: 'gauge',
  confrec_recorder_cpu_seconds_total: 'counter',
  confrec_upload_queue_depth: 'gauge',
  confrec_upload_bytes_pending: 'gauge',
  confrec_uploads_total: 'counter',
  confrec_upload_bytes_total: 'counter',
  confrec_upload_failures_total: 'counter',
  confrec_upload_backups_total: 'counter',
  confrec_webhook_deliveries_total: 'counter',
  confrec_webhook_attempt_failures_total: 'counter',
  confrec_webhook_queue_depth: 'gauge',
  confrec_media_link_key_frame_requests_total: 'counter',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
};

/** utime + stime of a live process in seconds, straight from /proc. */
function procCpuSeconds(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A webhook receiver answering 503 to its first `failures` requests, then 204. */
async function startReceiver(failures: number): Promise<{ url: string; close(): Promise<void> }> {
  let count = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(count++ < failures ? 503 : 204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

t.test('GET /metrics: HTTP Basic with the API credentials, unless metrics.public; metrics.enabled false: no route', async (t) => {
  const defaults = loadConfig({ env: {}, file: undefined, projectRoot: os.tmpdir() });
  t.same(defaults.metrics, { enabled: true, public: false }, 'on and protected by default');
  t.equal(loadConfig({ env: { CONFREC_METRICS_PUBLIC: 'true' }, file: undefined, projectRoot: os.tmpdir() }).metrics.public, true, 'CONFREC_METRICS_PUBLIC maps to metrics.public');
  const env = await startTestServer({ overrides: { api: { secret: 'api-secret-0123456789abcdef' } } });
  t.teardown(() => env.close());
  const metrics = attachMetrics(env.server)!;
  t.teardown(() => metrics.close());

  const anonymous = await fetch(`${env.httpUrl}/metrics`);
  t.equal(anonymous.status, 401, 'no credentials → 401');
  t.match(await anonymous.json(), { error: { code: 'UNAUTHORIZED' } });
  t.match(anonymous.headers.get('www-authenticate'), /^Basic/, 'asks for Basic auth');
  t.equal((await scrapeMetrics(env.httpUrl, CREDENTIALS)).status, 401, 'the join-token secret is not the API secret → 401');
  t.equal((await scrapeMetrics(env.httpUrl, { appId: 'other-app', secret: 'api-secret-0123456789abcdef' })).status, 401, 'wrong app id → 401');
  const scraped = await scrapeMetrics(env.httpUrl, { appId: 'confrec', secret: 'api-secret-0123456789abcdef' });
  t.equal(scraped.status, 200, 'appId:api.secret → 200');
  t.match(scraped.contentType, /^text\/plain; version=0\.0\.4/, 'Prometheus text format');
  t.equal(scraped.metrics!.value('confrec_channels'), 0, 'no channel yet');
  t.equal(scraped.metrics!.value('confrec_mediasoup_workers'), 1, 'one worker');
  t.equal(scraped.metrics!.value('confrec_webhook_deliveries_total'), 0, 'webhook families at 0 without webhooks');
  t.equal(scraped.metrics!.value('confrec_recordings'), undefined, 'no recording families without the recording plugin');
  t.notOk(scraped.text.includes('api-secret-0123456789abcdef') || scraped.text.includes(TEST_SECRET), 'no secret in the exposition');
  const posted = await fetch(`${env.httpUrl}/metrics`, { method: 'POST' });
  t.equal(posted.status, 405, 'POST → 405');
  t.equal(posted.headers.get('allow'), 'GET, HEAD');

  const open = await startTestServer({ overrides: { metrics: { public: true } } });
  t.teardown(() => open.close());
  const openMetrics = attachMetrics(open.server)!;
  t.teardown(() => openMetrics.close());
  const publicScrape = await scrapeMetrics(open.httpUrl);
  t.equal(publicScrape.status, 200, 'metrics.public: no credentials needed');
  t.equal(publicScrape.metrics!.value('confrec_peers'), 0, 'and the families are there');

  const off = await startTestServer({ overrides: { metrics: { enabled: false } } });
  t.teardown(() => off.close());
  t.equal(attachMetrics(off.server), undefined, 'metrics.enabled false attaches nothing');
  t.equal((await scrapeMetrics(off.httpUrl, CREDENTIALS)).status, 404, 'and /metrics is not found');
});

t.test('GET /metrics: values move as peers join and publish, a recording runs and uploads, webhooks retry, uploads fail, a worker restarts', async (t) => {
  const receiver = await startReceiver(1);
  t.teardown(() => receiver.close());
  const env = await startBackendServer({
    backend: { webhooks: { urls: [receiver.url], secret: 'webhook-secret-0123456789abcdef', retryBaseDelayMs: 50, retryMaxDelayMs: 200, maxAttempts: 5 } },
  });
  const metrics = attachMetrics(env.server, { cpuIntervalMs: 200 })!;
  t.teardown(async () => {
    await env.close();
    metrics.close();
  });
  const scrape = async (): Promise<Exposition> => {
    const answer = await scrapeMetrics(env.httpUrl, CREDENTIALS);
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    return answer.metrics!;
  };
  /** Scrapes until `check` holds (or the time is up); returns the last scrape. */
  const scrapeUntil = async (check: (m: Exposition) => boolean, timeoutMs: number): Promise<Exposition> => {
    let last = await scrape();
    const deadline = Date.now() + timeoutMs;
    while (!check(last) && Date.now() < deadline) {
      await sleep(200);
      last = await scrape();
    }
    return last;
  };

  let m = await scrape();
  for (const [name, type] of Object.entries(FAMILIES)) t.equal(m.types.get(name), type, `${name} is a ${type}`);
  t.equal(m.value('confrec_channels'), 0, 'no channel');
  t.equal(m.value('confrec_peers'), 0, 'no peer');
  t.equal(m.value('confrec_recordings'), 0, 'no recording');
  t.equal(m.value('confrec_uploads_total', { vendor: 'local' }), 0, 'nothing stored');

  // Two peers publish VP8 + Opus; bob consumes alice's video through a PlainTransport.
  const alice = await env.join('metrics-room', 'alice');
  const bob = await env.join('metrics-room', 'bob');
  const aliceMedia = await publishTestMedia({ client: alice.client, color: 0xff0000 });
  const bobMedia = await publishTestMedia({ client: bob.client, color: 0x0000ff });
  t.teardown(() => Promise.all([aliceMedia.stop(), bobMedia.stop()]));
  const socket = dgram.createSocket('udp4');
  t.teardown(() => socket.close());
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transport = await bob.client.request('createPlainTransport', { direction: 'recv', comedia: false, rtcpMux: true });
  await bob.client.request('connectPlainTransport', { transportId: transport.transportId, ip: '127.0.0.1', port: socket.address().port });
  await bob.client.request('consume', { transportId: transport.transportId, producerId: aliceMedia.videoProducerId! });
  m = await scrape();
  t.equal(m.value('confrec_channels'), 1, 'one channel');
  t.equal(m.value('confrec_peers'), 2, 'two peers');
  t.equal(m.value('confrec_producers', { kind: 'video' }), 2, 'two video producers');
  t.equal(m.value('confrec_producers', { kind: 'audio' }), 2, 'two audio producers');
  t.equal(m.value('confrec_consumers', { kind: 'video' }), 1, 'one video consumer');
  t.equal(m.value('confrec_consumers', { kind: 'audio' }), 0, 'no audio consumer');

  const started = await env.api.request('POST', '/recordings', { channelName: 'metrics-room', uid: 'backend', recordingConfig: { transcodingConfig: { width: 320, height: 240 } } });
  t.equal(started.status, 201, 'recording started');
  const recordingId: string = started.body.recordingId;
  m = await scrape();
  t.equal(m.value('confrec_recordings', { phase: 'running', mode: 'composite' }), 1, 'one composite recording running');
  t.equal(m.value('confrec_recordings_started_total', { mode: 'composite' }), 1, 'counted as started');
  t.equal(m.value('confrec_recorder_processes'), 1, 'one recorder process');
  await sleep(2500);
  const pid = env.recording.engine.get(recordingId)!.recorderPid!;
  const direct = procCpuSeconds(pid);
  m = await scrape();
  const cpuWhileRunning = m.value('confrec_recorder_cpu_seconds_total')!;
  t.ok(direct > 0, `the recorder used CPU (${direct} s in /proc/${pid}/stat)`);
  t.ok(cpuWhileRunning >= direct, `recorder CPU seconds follow the recorder (${cpuWhileRunning} >= ${direct})`);

  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'stopped');
  m = await scrapeUntil((now) => now.value('confrec_uploads_total', { vendor: 'local' }) === 1, 30_000);
  t.equal(m.value('confrec_uploads_total', { vendor: 'local' }), 1, 'uploads_total{vendor="local"} counts the stored file');
  const [job] = env.recording.engine.uploads.list();
  t.equal(job?.state, 'uploaded');
  t.equal(m.value('confrec_upload_bytes_total', { vendor: 'local' }), job!.size, `upload_bytes_total counts its ${job!.size} bytes`);
  t.equal(m.value('confrec_upload_queue_depth'), 0, 'the upload queue is empty again');
  t.equal(m.value('confrec_upload_bytes_pending'), 0, 'no bytes pending');
  t.equal(m.value('confrec_recordings', { phase: 'running', mode: 'composite' }), 0, 'no recording running');
  t.equal(m.value('confrec_recordings', { phase: 'stopped', mode: 'composite' }), 1, 'one stopped');
  t.equal(m.value('confrec_recorder_processes'), 0, 'no recorder process left');
  const cpuAfter = m.value('confrec_recorder_cpu_seconds_total')!;
  t.ok(cpuAfter >= cpuWhileRunning, `recorder CPU seconds keep what the ended recorder used (${cpuAfter} >= ${cpuWhileRunning})`);
  t.equal(m.value('confrec_recording_failures_total'), undefined, 'no recording failed');

  // The receiver refused the first POST: one failed attempt, then every event got through.
  m = await scrapeUntil((now) => now.value('confrec_webhook_queue_depth') === 0 && now.value('confrec_webhook_deliveries_total', { result: 'delivered' })! >= 4, 20_000);
  t.ok(m.value('confrec_webhook_deliveries_total', { result: 'delivered' })! >= 4, `webhook events delivered (${m.value('confrec_webhook_deliveries_total', { result: 'delivered' })})`);
  t.equal(m.value('confrec_webhook_attempt_failures_total'), 1, 'one failed POST');
  t.equal(m.value('confrec_webhook_deliveries_total', { result: 'failed' }), 0, 'no event given up');
  t.equal(m.value('confrec_webhook_queue_depth'), 0, 'nothing waiting');

  const consumerClosed = bob.client.waitFor('consumerClosed');
  await alice.client.request('leave');
  await consumerClosed;
  m = await scrape();
  t.equal(m.value('confrec_peers'), 1, 'alice left: one peer');
  t.equal(m.value('confrec_producers'), 2, 'bob\'s two producers');
  t.equal(m.value('confrec_consumers'), 0, 'bob\'s consumer closed with alice\'s producer');
  await bob.client.request('leave');
  m = await scrape();
  t.equal(m.value('confrec_channels'), 0, 'the last peer left: no channel');
  t.equal(m.value('confrec_peers'), 0, 'no peer');
  t.equal(m.value('confrec_producers'), 0, 'no producer');

  // A store that does not answer: the upload is given up (UploaderFailed) and goes to backup.
  const file = path.join(env.tmpDir, 'unreachable.bin');
  fs.writeFileSync(file, Buffer.alloc(12345, 7));
  await env.recording.engine.uploads.enqueue({
    recordingId: 'rec_metrics_failure',
    channelId: 'metrics-room',
    localPath: file,
    objectKey: 'metrics/unreachable.bin',
    target: { vendor: 's3', bucket: 'metrics-bucket', region: 'us-east-1', endpoint: 'http://127.0.0.1:1', accessKey: 'AKIDMETRICS', secretKey: 'metrics-secret-key' },
  });
  m = await scrapeUntil((now) => now.value('confrec_upload_backups_total', { vendor: 's3' }) === 1, 20_000);
  t.equal(m.value('confrec_upload_failures_total', { vendor: 's3', code: 'UploaderFailed' }), 1, 'upload_failures_total{vendor="s3",code="UploaderFailed"}');
  t.equal(m.value('confrec_upload_backups_total', { vendor: 's3' }), 1, 'and the file went to backup');
  t.equal(m.value('confrec_upload_queue_depth', { state: 'backedUp' }), 1, 'it waits in the queue, backed up');
  t.equal(m.value('confrec_upload_bytes_pending'), 12345, 'with all its bytes pending');
  t.equal(m.value('confrec_uploads_total', { vendor: 's3' }), 0, 'not stored');
  t.notOk((await scrapeMetrics(env.httpUrl, CREDENTIALS)).text.includes('metrics-secret-key'), 'no storage key in the exposition');

  // A mediasoup worker killed from outside is replaced: one restart.
  process.kill(env.server.pool.workers[0]!.pid, 'SIGKILL');
  m = await scrapeUntil((now) => now.value('confrec_mediasoup_worker_restarts_total') === 1 && now.value('confrec_mediasoup_workers') === 1, 15_000);
  t.equal(m.value('confrec_mediasoup_worker_restarts_total'), 1, 'one worker restart');
  t.equal(m.value('confrec_mediasoup_workers'), 1, 'one worker running again');
});

t.test('recorder CPU seconds never go down: an ended process keeps its last reading, the next one adds to it', async (t) => {
  /** A process that burns about `ms` of CPU, then idles until killed. */
  const burner = async (ms: number) => {
    const child = spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end); setInterval(() => {}, 1000);`], { stdio: 'ignore' });
    t.teardown(() => child.kill('SIGKILL'));
    await sleep(ms + 300);
    return child;
  };
  const pids: number[] = [];
  const meter = new RecorderCpuMeter(() => pids, { intervalMs: 50 });
  t.teardown(() => meter.close());
  t.same(meter.sample(), { processes: 0, totalSeconds: 0 }, 'nothing before any recorder');

  const first = await burner(400);
  pids.push(first.pid!);
  meter.watch();
  const firstDirect = procCpuSeconds(first.pid!);
  const whileAlive = meter.sample().totalSeconds;
  t.ok(firstDirect > 0 && whileAlive >= firstDirect, `the first process's CPU is read (${whileAlive} s, /proc said ${firstDirect} s)`);
  await new Promise((resolve) => {
    first.once('exit', resolve);
    first.kill('SIGKILL');
  });
  const afterExit = meter.sample();
  t.equal(afterExit.totalSeconds, whileAlive, 'gone (its /proc entry reaped): its last reading stays in the total');

  const second = await burner(300);
  pids.splice(0, 1, second.pid!);
  const secondDirect = procCpuSeconds(second.pid!);
  const both = meter.sample();
  t.equal(both.processes, 1, 'one recorder now');
  t.ok(secondDirect > 0 && both.totalSeconds >= whileAlive + secondDirect, `the second one adds to the total (${both.totalSeconds} s >= ${whileAlive} + ${secondDirect} s)`);
});
