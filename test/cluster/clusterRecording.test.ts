/**
 * Recordings across the nodes of a cluster (three server processes on one Redis, one webhook
 * receiver configured on all three): a recording of a channel is run by the channel's node (the
 * owner) whichever node the HTTP API or the recorder SDK reached; it is listed, read and stopped
 * through any node; the SDK gets every event once and in order, and the webhook receiver gets every
 * event once; the page's listing at any node shows the owner's files, with links that node serves
 * from the owner (Range too). The owner SIGKILLed mid-recording: every node shows the recording
 * failed within nodeTimeoutMs + 2 s, the SDK and the receiver get one fatalError, the clients move
 * on; the owner restarted as itself uploads the file it left, numbering its events on, with no
 * second fatalError. The nodes run with recording.failover off: a dead node's recordings fail, as
 * they do with it on when no recorder node can carry them on (recorderFailover.test.ts shows the
 * takeover).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { verifyWebhookSignature } from '../../plugin/webhooks/signature';
import { publishTestMedia, Publication } from '../../scripts/publishRtp';
import { mintToken } from '../../server/auth/token';
import type { MediaChannel } from '../../signaling/client/index';
import { apiClient, ApiAnswer, milestones } from '../backend/support';
import { ClusterServer, clusterChannel, pollFor, startCluster, TestCluster, token } from '../support/clusterServers';
import { sleep, until } from '../support/recordingServer';
import { privateRedis } from '../support/redisServer';
import { TEST_SECRET } from '../support/server';
import { connectWatchedSdk, type WatchedRecorderSdk } from '../support/watchedRecorderSdk';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
const RECONNECT = { attempts: 20, initialDelayMs: 300, maxDelayMs: 1000 };
/** How long after the owner's death every node must call its recording failed, plus one poll's slack. */
const FAILED_WITHIN_MS = TIMING.nodeTimeoutMs + 2000 + 500;
const WEBHOOK_SECRET = 'cluster-webhook-secret-0123456789';
const CHANNEL = 'rec-cluster';
const SMALL = { transcodingConfig: { width: 320, height: 240 } };

type Event = { seq: number; type: string };
type Payload = Event & { id: string; recordingId: string; code?: string };

/** A real HTTP server every node POSTs its webhooks to; answers 204 and keeps each payload. */
async function startWebhookReceiver(): Promise<{ url: string; payloads: Payload[]; badSignatures: number; close(): Promise<void> }> {
  const received = { payloads: [] as Payload[], badSignatures: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!verifyWebhookSignature(WEBHOOK_SECRET, raw, request.headers['x-confrec-signature'] as string | undefined)) received.badSignatures++;
      received.payloads.push(JSON.parse(raw) as Payload);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(received, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}


const namesOf = (sdk: WatchedRecorderSdk, recordingId: string): string[] => sdk.callbacks.filter((call) => call.recordingId === recordingId).map((call) => call.name);
const wireOf = (sdk: WatchedRecorderSdk, recordingId: string): Event[] => sdk.wire.filter((event) => event.recordingId === recordingId).map(({ seq, type }) => ({ seq, type }));
const oneToN = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);
const sha256 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const api = (server: ClusterServer) => apiClient(server.url, 'confrec', TEST_SECRET);
const nodeHeader = (answer: ApiAnswer): string | null => answer.headers.get('x-confrec-node');

let cluster: TestCluster;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
const redis = privateRedis(t, async (started) => {
  receiver = await startWebhookReceiver();
  cluster = await startCluster(started.url, TIMING, 3, {
    env: {
      CONFREC_WEBHOOKS_URLS: receiver.url,
      CONFREC_WEBHOOKS_SECRET: WEBHOOK_SECRET,
      CONFREC_WEBHOOKS_RETRY_BASE_DELAY_MS: '100',
      CONFREC_WEBHOOKS_RETRY_MAX_DELAY_MS: '500',
      CONFREC_RECORDING_FAILOVER: 'false',
    },
  });
  return {
    async close() {
      await cluster.close();
      await receiver.close();
    },
  };
});

if (redis) {
  // The channel, its two clients (alice publishing) and the nodes by role, set up once for all tests.
  let owner: ClusterServer;
  let other1: ClusterServer;
  let other2: ClusterServer;
  let alice: MediaChannel;
  let bob: MediaChannel;
  let publication: Publication;
  const sdks: WatchedRecorderSdk[] = [];
  /** The recordings the tests made, for the webhook test: id → the node that owns it. */
  const recorded = new Map<string, ClusterServer>();

  const serverOf = (channel: MediaChannel): ClusterServer | undefined => cluster.servers.find((server) => server.wsUrl === channel.connectedUrl);
  const eventsOf = async (server: ClusterServer, recordingId: string): Promise<Event[]> => {
    const answer = await api(server).request('GET', `/recordings/${recordingId}/events`);
    if (answer.status !== 200) throw new Error(`GET /recordings/${recordingId}/events at ${server.nodeId}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return (answer.body.events as Event[]).map(({ seq, type }) => ({ seq, type }));
  };
  const hooksOf = (recordingId: string): Payload[] => receiver.payloads.filter((payload) => payload.recordingId === recordingId);

  /**
   * The receiver's deliveries of one recording against the owner's log of it: no event delivered
   * twice, none the owner did not log, and every one but upload progress — whose waiting deliveries
   * the dispatcher coalesces (only the newest is sent, WebhookDispatcher) — delivered.
   */
  async function checkDeliveredOnce(t: Test, recordingId: string, logged: Event[]): Promise<void> {
    const key = (event: Event): string => `${event.seq}:${event.type}`;
    const milestoneKeys = (events: Event[]): string[] => events.filter((event) => event.type !== 'uploadingProgress').map(key).sort();
    await until(() => milestoneKeys(logged).every((wanted) => hooksOf(recordingId).some((payload) => key(payload) === wanted)), 15_000);
    await sleep(1500); // a second delivery, by another node, would be in by now
    const hooks = hooksOf(recordingId);
    const seqs = hooks.map((payload) => payload.seq);
    t.same(seqs.filter((seq, index) => seqs.indexOf(seq) !== index), [], `${recordingId}: no (recordingId, seq) delivered twice`);
    t.same(milestoneKeys(hooks), milestoneKeys(logged), `${recordingId}: every event of the owner's log delivered (${milestones(logged.map((event) => event.type)).join(',')}, progress aside)`);
    const loggedKeys = new Set(logged.map(key));
    t.same(hooks.map(key).filter((delivered) => !loggedKeys.has(delivered)), [], `${recordingId}: and nothing the owner did not log`);
    t.ok(hooks.every((payload) => payload.id === `${recordingId}:${payload.seq}`), `${recordingId}: each delivery with its id`);
  }

  t.before(async () => {
    const b = cluster.servers[1]!;
    alice = clusterChannel(b, cluster.servers, RECONNECT);
    await alice.join(CHANNEL, { token: token(CHANNEL, 'alice'), displayName: 'Alice' });
    owner = serverOf(alice)!;
    [other1, other2] = cluster.servers.filter((server) => server !== owner) as [ClusterServer, ClusterServer];
    bob = clusterChannel(other1, cluster.servers, RECONNECT);
    await bob.join(CHANNEL, { token: token(CHANNEL, 'bob'), displayName: 'Bob' });
    if (serverOf(bob) !== owner) throw new Error(`bob landed on ${serverOf(bob)?.nodeId}, not on the channel's node ${owner.nodeId}`);
    publication = await publishTestMedia({ client: alice.signaling!, color: 0x3366ff });
  });
  t.teardown(async () => {
    await Promise.all(sdks.map((sdk) => sdk.recorder.release(true).catch(() => undefined)));
    await publication?.stop();
    await Promise.all([alice, bob].map((channel) => channel?.close()));
  });

  t.test('a recording started through a non-owner node runs on the owner; it is listed, read and stopped through the third node', async (t) => {
    t.comment(`owner ${owner.nodeId}, other1 ${other1.nodeId}, other2 ${other2.nodeId}`);
    const started = await api(other1).request('POST', '/recordings', { channelName: CHANNEL, uid: 'api-backend', recordingConfig: SMALL });
    t.equal(started.status, 201, `POST /recordings at ${other1.nodeId} is 201 (${JSON.stringify(started.body).slice(0, 200)})`);
    if (started.status !== 201) return;
    const recordingId: string = started.body.recordingId;
    recorded.set(recordingId, owner);
    t.equal(started.body.nodeId, owner.nodeId, "the answer's nodeId is the owner's");
    t.equal(nodeHeader(started), owner.nodeId, 'x-confrec-node: the owner answered');
    t.equal(started.body.phase, 'running', 'running');
    t.equal(started.body.channelId, CHANNEL);

    const list = await api(other2).request('GET', '/recordings');
    t.equal(list.status, 200);
    t.equal(nodeHeader(list), other2.nodeId, `the list is ${other2.nodeId}'s own answer`);
    const listed = (list.body.recordings as { recordingId: string; nodeId?: string }[]).find((view) => view.recordingId === recordingId);
    t.ok(listed, `GET /recordings at ${other2.nodeId} lists it`);
    t.equal(listed?.nodeId, owner.nodeId, "with the owner's nodeId");

    const one = await api(other2).request('GET', `/recordings/${recordingId}`);
    t.equal(one.status, 200, `GET /recordings/{id} at ${other2.nodeId}`);
    t.equal(one.body.phase, 'running', 'phase running');
    t.equal(one.body.nodeId, owner.nodeId, "nodeId the owner's");
    t.equal(nodeHeader(one), owner.nodeId, 'forwarded: the owner answered');

    await sleep(3000);
    const stopped = await api(other2).request('POST', `/recordings/${recordingId}/stop`);
    t.equal(stopped.status, 200, `POST /recordings/{id}/stop at ${other2.nodeId} is 200`);
    t.equal(stopped.body.phase, 'stopped', 'phase stopped');
    t.equal(nodeHeader(stopped), owner.nodeId, 'the owner stopped it');

    const logged = await pollFor(() => eventsOf(owner, recordingId), (events) => events.some((event) => event.type === 'uploaded'), 30_000);
    const types = Array.isArray(logged) ? logged.map((event) => event.type) : [];
    t.same(milestones(types), ['connecting', 'started', 'stopped', 'uploaded'], `the owner's event log: connecting, started, stopped, uploaded (${types.join(',')})`);
  });

  t.test('the SDK connected to a non-owner node gets every event of its recording once, in seq order, as the owner logged them', async (t) => {
    const sdk = connectWatchedSdk(other2);
    sdks.push(sdk);
    let recordingId: string;
    try {
      recordingId = await sdk.recorder.startCloudRecording('confrec', CHANNEL, token(CHANNEL, 'sdk-backend'), 'sdk-backend', SMALL, { vendor: 'Local' });
    } catch (error) {
      t.fail(`startCloudRecording through ${other2.nodeId}: ${(error as { code?: string }).code} ${(error as Error).message}`);
      return;
    }
    recorded.set(recordingId, owner);
    const view = await api(other2).request('GET', `/recordings/${recordingId}`);
    t.equal(view.body.nodeId, owner.nodeId, `it runs on the owner ${owner.nodeId}`);
    t.ok(await until(() => namesOf(sdk, recordingId).includes('started'), 10_000), 'Started arrived');
    await sleep(3000);
    await sdk.recorder.stopCloudRecording();
    t.ok(await until(() => namesOf(sdk, recordingId).includes('uploaded'), 30_000), 'Uploaded arrived');
    await sleep(1000); // anything sent twice or late would be in by now

    const wire = wireOf(sdk, recordingId);
    t.same(wire.map((event) => event.seq), oneToN(wire.length), `the socket got seq 1, 2, … ${wire.length}, each once (${wire.map((event) => event.seq).join(',')})`);
    t.same(namesOf(sdk, recordingId), wire.map((event) => event.type), 'the observer was called once per event, in that order');
    t.same(milestones(namesOf(sdk, recordingId)), ['connecting', 'started', 'stopped', 'uploaded'], 'connecting, started, stopped, uploaded');
    t.same(await eventsOf(owner, recordingId), wire, "the same seqs and types as the owner's GET /recordings/{id}/events");
    t.ok(sdk.callbacks.every((call) => call.recordingId === recordingId), 'nothing of another recording');
  });

  t.test('the webhook receiver got each event of both recordings exactly once, as the owner logged them', async (t) => {
    t.equal(recorded.size, 2, 'the two recordings of the tests above exist');
    for (const [recordingId, node] of recorded) await checkDeliveredOnce(t, recordingId, await eventsOf(node, recordingId));
    t.ok(receiver.payloads.length > 0 && receiver.badSignatures === 0, `every delivery (${receiver.payloads.length}) is signed with the webhook secret`);
  });

  t.test("the page's routes at a non-owner node: it lists the owner's files with links naming the owner, and serves them (Range too) from the owner", async (t) => {
    const viewer = { authorization: `Bearer ${mintToken(TEST_SECRET, { appId: 'confrec', channelId: CHANNEL, uid: 'viewer', role: 'audience', privileges: { publish: false, record: false, recordings: true }, exp: Math.floor(Date.now() / 1000) + 600 })}` };
    type Listed = { objectKey: string; recordingId: string | null; state: string; size: number; url?: string };
    const listAt = async (server: ClusterServer): Promise<Listed[]> => {
      const response = await fetch(`${server.url}/api/recordings?channel=${CHANNEL}`, { headers: viewer });
      t.equal(response.status, 200, `GET /api/recordings at ${server.nodeId} is 200`);
      return ((await response.json()) as { recordings: Listed[] }).recordings;
    };
    const download = async (server: ClusterServer, link: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> => {
      const response = await fetch(`${server.url}${link}`, { headers });
      return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
    };

    t.equal(recorded.size, 2, 'the two recordings of the tests above exist');
    const atOther = await listAt(other1);
    const atOwner = await listAt(owner);
    for (const recordingId of recorded.keys()) {
      const status = await api(owner).request('GET', `/recordings/${recordingId}`);
      const objectKey = String(status.body?.files?.[0]?.objectKey);
      t.equal(status.body?.uploads?.[0]?.state, 'uploaded', `${recordingId} is uploaded (${objectKey})`);
      const stored = path.join(cluster.dir, owner.nodeId, 'recordings', objectKey);
      if (!fs.existsSync(stored)) {
        t.fail(`${objectKey} is not in ${owner.nodeId}'s recordings directory`);
        continue;
      }
      const bytes = fs.readFileSync(stored);

      t.match(atOwner.find((entry) => entry.objectKey === objectKey)?.url, /^\/api\/recordings\/file\?(?!.*node=)/, `${owner.nodeId} lists ${objectKey} with a link of its own (no node=)`);
      const listed = atOther.filter((entry) => entry.objectKey === objectKey);
      t.equal(listed.length, 1, `${other1.nodeId} lists ${objectKey} once`);
      const entry = listed[0];
      t.match(entry, { recordingId, state: 'stored', size: bytes.length }, 'stored, with its size');
      const link = entry?.url ?? '';
      t.equal(new URL(link, other1.url).searchParams.get('node'), owner.nodeId, `its link names the owner: node=${owner.nodeId}`);
      if (!link) continue;

      const whole = await download(other1, link);
      t.equal(whole.status, 200, `the link at ${other1.nodeId}: 200`);
      t.equal(whole.headers.get('content-type'), 'video/mp4', 'video/mp4');
      t.equal(crypto.createHash('sha256').update(whole.body).digest('hex'), sha256(stored), `the very bytes of the owner's file (${bytes.length} bytes, sha256)`);

      const [from, to] = [100, Math.min(bytes.length - 1, 100 + 4095)];
      const ranged = await download(other1, link, { range: `bytes=${from}-${to}` });
      t.equal(ranged.status, 206, 'Range: 206');
      t.equal(ranged.headers.get('content-range'), `bytes ${from}-${to}/${bytes.length}`, 'content-range');
      t.ok(ranged.body.equals(bytes.subarray(from, to + 1)), `bytes ${from}-${to} of the file`);

      const elsewhere = link.replace(`node=${owner.nodeId}`, 'node=node-9');
      const unknown = await download(other1, elsewhere);
      t.equal(unknown.status, 502, 'node=<a node not in the cluster>: 502');
      t.equal(JSON.parse(unknown.body.toString('utf8'))?.error?.code, 'NODE_UNAVAILABLE', 'NODE_UNAVAILABLE');
    }
  });

  t.test('the owner SIGKILLed mid-recording: failed everywhere within nodeTimeoutMs + 2 s, one fatalError; restarted, it uploads the file it left', async (t) => {
    const sdk = connectWatchedSdk(other1);
    sdks.push(sdk);
    let recordingId: string;
    try {
      recordingId = await sdk.recorder.startCloudRecording('confrec', CHANNEL, token(CHANNEL, 'sdk-doomed'), 'sdk-doomed', SMALL, { vendor: 'Local' });
    } catch (error) {
      t.fail(`startCloudRecording through ${other1.nodeId}: ${(error as { code?: string }).code} ${(error as Error).message}`);
      return;
    }
    const running = await api(other2).request('GET', `/recordings/${recordingId}`);
    t.match(running.body, { phase: 'running', nodeId: owner.nodeId }, `running on ${owner.nodeId}, as ${other2.nodeId} sees it`);
    await sleep(4000);

    const workDir = path.join(cluster.dir, owner.nodeId, 'state', 'work', recordingId);
    const killedAt = Date.now();
    await owner.kill();
    const survivors = [other1, other2];
    const failed = await pollFor(
      () => Promise.all(survivors.map((server) => api(server).request('GET', `/recordings/${recordingId}`))),
      (answers) => answers.every((answer) => answer.body?.phase === 'failed'),
      FAILED_WITHIN_MS,
      100,
    );
    const failedAfter = Date.now() - killedAt;
    for (const [index, answer] of (Array.isArray(failed) ? failed : []).entries()) {
      t.match(answer.body, { phase: 'failed', nodeLost: true, nodeId: owner.nodeId }, `${survivors[index]!.nodeId}: failed, nodeLost`);
    }
    t.ok(failedAfter <= FAILED_WITHIN_MS, `failed on both survivors ${failedAfter} ms after the kill (nodeTimeoutMs ${TIMING.nodeTimeoutMs} + 2 s + polling)`);

    t.ok(await until(() => namesOf(sdk, recordingId).includes('fatalError'), Math.max(0, FAILED_WITHIN_MS - (Date.now() - killedAt))), `the SDK on ${other1.nodeId} got fatalError within the same budget`);
    t.equal(sdk.callbacks.find((call) => call.recordingId === recordingId && call.name === 'fatalError')?.args[0], 'RecorderFailed', 'code RecorderFailed');

    const back = await pollFor(
      async () => [alice, bob].map((peer) => ({ state: peer.connectionState, node: serverOf(peer), peers: [...peer.peers.values()].map((other) => other.uid) })),
      ([a, b]) => a!.state === 'connected' && b!.state === 'connected' && a!.node !== undefined && a!.node !== owner && a!.node === b!.node && a!.peers.join() === 'bob' && b!.peers.join() === 'alice',
      Math.max(0, 10_000 - (Date.now() - killedAt)),
      100,
    );
    t.ok(Date.now() - killedAt <= 10_000, `the clients are back within 10 s (${Date.now() - killedAt} ms)`);
    t.same(back.map((peer) => peer.state), ['connected', 'connected'], 'both connected again');
    t.ok(back[0]!.node !== owner && back[0]!.node === back[1]!.node, `on one other node (${back[0]!.node?.nodeId})`);
    t.same(back.map((peer) => peer.peers), [['bob'], ['alice']], 'each sees the other');

    t.ok(await until(() => hooksOf(recordingId).some((payload) => payload.type === 'fatalError'), 10_000), 'the webhook receiver got the fatalError');

    // The killed node's recorder finalizes its file on its own; what it left is what must be stored.
    t.ok(await owner.outputClosed(20_000), "the killed node's orphaned recorder exited");
    const workFile = path.join(workDir, 'recording.mp4');
    t.ok(fs.existsSync(workFile), 'the recorder left its file in the work directory');
    t.notOk(fs.existsSync(workDir) && fs.readdirSync(workDir).some((name) => name.endsWith('.tmp')), 'no half-written file remains');
    const leftHash = fs.existsSync(workFile) ? sha256(workFile) : 'missing';

    const index = cluster.servers.indexOf(owner);
    const restarted = await owner.restart();
    cluster.servers[index] = restarted;
    t.equal(restarted.nodeId, owner.nodeId, `${owner.nodeId} restarted as itself`);
    const done = await pollFor(
      () => api(restarted).request('GET', `/recordings/${recordingId}`),
      (answer) => answer.body?.uploads?.[0]?.state === 'uploaded',
      30_000,
    );
    t.equal(done.body?.uploads?.[0]?.state, 'uploaded', 'the restarted owner uploaded the recording');
    t.equal(done.body?.phase, 'failed', 'which stays failed');
    t.equal(done.body?.files?.length, 1, 'one file');
    const stored = path.join(cluster.dir, owner.nodeId, 'recordings', String(done.body?.files?.[0]?.objectKey));
    t.ok(fs.existsSync(stored), `stored as ${done.body?.files?.[0]?.objectKey}`);
    t.equal(fs.existsSync(stored) ? sha256(stored) : 'missing', leftHash, 'byte for byte the file the recorder left (sha256)');

    const logged = await eventsOf(restarted, recordingId);
    t.same(logged.map((event) => event.seq), oneToN(logged.length), `the owner's log numbers on: seq 1 … ${logged.length}, no gap, no repeat`);
    t.equal(logged.filter((event) => event.type === 'fatalError').length, 1, 'one fatalError in it');
    const fatalAt = logged.findIndex((event) => event.type === 'fatalError');
    t.ok(fatalAt >= 0 && logged.slice(fatalAt + 1).some((event) => event.type === 'uploaded'), `the upload events follow it (${milestones(logged.map((event) => event.type)).join(',')})`);

    await checkDeliveredOnce(t, recordingId, logged);
    t.equal(hooksOf(recordingId).filter((payload) => payload.type === 'fatalError').length, 1, 'the webhook receiver got the fatalError exactly once');
    t.equal(namesOf(sdk, recordingId).filter((name) => name === 'fatalError').length, 1, 'the SDK heard the fatalError once, none after the restart');
    t.ok(hooksOf(recordingId).length > 0 && receiver.badSignatures === 0, 'every delivery signed');
  });
}
