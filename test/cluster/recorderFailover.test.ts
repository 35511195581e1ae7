/**
 * Recorder-node failover across real server processes on one Redis (issue 13): node-1 is a media
 * node only, node-2 and node-3 recorder nodes only; the store is a real s3rver every node uploads
 * to. A composite started through the recorder SDK on the media node runs on one recorder node;
 * that node is SIGKILLed mid-recording. The recording goes on on the other recorder node within
 * nodeTimeoutMs + 3 s as segment 1 of the same recording id; the SDK hears onRecorderFailure (with
 * the segment and the gap, no fatal error) and keeps receiving the recording's events. The killed
 * node, restarted, recovers its partial segment 0 and uploads it for the new owner. Both segments
 * reach the store under their own keys, decode and show both participants; their offsets lie on one
 * timeline with a gap within the bound; the storage secret is never in Redis in the clear. With
 * room for one composite per recorder node and both busy, a killed node's recording cannot be
 * carried on: it fails, once, with one fatal error. A recorder node cut off from Redis (alive, still
 * recording over its media link) is taken over like a dead one; when it reaches Redis again its
 * stale publish is refused, it stops its recorder and hands its segment to the new owner, so one
 * recording is never recorded on by two nodes for longer than the cut.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import t from 'tap';
import { computeLayout } from '../../plugin/recording/layout';
import type { MediaChannel } from '../../signaling/client/index';
import type { RecordingEventNotification } from '../../signaling/recorder/index';
import { apiClient } from '../backend/support';
import { clusterPublisher } from '../support/clusterPublisher';
import { ClusterServer, pollFor, startCluster, TestCluster, token } from '../support/clusterServers';
import { colorName, frameAt, meanColor, probe } from '../support/mediaProbe';
import { until } from '../support/recordingServer';
import { privateRedis } from '../support/redisServer';
import { startS3Server, type S3TestServer } from '../support/s3Server';
import { TEST_SECRET } from '../support/server';
import { connectWatchedSdk } from '../support/watchedRecorderSdk';
import { recorderChildren } from '../support/recorderChildren';
import { startTcpHop, type TcpHop } from '../support/tcpHop';
import { roomForOneComposite } from '../support/recorderRoom';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
/** Room for one composite of two publishers on the recorder node, not two. */
const CAPACITY = roomForOneComposite(2);
/** An orphan nobody claims fails 5 s after the death is noticed (RecordingTakeover), noticed within nodeTimeoutMs + 2 s. */
const UNCLAIMED_FAIL_BOUND_MS = TIMING.nodeTimeoutMs + 2000 + 5000 + 1000;
/** The issue's bound: the recording goes on within nodeTimeoutMs + 3 s of the death. */
const TAKEOVER_BOUND_MS = TIMING.nodeTimeoutMs + 3000;
const RECONNECT = { attempts: 20, initialDelayMs: 300, maxDelayMs: 1000 };
const CANVAS = { width: 320, height: 240, fps: 15, bitrateKbps: 400 };
const CONFIG = { transcodingConfig: { width: CANVAS.width, height: CANVAS.height, layout: 'BestFit' }, maxIdleTime: 30 };
const S3_ACCESS_KEY = 'failover-access-key';
const S3_SECRET_KEY = 'failover-s3-secret-never-in-redis';
const BUCKET = 'recordings';

const api = (server: ClusterServer) => apiClient(server.url, 'confrec', TEST_SECRET);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (bytes: Buffer): string => crypto.createHash('sha256').update(bytes).digest('hex');

type FileView = { objectKey: string; segment?: number; startOffsetMs: number };
type View = { phase: string; nodeId: string; segment?: number; files: FileView[]; uploads: { objectKey: string; state: string; size: number; sha256?: string }[] };

let cluster: TestCluster;
let s3: S3TestServer;
/** Each recorder node reaches Redis through a hop of its own, to cut it off from Redis alone. */
const redisHops = new Map<string, TcpHop>();
const redis = privateRedis(t, async (started) => {
  s3 = await startS3Server({ buckets: [BUCKET], accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY });
  for (const nodeId of ['node-2', 'node-3']) redisHops.set(nodeId, await startTcpHop(started.port));
  cluster = await startCluster(started.url, TIMING, 3, {
    env: { CONFREC_RECORDING_ALLOWED_STORAGE_ENDPOINTS: '127.0.0.1', CONFREC_RECORDING_CAPACITY_UNITS: String(CAPACITY) },
    nodeEnv: (index) => ({
      CONFREC_CLUSTER_ROLES: index === 0 ? 'media' : 'recorder',
      ...(index > 0 ? { CONFREC_CLUSTER_REDIS_URL: `redis://127.0.0.1:${redisHops.get(`node-${index + 1}`)!.port}` } : {}),
    }),
  });
  return {
    close: async () => {
      await cluster.close();
      for (const hop of redisHops.values()) await hop.close();
      await s3.close();
    },
  };
});


/** Every string Redis holds under any key: hashes, strings, sets, sorted sets and streams. */
async function everythingInRedis(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const parts: string[] = [];
    for (const key of await client.keys('*')) {
      const type = await client.type(key);
      if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'string') parts.push(String(await client.get(key)));
      else if (type === 'set') parts.push((await client.smembers(key)).join(' '));
      else if (type === 'zset') parts.push((await client.zrange(key, '0', '-1')).join(' '));
      else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
      parts.push(key);
    }
    return parts.join('\n');
  } finally {
    client.disconnect();
  }
}

if (redis) {
  const nodes = () => cluster.servers as [ClusterServer, ClusterServer, ClusterServer];
  const cleanup: Array<() => Promise<void> | void> = [];
  t.afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const publisher = (channelId: string, uid: string, color: number): Promise<MediaChannel> =>
    clusterPublisher({ entry: nodes()[0], servers: nodes(), reconnect: RECONNECT, cleanup }, channelId, uid, color);

  /** Red and blue publish in `channelId`; the SDK on the media node records it to the s3rver. */
  async function recordTwoColours(channelId: string): Promise<{ sdk: ReturnType<typeof connectWatchedSdk>; recordingId: string; first: View }> {
    await publisher(channelId, `${channelId}-red`, 0xff0000);
    await publisher(channelId, `${channelId}-blue`, 0x0000ff);
    await sleep(1000);
    const sdk = connectWatchedSdk(nodes()[0]);
    cleanup.push(() => sdk.recorder.release(true).catch(() => undefined));
    const storage = { vendor: 'S3', region: 0, bucket: BUCKET, accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, endpoint: s3.endpoint };
    const recordingId = await sdk.recorder.startCloudRecording('confrec', channelId, token(channelId, 'backend'), 'backend', CONFIG, storage as never);
    const first = (await api(nodes()[0]).request('GET', `/recordings/${recordingId}`)).body as View;
    return { sdk, recordingId, first };
  }

  t.test('a recorder node SIGKILLed mid-recording: the recording goes on on the other as segment 1; the first, recovered, is uploaded too; one timeline, every file stored', async (t) => {
    const media = nodes()[0];
    const { sdk, recordingId, first } = await recordTwoColours('failover');
    const doomed = nodes().find((node) => node.nodeId === first.nodeId)!;
    const survivor = nodes().find((node) => node !== doomed && node !== media)!;
    t.ok(doomed && doomed !== media, `recording on recorder node ${first.nodeId}`);
    await sleep(4000);

    const secretsInRedis = await everythingInRedis(redis.url);
    t.ok(secretsInRedis.includes(`${recordingId}`), 'Redis holds the recording (and its sealed spec)');
    t.notOk(secretsInRedis.includes(S3_SECRET_KEY), 'but never the storage secret in the clear');

    const killedAt = Date.now();
    await doomed.kill();
    const moved = await pollFor(
      async () => (await api(media).request('GET', `/recordings/${recordingId}`)).body as View,
      (view) => view.nodeId === survivor.nodeId && view.phase === 'running',
      TAKEOVER_BOUND_MS + 2000,
      100,
    );
    const movedAfter = Date.now() - killedAt;
    t.match(moved, { nodeId: survivor.nodeId, phase: 'running', segment: 1 }, `running again on ${survivor.nodeId} as segment 1`);
    t.ok(movedAfter <= TAKEOVER_BOUND_MS, `carried on ${movedAfter} ms after the kill (bound nodeTimeoutMs ${TIMING.nodeTimeoutMs} + 3 s)`);

    t.ok(await until(() => sdk.callbacks.some((call) => call.recordingId === recordingId && call.name === 'recorderFailure'), 5000), 'the SDK on the media node heard onRecorderFailure');
    const failure = sdk.wire.find((event) => event.recordingId === recordingId && event.type === 'recorderFailure' && (event as { segment?: number }).segment === 1) as
      | (RecordingEventNotification & { segment: number; gapMs: number; message: string })
      | undefined;
    t.ok(failure, 'its event names segment 1');
    t.ok(failure && failure.gapMs >= 0 && failure.gapMs <= TAKEOVER_BOUND_MS, `and the gap, ${failure?.gapMs} ms, within the bound`);
    t.match(failure?.message, new RegExp(`${doomed.nodeId}.*segment 1`), 'its message says what happened');
    t.notOk(sdk.callbacks.some((call) => call.recordingId === recordingId && call.name === 'fatalError'), 'no fatal error');
    await sleep(5000);

    // The killed node's recorder finalizes segment 0 on its own; the node, back, uploads it for the owner.
    t.ok(await doomed.outputClosed(20_000), "the killed node's orphaned recorder exited");
    const segment0File = path.join(cluster.dir, doomed.nodeId, 'state', 'work', recordingId, 'recording.mp4');
    t.ok(fs.existsSync(segment0File), 'segment 0 is in its work directory');
    const segment0Hash = fs.existsSync(segment0File) ? sha256(fs.readFileSync(segment0File)) : 'missing';
    const index = cluster.servers.indexOf(doomed);
    cluster.servers[index] = await doomed.restart();

    await sdk.recorder.stopCloudRecording();
    const done = await pollFor(
      async () => (await api(media).request('GET', `/recordings/${recordingId}`)).body as View,
      (view) => view.phase === 'stopped' && view.files.length === 2 && view.uploads.length >= 1 && view.uploads.every((upload) => upload.state === 'uploaded'),
      30_000,
    );
    t.match(done, { phase: 'stopped', nodeId: survivor.nodeId }, 'stopped by the SDK, on the new owner');
    const [segment0, segment1] = [...done.files].sort((a, b) => (a.segment ?? 0) - (b.segment ?? 0));
    t.same(done.files.map((file) => file.segment).sort(), [0, 1], `its files list segment 0 and segment 1 (${done.files.map((file) => file.objectKey).join(', ')})`);
    t.match(segment1?.objectKey, /_seg1\.mp4$/, 'segment 1 under a key of its own');
    t.equal(segment1?.objectKey.replace(/_seg1\.mp4$/, '.mp4'), segment0?.objectKey, 'beside segment 0');

    // Segment 0 is uploaded by the node that recorded it; the owner tells of it once it is stored.
    t.ok(await until(() => sdk.callbacks.filter((call) => call.recordingId === recordingId && call.name === 'uploaded').length >= 2, 30_000), 'the SDK heard onRecordingUploaded for both segments');
    t.same(
      sdk.callbacks.filter((call) => call.recordingId === recordingId && call.name === 'uploaded').map((call) => call.args[0]).sort(),
      [segment0?.objectKey, segment1?.objectKey].sort(),
      'one for each segment’s key',
    );
    const stored = await Promise.all([segment0!, segment1!].map(async (file) => s3.getObject(BUCKET, file.objectKey)));
    t.ok(stored.every(Boolean), 'both segments are in the store');
    t.equal(sha256(stored[0] ?? Buffer.alloc(0)), segment0Hash, 'segment 0 byte for byte as its recorder left it (sha256)');
    const upload1 = done.uploads.find((upload) => upload.objectKey === segment1?.objectKey);
    t.equal(stored[1]?.length, upload1?.size, 'segment 1 whole, as its upload reported it');
    t.equal(sha256(stored[1] ?? Buffer.alloc(0)), upload1?.sha256, 'and byte for byte the file its recorder node queued (sha256)');
    if (!stored.every(Boolean)) return;
    const wireSeqs = sdk.wire.filter((event) => event.recordingId === recordingId).map((event) => event.seq);
    t.same(wireSeqs, [...new Set(wireSeqs)].sort((a, b) => a - b), `the SDK got every event once, in order, across the two nodes (${wireSeqs.join(',')})`);

    const tiles = computeLayout(CANVAS, 'BestFit', ['red', 'blue']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'failover-'));
    const durations: number[] = [];
    for (const [i, bytes] of stored.entries()) {
      const file = path.join(dir, `segment${i}.mp4`);
      fs.writeFileSync(file, bytes!);
      const { durationS } = await probe(file);
      durations.push(durationS);
      const frame = await frameAt(file, Math.max(0, durationS - 1));
      const colors = tiles.map((tile) => colorName(meanColor(frame, tile))).sort();
      t.same(colors, ['blue', 'red'], `segment ${i} decodes (${durationS.toFixed(1)} s) and shows both participants`);
    }
    const segment0End = (segment0?.startOffsetMs ?? 0) + durations[0]! * 1000;
    const gapMs = (segment1?.startOffsetMs ?? 0) - segment0End;
    t.ok(gapMs <= TAKEOVER_BOUND_MS, `on one timeline: segment 1 starts at ${segment1?.startOffsetMs} ms, ${Math.round(gapMs)} ms after segment 0 ends (${Math.round(segment0End)} ms)`);
    t.ok((segment1?.startOffsetMs ?? 0) > 4000, 'segment 1 starts after the time segment 0 recorded');
  });

  t.test('both recorder nodes busy: a killed node\'s recording has nowhere to go and fails, once', async (t) => {
    const media = nodes()[0];
    const sdk = connectWatchedSdk(media);
    cleanup.push(() => sdk.recorder.release(true).catch(() => undefined));
    const recordingIds: string[] = [];
    for (const channelId of ['busy-a', 'busy-b']) {
      await publisher(channelId, `${channelId}-red`, 0xff0000);
      await publisher(channelId, `${channelId}-blue`, 0x0000ff);
      const start = await api(media).request('POST', '/recordings', { channelName: channelId, recordingConfig: CONFIG });
      t.equal(start.status, 201, `${channelId} records on ${(start.body as { nodeId?: string }).nodeId}`);
      recordingIds.push((start.body as { recordingId: string }).recordingId);
      // The next placement reads the heartbeat that counts this recording.
      await sleep(1000);
    }
    const [doomedId, busyId] = recordingIds as [string, string];
    cleanup.push(async () => void (await api(media).request('POST', `/recordings/${busyId}/stop`, {})));
    const owners = await Promise.all(recordingIds.map(async (id) => ((await api(media).request('GET', `/recordings/${id}`)).body as View).nodeId));
    t.not(owners[0], owners[1], `one on each recorder node (${owners.join(', ')})`);
    await sdk.recorder.attachCloudRecording('confrec', doomedId, token('busy-a', 'backend'));
    const doomed = nodes().find((node) => node.nodeId === owners[0])!;
    await sleep(2000);

    const killedAt = Date.now();
    await doomed.kill();
    cleanup.push(async () => {
      const index = cluster.servers.indexOf(doomed);
      if (index >= 0) cluster.servers[index] = await doomed.restart();
    });
    const failed = await pollFor(
      async () => (await api(media).request('GET', `/recordings/${doomedId}`)).body as View & { nodeLost?: boolean },
      (view) => view.phase === 'failed',
      UNCLAIMED_FAIL_BOUND_MS + 2000,
      200,
    );
    const failedAfter = Date.now() - killedAt;
    t.match(failed, { phase: 'failed', nodeLost: true, nodeId: doomed.nodeId }, 'failed, its node lost');
    t.ok(failedAfter <= UNCLAIMED_FAIL_BOUND_MS, `${failedAfter} ms after the kill (noticed within nodeTimeoutMs + 2 s, then 5 s for a claim that never came)`);
    t.ok(await until(() => sdk.callbacks.some((call) => call.recordingId === doomedId && call.name === 'fatalError'), 5000), 'the SDK heard the fatal error');
    await sleep(1500);
    t.equal(sdk.callbacks.filter((call) => call.recordingId === doomedId && call.name === 'fatalError').length, 1, 'once');
    t.notOk(sdk.wire.some((event) => event.recordingId === doomedId && (event as { segment?: number }).segment), 'no segment was started for it');
    const busy = (await api(media).request('GET', `/recordings/${busyId}`)).body as View;
    t.match(busy, { phase: 'running', nodeId: owners[1] }, 'the other recording runs on, untouched');
    t.notOk(busy.segment, '… in its first segment');
  });

  t.test('a recorder node cut off from Redis (alive, recording on) is taken over; back, it stops its recorder and hands its segment over', async (t) => {
    const media = nodes()[0];
    const { sdk, recordingId, first } = await recordTwoColours('cutoff');
    const cut = nodes().find((node) => node.nodeId === first.nodeId)!;
    const other = nodes().find((node) => node !== cut && node !== media)!;
    t.ok(redisHops.has(cut.nodeId), `recording on recorder node ${cut.nodeId}`);
    t.equal(recorderChildren(cut.child.pid).length, 1, 'which runs its recorder');
    await sleep(3000);

    redisHops.get(cut.nodeId)!.partition();
    const cutAt = Date.now();
    const moved = await pollFor(
      async () => (await api(media).request('GET', `/recordings/${recordingId}`)).body as View,
      (view) => view.nodeId === other.nodeId && view.phase === 'running' && view.segment === 1,
      TAKEOVER_BOUND_MS + 4000,
      100,
    );
    t.match(moved, { nodeId: other.nodeId, phase: 'running', segment: 1 }, `carried on by ${other.nodeId} as segment 1, ${Date.now() - cutAt} ms after the cut`);
    t.equal(recorderChildren(cut.child.pid).length, 1, `the cut-off node, alive, still records (it cannot know yet)`);
    await sleep(2000);

    redisHops.get(cut.nodeId)!.heal();
    const healedAt = Date.now();
    t.ok(await until(() => recorderChildren(cut.child.pid).length === 0, 15_000), `back in touch, it stopped its recorder (${Date.now() - healedAt} ms after the heal)`);
    t.match((await api(media).request('GET', `/recordings/${recordingId}`)).body, { nodeId: other.nodeId, phase: 'running', segment: 1 }, 'the recording stays the new owner’s, running');
    await sleep(2000);

    await sdk.recorder.stopCloudRecording();
    const done = await pollFor(
      async () => (await api(media).request('GET', `/recordings/${recordingId}`)).body as View,
      (view) => view.phase === 'stopped' && view.files.length === 2,
      30_000,
    );
    t.same(done.files.map((file) => file.segment).sort(), [0, 1], `both segments listed (${done.files.map((file) => file.objectKey).join(', ')})`);
    t.ok(await until(() => sdk.callbacks.filter((call) => call.recordingId === recordingId && call.name === 'uploaded').length >= 2, 30_000), 'the SDK heard onRecordingUploaded for both segments');
    const stored = await Promise.all(done.files.map(async (file) => s3.getObject(BUCKET, file.objectKey)));
    t.ok(stored.every((bytes) => bytes && bytes.length > 0), 'both are in the store');
    t.notOk(sdk.callbacks.some((call) => call.recordingId === recordingId && call.name === 'fatalError'), 'no fatal error');
    const wireSeqs = sdk.wire.filter((event) => event.recordingId === recordingId).map((event) => event.seq);
    t.same(wireSeqs, [...new Set(wireSeqs)].sort((a, b) => a - b), `the SDK got every event once, in order (${wireSeqs.join(',')})`);
    t.notOk(
      sdk.wire.some((event) => event.recordingId === recordingId && event.type === 'stopped' && sdk.wire.indexOf(event) < sdk.wire.findIndex((later) => later.recordingId === recordingId && (later as { segment?: number }).segment === 1)),
      'the cut-off node’s own stop never reached the SDK as the recording’s',
    );
    t.equal(sdk.wire.filter((event) => event.recordingId === recordingId && event.type === 'stopped').length, 1, 'one stop: the owner’s');
  });
}
