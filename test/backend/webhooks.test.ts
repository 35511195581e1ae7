import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { signWebhook, verifyWebhookSignature } from '../../plugin/webhooks/signature';
import { sleep, until } from '../support/recordingServer';
import { milestones, startBackendServer } from './support';

const SECRET = 'webhook-secret-0123456789abcdef';

interface Delivery {
  status: number;
  raw: string;
  signature: string;
  attempt: number;
  event: string;
}

/** A webhook receiver that answers 503 to its first `failures` requests, then 204. */
async function startReceiver(failures: number): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  let count = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = count++ < failures ? 503 : 204;
      deliveries.push({
        status,
        raw: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['x-confrec-signature']),
        attempt: Number(request.headers['x-confrec-attempt']),
        event: String(request.headers['x-confrec-event']),
      });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/confrec`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

t.test('webhooks: a receiver failing its first attempts still gets every event, in order, signed', async (t) => {
  const receiver = await startReceiver(3);
  t.teardown(() => receiver.close());
  const env = await startBackendServer({
    backend: {
      // The second URL never answers: its retries must not hold up the first one, nor the recording.
      webhooks: { urls: [receiver.url, 'http://127.0.0.1:1/dead'], secret: SECRET, retryBaseDelayMs: 50, retryMaxDelayMs: 200, maxAttempts: 8 },
    },
  });
  t.teardown(() => env.close());

  const started = await env.api.request('POST', '/recordings', { channelName: 'hook-room', uid: 'hooks', recordingConfig: { transcodingConfig: { width: 320, height: 240 } } });
  t.equal(started.status, 201, 'recording started over HTTP while the receiver fails');
  const recordingId: string = started.body.recordingId;
  await sleep(2000);
  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'and stopped');

  const accepted = (): Delivery[] => receiver.deliveries.filter((delivery) => delivery.status === 204);
  t.ok(await until(() => accepted().some((delivery) => delivery.event === 'uploaded'), 30_000), 'the uploaded event got through');
  t.ok(receiver.deliveries.slice(0, 3).every((delivery) => delivery.status === 503), 'the first three attempts failed');
  t.ok(accepted()[0]!.attempt > 1, `the first event got through on attempt ${accepted()[0]!.attempt}`);

  const payloads = accepted().map((delivery) => JSON.parse(delivery.raw));
  t.ok(payloads.every((payload) => payload.recordingId === recordingId), 'every payload names the recording');
  // The channel has nobody in it: the seed's NoUsers (onRecorderFailure) follows Started.
  t.same(milestones(payloads.map((payload) => payload.event)), ['connecting', 'started', 'recorderFailure', 'stopped', 'uploaded'], 'in order');
  t.equal(payloads.find((payload) => payload.event === 'recorderFailure')?.code, 'NoUsers', 'the failure is NoUsers');
  const seqs = payloads.map((payload) => payload.seq as number);
  t.ok(seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!), `seq increasing (${seqs.join(',')})`);
  t.equal(new Set(payloads.map((payload) => payload.id)).size, payloads.length, 'no event accepted twice');
  t.equal(payloads[0].channelId, 'hook-room', 'events carry the channel');
  t.ok(accepted().every((delivery) => verifyWebhookSignature(SECRET, delivery.raw, delivery.signature)), 'every signature verifies');
  t.ok(receiver.deliveries.every((delivery) => !delivery.raw.includes(SECRET) && !delivery.signature.includes(SECRET)), 'the secret is never sent');

  const { raw, signature } = accepted().find((delivery) => delivery.event === 'stopped')!;
  t.notOk(verifyWebhookSignature(SECRET, raw.replace('"stopped"', '"started"'), signature), 'a tampered body fails verification');
  const flipped = signature.replace(/v1=([0-9a-f])/, (_, digit: string) => `v1=${digit === '0' ? '1' : '0'}`);
  t.notOk(verifyWebhookSignature(SECRET, raw, flipped), 'a tampered signature fails verification');
  t.notOk(verifyWebhookSignature('another-secret-0123456789', raw, signature), 'another secret fails verification');
  t.notOk(verifyWebhookSignature(SECRET, raw, signWebhook(SECRET, raw, Math.floor(Date.now() / 1000) - 3600)), 'a stale timestamp (replay) fails verification');
  t.notOk(verifyWebhookSignature(SECRET, raw, undefined), 'no header fails verification');
});
