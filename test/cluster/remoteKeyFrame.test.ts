/**
 * Key frames across a media link, over real parts: a real redis-server, node-1 a media node only
 * (CONFREC_CLUSTER_ROLES=media) and node-2 a recorder node only, and Debian's Chromium publishing a
 * solid red camera through the web page into a channel on node-1. libwebrtc's VP8 sends no periodic
 * key frames (checked: none while nobody asks), so every key frame after the first is an answer to
 * a request that reached the browser.
 *
 * A composite started through node-1's HTTP API, seconds after the publisher's first key frame,
 * runs on node-2: the browser is asked for a key frame (its RTCOutboundRtpStreamStats pliCount)
 * and encodes one (keyFramesEncoded), node-2 asked over the link, and the file shows the red within
 * 2 s of its start. Then every packet to the recorder's UDP ports is lost for half a second (an
 * `ip rule` blackhole: root): now only the recorder's RTCP can ask for the key frame it needs.
 * node-1 counts PLIs in node-2's RTCP (confrec_media_link_key_frame_requests_total{via="rtcp"}:
 * mediasoup traces a consumer's incoming PLIs only when they come in its remote end's RTCP), the
 * browser receives a PLI and encodes a key frame, and the file shows the red again to its end.
 * With the recorder's RTCP not reaching node-1 none of that happens (the tile stays broken).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { apiClient } from '../backend/support';
import { launchBrowser, watchPeerConnections } from '../support/browser';
import { ClusterServer, pollFor, startCluster, TestCluster, token } from '../support/clusterServers';
import { colorName, decodeAll, frameAt, meanColor, probe } from '../support/mediaProbe';
import { scrapeMetrics } from '../support/metricsText';
import { recorderChildren } from '../support/recorderChildren';
import { privateRedis } from '../support/redisServer';
import { TEST_SECRET } from '../support/server';
import { UdpBlackhole } from '../support/udpBlackhole';
import { udpPortsOf } from '../support/udpPorts';
import { buildWeb } from '../support/web';

const TIMING = { nodeTimeoutMs: 1500, leaseMs: 2000 };
const CANVAS = { width: 320, height: 240 };
const CONFIG = { transcodingConfig: { ...CANVAS, layout: 'BestFit' } };
const CHANNEL = 'keyframes';
const CREDENTIALS = { appId: 'confrec', secret: TEST_SECRET };
/** How long the publisher sends before the recording starts: its first key frame is long past. */
const PUBLISHED_BEFORE_START_MS = 5000;
/** Windows in which nobody asks for a key frame, and the browser must encode none. */
const QUIET_MS = 1500;
/** How long every packet to the recorder's UDP ports is lost. */
const LOSS_MS = 500;

let cluster: TestCluster;
const redis = privateRedis(t, async (started) => {
  cluster = await startCluster(started.url, TIMING, 2, { nodeEnv: (index) => ({ CONFREC_CLUSTER_ROLES: index === 0 ? 'media' : 'recorder' }) });
  return cluster;
});
const lossUnavailable = UdpBlackhole.unavailableReason();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A y4m clip of one solid colour, which Chromium's fake camera plays in a loop. */
function solidColorCamera(dir: string, color: string): string {
  const file = path.join(dir, `${color}.y4m`);
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `color=c=${color}:size=${CANVAS.width}x${CANVAS.height}:rate=15`, '-frames:v', '15', '-pix_fmt', 'yuv420p', '-y', file]);
  return file;
}

/** The browser's own account of its video encoder and sender (RTCOutboundRtpStreamStats). */
interface VideoSenderStats {
  framesEncoded: number;
  keyFramesEncoded: number;
  pliCount: number;
  frameWidth: number;
}

async function videoSenderStats(page: Page): Promise<VideoSenderStats> {
  const stats = await page.evaluate(async () => {
    for (const connection of (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections) {
      const reports = [...(await connection.getStats()).values()] as Array<Record<string, unknown>>;
      const video = reports.find((report) => report.type === 'outbound-rtp' && report.kind === 'video');
      if (video) {
        const count = (name: string): number => Number(video[name] ?? 0);
        return { framesEncoded: count('framesEncoded'), keyFramesEncoded: count('keyFramesEncoded'), pliCount: count('pliCount'), frameWidth: count('frameWidth') };
      }
    }
    return undefined;
  });
  if (!stats) throw new Error('the page sends no video');
  return stats;
}

/** What node-1's /metrics says recorder nodes asked of it, by how. */
async function keyFrameRequests(node: ClusterServer): Promise<{ rtcp: number; link: number }> {
  const { metrics } = await scrapeMetrics(node.url, CREDENTIALS);
  const count = (via: string): number => metrics?.value('confrec_media_link_key_frame_requests_total', { via }) ?? NaN;
  return { rtcp: count('rtcp'), link: count('link') };
}

/**
 * A `QUIET_MS` window in which the encoder must make no key frame and no recorder node asks node-1
 * for one; resolves with the stats at its end.
 */
async function quietWindow(t: Test, page: Page, media: ClusterServer, what: string): Promise<{ stats: VideoSenderStats; requests: { rtcp: number; link: number } }> {
  const from = { stats: await videoSenderStats(page), requests: await keyFrameRequests(media) };
  await sleep(QUIET_MS);
  const to = { stats: await videoSenderStats(page), requests: await keyFrameRequests(media) };
  t.ok(to.stats.framesEncoded > from.stats.framesEncoded, `the browser sends video (${to.stats.framesEncoded} frames, ${to.stats.frameWidth} px wide)`);
  t.same(to.requests, from.requests, `${what}, no recorder node asks for a key frame (${JSON.stringify(to.requests)})`);
  t.equal(to.stats.keyFramesEncoded, from.stats.keyFramesEncoded, `nor does the browser encode one (${from.stats.keyFramesEncoded} → ${to.stats.keyFramesEncoded} in ${QUIET_MS} ms)`);
  return to;
}

if (redis) {
  t.test('a recording on a recorder node gets key frames from a real publisher: at its start over the link, after a loss over RTCP', async (t) => {
    buildWeb();
    const [media, recorder] = cluster.servers as [ClusterServer, ClusterServer];
    const api = apiClient(media.url, CREDENTIALS.appId, CREDENTIALS.secret);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-keyframe-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-video-capture=${solidColorCamera(dir, 'red')}`] });
    t.teardown(() => browser.close());
    await watchPeerConnections(browser);
    const { page } = browser;
    await page.goto(`${media.url}/?${new URLSearchParams({ channel: CHANNEL, name: 'red', token: token(CHANNEL, 'red') })}`);
    await page.click('#join');
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'connected', undefined, { timeout: 30_000 });

    const sending = await pollFor(() => videoSenderStats(page), (stats) => stats.framesEncoded > 0, 20_000);
    t.ok(sending.framesEncoded > 0, 'the browser publishes its camera on node-1');
    await sleep(PUBLISHED_BEFORE_START_MS - QUIET_MS);
    const beforeStart = (await quietWindow(t, page, media, 'While nobody records')).stats;
    t.same(await keyFrameRequests(media), { rtcp: 0, link: 0 }, 'no recorder node has asked node-1 for a key frame yet');

    const startedAt = Date.now();
    const start = await api.request('POST', '/recordings', { channelName: CHANNEL, recordingConfig: CONFIG });
    t.equal(start.status, 201, `POST /recordings at node-1 is 201 (${JSON.stringify(start.body).slice(0, 160)})`);
    const { recordingId, nodeId } = start.body as { recordingId: string; nodeId: string };
    t.equal(nodeId, recorder.nodeId, 'the recording runs on the recorder node');
    t.equal(start.headers.get('x-confrec-node'), recorder.nodeId, 'answered by the recorder node');

    const started = await pollFor(() => videoSenderStats(page), (stats) => stats.keyFramesEncoded > beforeStart.keyFramesEncoded, 10_000);
    t.ok(started.pliCount > beforeStart.pliCount, `the browser was asked for a key frame (PLIs ${beforeStart.pliCount} → ${started.pliCount})`);
    t.ok(started.keyFramesEncoded > beforeStart.keyFramesEncoded, `and encoded one within ${Date.now() - startedAt} ms of the start (${beforeStart.keyFramesEncoded} → ${started.keyFramesEncoded})`);
    t.ok((await keyFrameRequests(media)).link > 0, 'node-2 asked node-1 for it over the link as the input started');

    let lossEndedAt: number | undefined;
    await t.test('a loss between the nodes is repaired over RTCP', { skip: lossUnavailable ?? false }, async (t) => {
      lossEndedAt = await loseAndRepair(t, page, media, recorder);
    });

    await sleep(2000);
    const stoppedAt = Date.now();
    const stop = await api.request('POST', `/recordings/${recordingId}/stop`, {});
    t.equal(stop.status, 200, 'stopped through node-1');
    const stored = await pollFor(
      () => api.request('GET', `/recordings/${recordingId}`),
      ({ body }) => (body as { uploads?: { state: string }[] }).uploads?.some((upload) => upload.state === 'uploaded') === true,
      20_000,
    );
    t.equal((stored.body as { nodeId?: string }).nodeId, recorder.nodeId, "the recording's view names the recorder node");
    const objectKey = (stored.body as { files: { objectKey: string }[] }).files[0]!.objectKey;
    const file = path.join(cluster.dir, recorder.nodeId, 'recordings', objectKey);
    const decoded = await decodeAll(file);
    t.ok(decoded.ok, `the stored file decodes${decoded.ok ? "" : ` (${decoded.stderr.slice(0, 200)})`}`);
    const { durationS } = await probe(file);
    const whole = { x: 0, y: 0, ...CANVAS };
    const colorAt = async (atS: number): Promise<string> => colorName(meanColor(await frameAt(file, atS), whole));
    let firstRedS: number | undefined;
    for (const atS of [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]) {
      if ((await colorAt(atS)) === 'red') {
        firstRedS = atS;
        break;
      }
    }
    t.ok(firstRedS !== undefined, `the publisher's red shows from ${firstRedS ?? '(not within 2)'} s into the ${durationS.toFixed(1)} s file`);
    const lastS = durationS - 0.5;
    const after = lossEndedAt === undefined ? '' : `, about ${((stoppedAt - lossEndedAt) / 1000 - 0.5).toFixed(1)} s after the loss ended`;
    t.equal(await colorAt(lastS), 'red', `and at ${lastS.toFixed(1)} s${after}`);
  });
}

/**
 * Once the recording's start settled, loses every packet to the recorder's UDP ports for LOSS_MS,
 * then waits for the repair: a PLI in the recorder's RTCP counted by node-1, passed on to the
 * browser, a key frame encoded. Resolves with when the loss ended (epoch ms).
 */
async function loseAndRepair(t: Test, page: Page, media: ClusterServer, recorder: ClusterServer): Promise<number> {
  // The link's requests end with the recorder's first frame.
  await sleep(1500);
  const { stats: beforeLoss, requests: requestsBefore } = await quietWindow(t, page, media, 'While the recording runs unharmed');
  const ports = udpPortsOf(recorderChildren(recorder.child.pid)[0]!, recorder.ip);
  t.ok(ports.length >= 2, `the recorder receives on ${recorder.ip} at ports ${ports.join(', ')}`);
  const hole = UdpBlackhole.drop(recorder.ip, ports);
  t.teardown(hole.restore);
  await sleep(LOSS_MS);
  hole.restore();
  const lossEndedAt = Date.now();
  const repaired = await pollFor(
    async () => ({ requests: await keyFrameRequests(media), stats: await videoSenderStats(page) }),
    ({ requests, stats }) => requests.rtcp > requestsBefore.rtcp && stats.keyFramesEncoded > beforeLoss.keyFramesEncoded,
    10_000,
  );
  t.ok(repaired.requests.rtcp > requestsBefore.rtcp, `after a ${LOSS_MS} ms loss node-1 received PLIs in node-2's RTCP (${requestsBefore.rtcp} → ${repaired.requests.rtcp})`);
  t.equal(repaired.requests.link, requestsBefore.link, 'and none over the link: RTCP asked alone');
  t.ok(repaired.stats.pliCount > beforeLoss.pliCount, `mediasoup passed a PLI on to the browser (${beforeLoss.pliCount} → ${repaired.stats.pliCount})`);
  t.ok(
    repaired.stats.keyFramesEncoded > beforeLoss.keyFramesEncoded,
    `which encoded a key frame (${beforeLoss.keyFramesEncoded} → ${repaired.stats.keyFramesEncoded}) within ${Date.now() - lossEndedAt} ms of the loss's end`,
  );
  return lossEndedAt;
}
