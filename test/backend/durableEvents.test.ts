/**
 * Recording events outlive the server process: what a webhook receiver could not take before a
 * restart reaches it after, in order and with the same sequence numbers, and the event log answers
 * for recordings of the previous run.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { verifyWebhookSignature } from '../../plugin/webhooks/signature';
import { sleep, until } from '../support/recordingServer';
import { milestones, startBackendServer, waitUploaded } from './support';

const SECRET = 'durable-webhook-secret-0123456789';

/** One receiver for both runs (cursors are per URL): it refuses while `refusing`, then takes everything. */
async function startReceiver(): Promise<{ url: string; refusing: boolean; accepted: Array<{ raw: string; signature: string }>; refused: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (receiver.refusing) {
        receiver.refused += 1;
        response.writeHead(503).end();
        return;
      }
      receiver.accepted.push({ raw: Buffer.concat(chunks).toString('utf8'), signature: String(request.headers['x-confrec-signature']) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    refusing: true,
    accepted: [] as Array<{ raw: string; signature: string }>,
    refused: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return receiver;
}

t.test('webhooks queued at shutdown are delivered after the restart; the event log survives it', async (t) => {
  const receiver = await startReceiver();
  t.teardown(() => receiver.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-durable-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const options = {
    overrides: { recording: { stateDir: path.join(dir, 'state'), recordingsDir: path.join(dir, 'recordings') } },
    backend: { webhooks: { urls: [receiver.url], secret: SECRET, retryBaseDelayMs: 100, retryMaxDelayMs: 300, maxAttempts: 1000 } },
  };

  const first = await startBackendServer(options);
  const started = await first.api.request('POST', '/recordings', { channelName: 'durable', uid: 'rec', recordingConfig: { transcodingConfig: { width: 320, height: 240 } } });
  t.equal(started.status, 201, 'recording started');
  const recordingId: string = started.body.recordingId;
  await sleep(1500);
  t.equal((await first.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'stopped');
  t.equal((await waitUploaded(first.api, recordingId))?.uploads?.[0]?.state, 'uploaded', 'uploaded');
  const before = await first.api.request('GET', `/recordings/${recordingId}/events?after=0`);
  const seqsBefore = (before.body.events as Array<{ seq: number }>).map((event) => event.seq);
  t.ok(await until(() => receiver.refused >= 2, 10_000), `the receiver refused while the first server ran (${receiver.refused} attempts)`);
  await first.close();
  t.equal(receiver.accepted.length, 0, 'nothing was delivered before the restart');

  receiver.refusing = false;
  const second = await startBackendServer(options);
  t.teardown(() => second.close());
  t.ok(await until(() => receiver.accepted.some((delivery) => JSON.parse(delivery.raw).event === 'uploaded'), 20_000), 'after the restart the backlog is delivered');
  const payloads = receiver.accepted.map((delivery) => JSON.parse(delivery.raw) as { recordingId: string; seq: number; event: string; id: string; code?: string });
  t.ok(payloads.every((payload) => payload.recordingId === recordingId), 'all of the recording from before the restart');
  // The channel has nobody in it: the seed's NoUsers (onRecorderFailure) follows Started.
  t.same(milestones(payloads.map((payload) => payload.event)), ['connecting', 'started', 'recorderFailure', 'stopped', 'uploaded'], 'every milestone, in order');
  t.equal(payloads.find((payload) => payload.event === 'recorderFailure')?.code, 'NoUsers', 'the failure is NoUsers');
  t.same(payloads.map((payload) => payload.seq), seqsBefore.filter((seq) => payloads.some((payload) => payload.seq === seq)), 'with the sequence numbers they had, increasing');
  t.equal(new Set(payloads.map((payload) => payload.id)).size, payloads.length, 'none twice');
  t.ok(receiver.accepted.every((delivery) => verifyWebhookSignature(SECRET, delivery.raw, delivery.signature)), 'signed');

  const after = await second.api.request('GET', `/recordings/${recordingId}/events?after=0`);
  t.equal(after.status, 200, "the restarted server answers for the previous run's recording");
  t.same((after.body.events as Array<{ seq: number }>).map((event) => event.seq), seqsBefore, 'with the same events');
  const count = receiver.accepted.length;
  await sleep(1000);
  t.equal(receiver.accepted.length, count, 'and nothing is sent again once delivered');
  t.notOk(fs.readFileSync(path.join(dir, 'state', 'webhooks.json'), 'utf8').includes(SECRET), 'the cursor file holds no secret');
});
