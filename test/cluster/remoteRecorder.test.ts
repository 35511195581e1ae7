/**
 * Recorder nodes across real server processes on one Redis (issue 13): node-1 and node-4 are media
 * nodes only (CONFREC_CLUSTER_ROLES=media), node-2 and node-3 recorder nodes only. A composite of a
 * channel on a media node runs on a recorder node, which takes the channel's media over the media
 * link (RTP straight from the media node to its recorder at its rtpAddress); the stored file shows
 * every participant's colour in its tile. With room for one composite per recorder node, a third
 * start is refused at once with InvalidOperation ("the cluster is full") and leaves no recorder
 * process behind. The channel's media node SIGKILLed mid-recording: the peers rejoin through the
 * other media node, and the recording goes on in one file and shows them again.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { computeLayout } from '../../plugin/recording/layout';
import { apiClient, ApiAnswer } from '../backend/support';
import type { MediaChannel } from '../../signaling/client/index';
import { clusterPublisher } from '../support/clusterPublisher';
import { ClusterServer, pollFor, startCluster, TestCluster } from '../support/clusterServers';
import { colorName, frameAt, meanColor, probe } from '../support/mediaProbe';
import { privateRedis } from '../support/redisServer';
import { recorderChildren } from '../support/recorderChildren';
import { TEST_SECRET } from '../support/server';
import { roomForOneComposite } from '../support/recorderRoom';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
const RECONNECT = { attempts: 20, initialDelayMs: 300, maxDelayMs: 1000 };
/** Room for one composite of two publishers on the recorder node, not two. */
const CAPACITY = roomForOneComposite(2);
const CANVAS = { width: 320, height: 240, fps: 15, bitrateKbps: 400 };
const CONFIG = { transcodingConfig: { width: CANVAS.width, height: CANVAS.height, layout: 'BestFit' } };

let cluster: TestCluster;
const redis = privateRedis(t, async (started) => {
  cluster = await startCluster(started.url, TIMING, 4, {
    env: { CONFREC_RECORDING_CAPACITY_UNITS: String(CAPACITY) },
    nodeEnv: (index) => ({ CONFREC_CLUSTER_ROLES: index === 0 || index === 3 ? 'media' : 'recorder' }),
  });
  return cluster;
});

const api = (server: ClusterServer) => apiClient(server.url, 'confrec', TEST_SECRET);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


if (redis) {
  const nodes = () => cluster.servers as [ClusterServer, ClusterServer, ClusterServer, ClusterServer];
  const recorderNodes = () => [nodes()[1], nodes()[2]];
  const serverOf = (channel: MediaChannel): ClusterServer | undefined => cluster.servers.find((server) => server.wsUrl === channel.connectedUrl);
  const cleanup: Array<() => Promise<void> | void> = [];
  t.afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const publisher = (channelId: string, uid: string, color: number): Promise<MediaChannel> =>
    clusterPublisher({ entry: nodes()[0], servers: nodes(), reconnect: RECONNECT, cleanup }, channelId, uid, color);

  t.test('a composite of a channel on the media node runs on a recorder node, over the media link, and shows every participant', async (t) => {
    const recorders = recorderNodes();
    const red = await publisher('remote-rec', 'red', 0xff0000);
    await publisher('remote-rec', 'blue', 0x0000ff);
    const media = serverOf(red)!;
    t.notOk(recorders.includes(media), `the channel lives on a media node (${media.nodeId})`);
    await sleep(1000);

    const start = await api(media).request('POST', '/recordings', { channelName: 'remote-rec', recordingConfig: CONFIG });
    t.equal(start.status, 201, `POST /recordings at the media node is 201 (${JSON.stringify(start.body).slice(0, 160)})`);
    const started = start.body as { recordingId: string; nodeId: string; participants: string[] };
    const recorder = recorders.find((node) => node.nodeId === started.nodeId);
    t.ok(recorder, `it runs on a recorder node (${started.nodeId}), not on the media node`);
    t.equal(start.headers.get('x-confrec-node'), started.nodeId, 'answered by that recorder node');
    t.same(recorderChildren(media.child.pid), [], 'the media node runs no recorder');
    t.equal(recorderChildren(recorder!.child.pid).length, 1, 'the recorder node runs its recorder process');

    const participants = await pollFor(
      () => api(media).request('GET', `/recordings/${started.recordingId}`),
      ({ body }) => ((body as { participants?: string[] }).participants ?? []).length === 2,
      8000,
    );
    t.same([...(participants.body as { participants: string[] }).participants].sort(), ['blue', 'red'], 'both publishers go to the remote recorder');
    await sleep(5000);

    const stop = await api(media).request('POST', `/recordings/${started.recordingId}/stop`, {});
    t.equal(stop.status, 200, 'stopped through the media node');
    const stored: ApiAnswer = await pollFor(
      () => api(media).request('GET', `/recordings/${started.recordingId}`),
      ({ body }) => (body as { uploads?: { state: string }[] }).uploads?.some((upload) => upload.state === 'uploaded') === true,
      20_000,
    );
    const objectKey = (stored.body as { files: { objectKey: string }[] }).files[0]!.objectKey;
    const file = path.join(cluster.dir, recorder!.nodeId, 'recordings', objectKey);
    t.ok(fs.existsSync(file), `the file is stored on the recorder node (${objectKey})`);
    const tiles = computeLayout(CANVAS, 'BestFit', ['red', 'blue']);
    // Late in the file: each input shows from its first key frame on.
    const frame = await frameAt(file, (await probe(file)).durationS - 1);
    const colors = Object.fromEntries(tiles.map((tile) => [tile.uid, colorName(meanColor(frame, tile))]));
    t.same(colors, { red: 'red', blue: 'blue' }, 'each participant in its tile, in its colour');
  });

  t.test('with room for one composite per recorder node, a third start is refused at once: the cluster is full, no recorder left behind', async (t) => {
    const media = nodes()[0];
    const recorders = recorderNodes();
    const running: string[] = [];
    for (const channelId of ['full-a', 'full-b']) {
      await publisher(channelId, `${channelId}-red`, 0xff0000);
      await publisher(channelId, `${channelId}-blue`, 0x0000ff);
      const start = await api(media).request('POST', '/recordings', { channelName: channelId, recordingConfig: CONFIG });
      t.equal(start.status, 201, `${channelId} records (${(start.body as { nodeId?: string }).nodeId})`);
      running.push((start.body as { recordingId: string }).recordingId);
      cleanup.push(async () => void (await api(media).request('POST', `/recordings/${(start.body as { recordingId: string }).recordingId}/stop`, {})));
      // The next placement reads the heartbeat that counts this recording.
      await sleep(1000);
    }
    const placedOn = await Promise.all(running.map(async (id) => ((await api(media).request('GET', `/recordings/${id}`)).body as { nodeId: string }).nodeId));
    t.same([...placedOn].sort(), recorders.map((node) => node.nodeId).sort(), 'one on each recorder node (the most free room first)');
    const before = recorders.map((node) => recorderChildren(node.child.pid).length);

    await publisher('full-c', 'full-c-red', 0xff0000);
    const startedAt = Date.now();
    const refused = await api(media).request('POST', '/recordings', { channelName: 'full-c', recordingConfig: CONFIG });
    const elapsed = Date.now() - startedAt;
    t.equal(refused.status, 409, `the third start is refused (${JSON.stringify(refused.body).slice(0, 200)})`);
    t.equal((refused.body as { error?: { code?: string } }).error?.code, 'InvalidOperation', 'with InvalidOperation');
    t.match((refused.body as { error?: { message?: string } }).error?.message ?? '', /cluster is full/, 'saying the cluster is full');
    t.ok(elapsed < 2000, `at once (${elapsed} ms), not a recording stuck in connecting`);
    t.same(recorders.map((node) => recorderChildren(node.child.pid).length), before, 'no recorder process was started for it');
    const listed = await api(media).request('GET', '/recordings');
    t.notOk(
      ((listed.body as { recordings: { channelId: string }[] }).recordings ?? []).some((recording) => recording.channelId === 'full-c'),
      'and no recording of it is listed',
    );
  });

  t.test("the channel's media node SIGKILLed mid-recording: the peers rejoin on the other media node, and the recording goes on in one file and shows them again", async (t) => {
    const recorders = recorderNodes();
    const red = await publisher('survive', 'red', 0xff0000);
    const blue = await publisher('survive', 'blue', 0x0000ff);
    const media = serverOf(red)!;
    await sleep(1000);
    const start = await api(nodes()[0] === media ? nodes()[3] : nodes()[0]).request('POST', '/recordings', { channelName: 'survive', recordingConfig: { ...CONFIG, maxIdleTime: 30 } });
    t.equal(start.status, 201, 'recording');
    const { recordingId, nodeId } = start.body as { recordingId: string; nodeId: string };
    const recorder = recorders.find((node) => node.nodeId === nodeId)!;
    t.ok(recorder, `on recorder node ${nodeId}`);
    await sleep(3000);

    await media.kill();
    const killedAt = Date.now();
    const back = await pollFor(
      async () => [red, blue].map((peer) => ({ state: peer.connectionState, node: serverOf(peer) })),
      ([a, b]) => a!.state === 'connected' && b!.state === 'connected' && a!.node !== undefined && a!.node !== media && a!.node === b!.node,
      10_000,
      100,
    );
    t.ok(back.every((peer) => peer.state === 'connected' && peer.node && peer.node !== media), `the peers are back on ${back[0]?.node?.nodeId} within ${Date.now() - killedAt} ms`);
    const again = await pollFor(
      () => api(recorder).request('GET', `/recordings/${recordingId}`),
      ({ body }) => (body as { phase?: string }).phase === 'running' && (body as { participants?: string[] }).participants?.length === 2,
      15_000,
    );
    t.equal((again.body as { phase: string }).phase, 'running', 'the recording never stopped');
    await sleep(4000);

    const stop = await api(recorder).request('POST', `/recordings/${recordingId}/stop`, {});
    t.equal(stop.status, 200, 'stopped');
    const stored = await pollFor(
      () => api(recorder).request('GET', `/recordings/${recordingId}`),
      ({ body }) => (body as { uploads?: { state: string }[] }).uploads?.some((upload) => upload.state === 'uploaded') === true,
      20_000,
    );
    const files = (stored.body as { files: { objectKey: string }[] }).files;
    t.equal(files.length, 1, 'one file for the whole recording');
    const file = path.join(cluster.dir, recorder.nodeId, 'recordings', files[0]!.objectKey);
    const durationS = (await probe(file)).durationS;
    t.ok(durationS > 9, `it spans the recording before and after the media node's death (${durationS.toFixed(1)} s)`);
    const tiles = computeLayout(CANVAS, 'BestFit', ['red', 'blue']);
    const frame = await frameAt(file, durationS - 1);
    // The tiles' order is the order they came back in.
    const colors = tiles.map((tile) => colorName(meanColor(frame, tile))).sort();
    t.same(colors, ['blue', 'red'], 'after the rejoin both participants are in it again');
  });
}
