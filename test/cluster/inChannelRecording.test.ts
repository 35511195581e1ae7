/**
 * enableRecord in a cluster, across real server processes on one Redis: node-1 and node-2 are media
 * nodes only (CONFREC_CLUSTER_ROLES=media), node-3 a recorder node only, with room for one
 * composite. A peer's enableRecord on a channel of a media node is placed like a backend's start:
 * it runs on the recorder node, which takes the channel's media over the media link; the channel's
 * recordState and recordingId, and its recordingEvent broadcasts, follow that recording over the
 * wire as they follow one on the channel's own node; enableRecord(false) stops it there. With the
 * recorder node full, enableRecord is refused at once: InvalidOperation, "the cluster is full".
 * The recorder node checks an in-channel start passed on to it again, at its own boundary, without
 * echoing the storage secret.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { publishTestMedia, Publication } from '../../scripts/publishRtp';
import { buildLocalRecordParam } from '../../signaling/recordParam';
import type { MediaChannel } from '../../signaling/client/index';
import { apiClient } from '../backend/support';
import { ClusterServer, clusterChannel, pollFor, startCluster, TestCluster, token } from '../support/clusterServers';
import { colorName, frameAt, meanColor, probe } from '../support/mediaProbe';
import { privateRedis } from '../support/redisServer';
import { recorderChildren } from '../support/recorderChildren';
import { TEST_SECRET } from '../support/server';
import { roomForOneComposite } from '../support/recorderRoom';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
/** Room for one composite of one publisher on the recorder node, not two. */
const CAPACITY = roomForOneComposite(1);

let cluster: TestCluster;
const redis = privateRedis(t, async (started) => {
  cluster = await startCluster(started.url, TIMING, 3, {
    env: { CONFREC_RECORDING_CAPACITY_UNITS: String(CAPACITY) },
    nodeEnv: (index) => ({ CONFREC_CLUSTER_ROLES: index === 2 ? 'recorder' : 'media' }),
  });
  return cluster;
});

const api = (server: ClusterServer) => apiClient(server.url, 'confrec', TEST_SECRET);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type EnableAnswer = { accepted: boolean; recordingId?: string; recordState: string };
type Listed = { recordingId: string; channelId: string; nodeId: string; phase: string };

if (redis) {
  const nodes = () => cluster.servers as [ClusterServer, ClusterServer, ClusterServer];
  const recorder = () => nodes()[2];
  const serverOf = (channel: MediaChannel): ClusterServer | undefined => cluster.servers.find((server) => server.wsUrl === channel.connectedUrl);
  const cleanup: Array<() => Promise<void> | void> = [];
  t.afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** `uid` joins `channelId` through node-1 (following the REDIRECT to the channel's media node), publishing `color` unless undefined. */
  async function peer(channelId: string, uid: string, color?: number): Promise<MediaChannel> {
    const channel = clusterChannel(nodes()[0], nodes());
    let publication: Publication | undefined;
    cleanup.push(async () => {
      await publication?.stop().catch(() => undefined);
      await channel.close();
    });
    await channel.join(channelId, { token: token(channelId, uid), displayName: uid });
    if (color !== undefined) publication = await publishTestMedia({ client: channel.signaling!, color, width: 320, height: 240 });
    return channel;
  }

  const enableRecord = (channel: MediaChannel, data: { enable: boolean; recordParam?: { recordString: string } | null }) =>
    channel.signaling!.request('enableRecord', { recordParam: null, ...data }) as Promise<EnableAnswer>;

  const listed = async (server: ClusterServer): Promise<Listed[]> => ((await api(server).request('GET', '/recordings')).body as { recordings: Listed[] }).recordings;

  t.test("enableRecord on a media node's channel records on the recorder node; the channel's recordState follows it there and back; the file shows the publisher", async (t) => {
    const red = await peer('in-rec', 'red', 0xff0000);
    const watcher = await peer('in-rec', 'watcher');
    const media = serverOf(red)!;
    t.not(media, recorder(), `the channel lives on a media node (${media.nodeId})`);
    t.equal(serverOf(watcher), media, 'both peers are on it');
    t.equal(watcher.recordState, 'Ready', 'Ready at join (the default storage)');
    const states: string[] = [];
    watcher.on('propertyChange', ({ recordState }) => {
      if (recordState) states.push(watcher.recordState);
    });
    const events: string[] = [];
    watcher.on('recordingEvent', (event) => events.push(event.event));
    const uploaded = new Promise<{ fileName?: string }>((resolve) => watcher.on('recordingEvent', (event) => event.event === 'uploaded' && resolve(event)));
    await sleep(1000);

    const answer = await enableRecord(red, { enable: true, recordParam: { recordString: buildLocalRecordParam(true, 'in-rec/meeting') } });
    t.equal(answer.accepted, true, 'enableRecord(true) is accepted');
    t.equal(answer.recordState, 'Running', "the answer's recordState is Running");
    t.match(answer.recordingId, /^rec_/, `with the recording's id (${answer.recordingId})`);
    const recordingId = answer.recordingId!;
    // Should an assertion below fail first: the next test needs the recorder node's room.
    cleanup.push(async () => void (await api(media).request('POST', `/recordings/${recordingId}/stop`, {})));

    const recording = (await listed(media)).find((entry) => entry.recordingId === recordingId);
    t.equal(recording?.nodeId, recorder().nodeId, 'GET /recordings: it runs on the recorder node');
    t.equal(recording?.channelId, 'in-rec', 'of the channel');
    t.same(recorderChildren(media.child.pid), [], 'the media node runs no recorder');
    t.equal(recorderChildren(recorder().child.pid).length, 1, 'the recorder node runs the recorder process');
    await pollFor(async () => watcher.recordState, (state) => state === 'Running', 5000, 50);
    t.equal(watcher.recordState, 'Running', 'the other peer sees recordState Running over the wire');
    t.equal(watcher.properties.recordingId, recordingId, 'and the recordingId');
    t.equal(red.recordState, 'Running', 'so does the peer that started it');
    await t.rejects(enableRecord(watcher, { enable: true }), { code: 'InvalidOperation', message: /already being recorded/ }, 'a second enableRecord(true): the channel is already being recorded');
    await sleep(4000);

    const stop = await enableRecord(red, { enable: false });
    t.equal(stop.accepted, true, 'enableRecord(false) is accepted');
    t.equal(stop.recordState, 'Ready', "the answer's recordState is Ready again");
    await pollFor(async () => watcher.recordState, (state) => state === 'Ready', 5000, 50);
    t.equal(watcher.recordState, 'Ready', 'the other peer sees Ready');
    t.equal(watcher.properties.recordingId, null, 'and no recordingId');
    t.same(states, ['Running', 'Ready'], 'the watcher saw Running, then Ready');
    const stopped = await pollFor(() => listed(media), (all) => all.find((entry) => entry.recordingId === recordingId)?.phase === 'stopped', 5000);
    t.equal(stopped.find((entry) => entry.recordingId === recordingId)?.phase, 'stopped', 'the recording on the recorder node stopped');
    await t.rejects(enableRecord(red, { enable: false }), { code: 'InvalidOperation', message: /not being recorded/ }, 'enableRecord(false) again: the channel is not being recorded');

    const { fileName } = await Promise.race([uploaded, sleep(30_000).then(() => ({ fileName: undefined }))]);
    t.match(fileName, /^in-rec\/meeting_\d{8}-\d{6}_[0-9a-f]{8}\.mp4$/, `the channel heard 'uploaded', of the file named from the record param (${fileName})`);
    t.same(events.filter((event) => event === 'started' || event === 'stopped'), ['started', 'stopped'], "the channel heard the recording's started and stopped events");
    const file = path.join(cluster.dir, recorder().nodeId, 'recordings', fileName ?? 'missing');
    t.ok(fs.existsSync(file), 'the file is stored on the recorder node');
    const info = await probe(file);
    t.ok(info.streams.some((stream) => stream.codec_type === 'video' && stream.codec_name === 'h264'), 'it has H.264 video');
    t.ok(info.durationS >= 3, `of about the recording's length (${info.durationS.toFixed(1)} s)`);
    // Float, one participant: the publisher fills the canvas.
    const frame = await frameAt(file, info.durationS - 1);
    t.equal(colorName(meanColor(frame, { x: 0, y: 0, width: frame.width, height: frame.height })), 'red', "it shows the publisher's colour");
  });

  t.test('with the recorder node full, enableRecord is refused at once: InvalidOperation, the cluster is full', async (t) => {
    const first = await peer('full-a', 'full-a-red', 0xff0000);
    await sleep(1000);
    const running = await enableRecord(first, { enable: true });
    t.equal(running.recordState, 'Running', 'a first channel records (on the recorder node, its only room)');
    cleanup.push(async () => void (await enableRecord(first, { enable: false }).catch(() => undefined)));
    // The next placement reads the heartbeat that counts this recording.
    await sleep(1000);
    const before = recorderChildren(recorder().child.pid).length;

    const second = await peer('full-b', 'full-b-red', 0x0000ff);
    await sleep(1000);
    const startedAt = Date.now();
    await t.rejects(enableRecord(second, { enable: true }), { code: 'InvalidOperation', message: /the cluster is full/ }, "a second channel's enableRecord: InvalidOperation, the cluster is full");
    const elapsed = Date.now() - startedAt;
    t.ok(elapsed < 2000, `at once (${elapsed} ms)`);
    t.equal(second.recordState, 'Ready', 'its channel stays Ready');
    t.equal(recorderChildren(recorder().child.pid).length, before, 'no recorder process was started for it');
    t.notOk((await listed(serverOf(second)!)).some((entry) => entry.channelId === 'full-b'), 'and no recording of it is listed');
  });

  t.test("the recorder node checks a passed-on in-channel start at its boundary: credentials, who, file name, storage, endpoint policy; no secret echoed", async (t) => {
    const secretKey = 'S3CRET-in-channel-0123456789';
    const logged: string[] = [];
    const onLog = (chunk: Buffer): void => void logged.push(chunk.toString());
    recorder().child.stderr!.on('data', onLog);
    t.teardown(() => void recorder().child.stderr!.off('data', onLog));
    const before = recorderChildren(recorder().child.pid).length;
    const storage = { vendor: 's3', region: 'eu-west-1', bucket: 'in-channel-bucket', accessKey: 'AKIA-in-channel-01', secretKey };
    const valid = { channelId: 'boundary', channelType: 'Communication', video: true, fileName: 'boundary/a', storage, startedBy: 'peer:mallory' };
    const call = (data: unknown, secret = TEST_SECRET) =>
      apiClient(recorder().url, 'confrec', secret).request('POST', '/cluster/recorder', { method: 'startChannelRecording', data });
    const refusals: Array<[string, unknown, RegExp]> = [
      ['startedBy other than peer:<uid>', { ...valid, startedBy: 'backend:mallory' }, /data\.startedBy/],
      ['an unknown field', { ...valid, recordingConfig: { maxIdleTime: 1 } }, /data\.recordingConfig/],
      ['a file name out of its prefix', { ...valid, fileName: '../escape' }, /fileName/],
      ['a storage target without its region', { ...valid, storage: { ...storage, region: undefined } }, /data\.storage\.region/],
      ['an endpoint the endpoint policy does not allow', { ...valid, storage: { ...storage, endpoint: 'http://203.0.113.9:9000' } }, /allowedStorageEndpoints/],
    ];
    for (const [what, data, message] of refusals) {
      const answer = await call(data);
      const error = (answer.body as { error?: { code?: string; message?: string } }).error;
      t.equal(answer.status, 400, `${what}: 400`);
      t.equal(error?.code, 'InvalidParameter', `${what}: InvalidParameter`);
      t.match(error?.message ?? '', message, `${what}: naming it (${error?.message})`);
      t.notOk(JSON.stringify(answer.body).includes(secretKey), `${what}: the secret is not in the answer`);
    }
    t.equal((await call(valid, 'wrong-secret')).status, 401, "without the cluster's API credentials: 401");
    t.equal(recorderChildren(recorder().child.pid).length, before, 'no recorder process was started');
    t.notOk(logged.join('').includes(secretKey), "the secret is in none of the recorder node's log lines");
  });
}
