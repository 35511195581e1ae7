/**
 * The recorder decodes only what the canvas shows: a simulcast producer (3 VP8 encodings, 160×90 /
 * 320×180 / 640×360 at 30 fps, 3 temporal layers each) in a 4-tile 640×360@15 composite. Real server, real mediasoup, a real recorder, and
 * gst-launch publishers; the layers are read from the recorder's own mediasoup consumer and the
 * size from the frames the recorder decodes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { types as ms } from 'mediasoup';
import t from 'tap';
import { watchConsumers } from '../support/consumerWatch';
import { publishTestMedia, stopProcess, type Publication } from '../../scripts/publishRtp';
import type { SignalingClient } from '../../signaling/SignalingClient';
import { computeLayout, type Tile } from '../../plugin/recording/layout';
import { startBackendServer, startVideoComposite } from '../backend/support';
import { changedShare, colorName, framesBetween, longestStillRun, meanColor, probe } from '../support/mediaProbe';
import { sleep, until } from '../support/recordingServer';
import { ResizingPublisher } from '../support/resizingPublisher';
import { Vp8LayerTagger } from '../support/vp8LayerTagger';

/**
 * A 640×360@30 camera as three VP8 encodings (160×90, 320×180, 640×360; the top size told in the
 * producer's declared videoSize) with L1T3 temporal layers (TL0 7.5, TL1 15, TL2 30 fps): key frames only from
 * gst-launch, tagged with their layers by Vp8LayerTagger (why: see there).
 */
async function publishLayeredSimulcast(client: SignalingClient): Promise<{ producerId: string; stop: () => Promise<void> }> {
  const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
  const ssrcs = [32_000_001, 32_000_002, 32_000_003];
  const { producerId } = await client.request('produce', {
    transportId: transport.transportId,
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
      encodings: [4, 2, 1].map((scaleResolutionDownBy, index) => ({ ssrc: ssrcs[index]!, scaleResolutionDownBy, scalabilityMode: 'L1T3' })),
    },
    videoSize: { width: 640, height: 360 },
  });
  const tagger = await Vp8LayerTagger.start({ ip: transport.ip, port: transport.port });
  // rtpbin sends each stream's sender reports: mediasoup switches a consumer between simulcast
  // streams only once it can map their timestamps onto each other (NTP in the SRs).
  const encode = (width: number, height: number, ssrc: number, session: number): string =>
    `t. ! queue ! videoscale ! video/x-raw,width=${width},height=${height} ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=1 target-bitrate=${width * 2000} ` +
    `! rtpvp8pay pt=101 ssrc=${ssrc} picture-id-mode=2 mtu=1200 ! rb.send_rtp_sink_${session} rb.send_rtp_src_${session} ! f. rb.send_rtcp_src_${session} ! f.`;
  const launch =
    `rtpbin name=rb videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 ! tee name=t ` +
    `funnel name=f ! udpsink host=127.0.0.1 port=${tagger.port} sync=false async=false ` +
    `${encode(160, 90, ssrcs[0]!, 0)} ${encode(320, 180, ssrcs[1]!, 1)} ${encode(640, 360, ssrcs[2]!, 2)}`;
  let stderr = '';
  const child = spawn('gst-launch-1.0', ['-q', ...launch.split(/\s+/)], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code) => {
    if (code) t.comment(`simulcast publisher exited ${code}: ${stderr}`);
  });
  return {
    producerId,
    stop: async () => {
      await stopProcess(child);
      tagger.close();
    },
  };
}

const CANVAS = { width: 640, height: 360 };

/** A span of the recording (wall clock ms) and whether `sim` had the big tile in it. */
interface Phase {
  name: string;
  fromMs: number;
  toMs: number;
  big: boolean;
}

/** Vertical with sim as maxResolutionUid: sim's tile is the big one, on the left. */
const BIG_TILE = computeLayout(CANVAS, 'Vertical', ['sim', 'u1', 'u2', 'u3'], 'sim')[0]!;

/** The BestFit tile (of `users`) in `frame` that is not one of the solid red, green, blue publishers. */
/**
 * The camera's tile in a BestFit layout of `users`: the one tile whose picture changes from frame to
 * frame over the second before `atS` (the others show still colours). By colour alone it was flaky:
 * the test pattern's mean now and then came within reach of red, green or blue. Two frames alone do
 * not do either: the ball pattern comes back to where it was.
 */
async function cameraTile(file: string, atS: number, users: number): Promise<Tile> {
  const tiles = computeLayout(CANVAS, 'BestFit', Array.from({ length: users }, (_, index) => `user${index}`));
  const frames = await framesBetween(file, atS - 1, atS);
  const changes = (tile: Tile): number => frames.slice(1).filter((frame, index) => changedShare(frames[index]!, frame, tile) > 0).length;
  const moving = tiles.filter((tile) => changes(tile) >= (frames.length - 1) / 2);
  if (moving.length !== 1) {
    const seen = tiles.map((tile) => `${colorName(meanColor(frames.at(-1)!, tile))} (${changes(tile)} of ${frames.length - 1} changed)`);
    throw new Error(`at ${atS.toFixed(2)} s: expected one moving (camera) tile, found ${moving.length}: ${seen.join(', ')}`);
  }
  return moving[0]!;
}

/** Longer than this without a change in a tile of moving content is a freeze (a loaded machine's hiccups stay below 1 s). */
const FROZEN_S = 1.5;

/**
 * How long `tile` stood still at most within the phase, from every decoded frame (times in the file:
 * wall clock minus the recording's start, less half a second at each end for the layout switch).
 */
async function longestStill(file: string, phase: Phase, tile: Tile, startedAt: number): Promise<{ stillS: number; span: string }> {
  const from = (phase.fromMs - startedAt) / 1000 + 0.5;
  const to = (phase.toMs - startedAt) / 1000 - 0.5;
  const frames = await framesBetween(file, from, to);
  const stillS = frames.length < 2 ? Infinity : longestStillRun(frames, tile) / (frames.length / (to - from));
  return { stillS, span: `${from.toFixed(1)}–${to.toFixed(1)} s, ${frames.length} frames, at most ${stillS.toFixed(2)} s still` };
}

t.test('a composite decodes the simulcast layer that fills its tile, at the canvas fps, and re-picks when the tile grows', async (t) => {
  const consumers = watchConsumers();
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const channel = 'layers';

  const sim = await env.join(channel, 'sim');
  const camera = await publishLayeredSimulcast(sim.client);
  t.teardown(camera.stop);
  const others: Publication[] = [];
  for (const [index, uid] of ['u1', 'u2', 'u3'].entries()) {
    const { client } = await env.join(channel, uid);
    others.push(await publishTestMedia({ client, color: [0xff0000, 0x00ff00, 0x0000ff][index], width: 160, height: 90, audio: false }));
  }
  t.teardown(() => Promise.all(others.map((publication) => publication.stop())));
  await sleep(1500);

  const started = await startVideoComposite(env, channel);
  t.equal(started.status, 201, 'composite started');
  const { recordingId } = started;
  const recording = started.recording!;

  const recorderConsumer = consumers.find((consumer) => consumer.producerId === camera.producerId && !consumer.closed);
  t.ok(recorderConsumer, "the recorder's consumer of the simulcast producer");
  t.equal(recorderConsumer!.type, 'simulcast');
  const layersAre = (spatialLayer: number, temporalLayer: number): boolean =>
    recorderConsumer!.currentLayers?.spatialLayer === spatialLayer && recorderConsumer!.currentLayers?.temporalLayer === temporalLayer;
  const decodedWidth = async (): Promise<number | undefined> => (await recording.decodedSizes()).get(camera.producerId)?.width;
  // Spans of the recording from the moment the recorder decodes a layer, for the file's checks.
  const phases: Phase[] = [];
  let phaseStart = 0;
  const endPhase = (name: string, big: boolean): void => void phases.push({ name, fromMs: phaseStart, toMs: Date.now(), big });

  // BestFit, 4 users on 640×360: 320×180 tiles. The 320×180 layer covers one; 15 fps is TL1 of 30.
  t.ok(await until(() => layersAre(1, 1), 10_000), `consumer sends S1T1 (now ${JSON.stringify(recorderConsumer!.currentLayers)})`);
  t.same(recorderConsumer!.preferredLayers, { spatialLayer: 1, temporalLayer: 1 }, 'preferred: the fitted layer at 15 fps');
  let width: number | undefined;
  t.ok(await until(() => (void decodedWidth().then((w) => (width = w)), width === 320), 10_000), `the recorder decodes 320-wide frames (${width})`);
  t.same((await recording.decodedSizes()).get(camera.producerId), { width: 320, height: 180 }, 'decoded 320×180');
  phaseStart = Date.now();
  await sleep(4000);
  endPhase('320×180 input, small tile', false);

  // Vertical with sim large: its tile is 512×360, which only the 640×360 layer covers.
  const layout = await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Vertical', maxResolutionUid: 'sim' });
  t.equal(layout.status, 200, 'layout changed');
  t.ok(await until(() => layersAre(2, 1), 10_000), `consumer switches to S2T1 (now ${JSON.stringify(recorderConsumer!.currentLayers)})`);
  t.ok(await until(() => (void decodedWidth().then((w) => (width = w)), width === 640), 10_000), `the recorder decodes 640-wide frames (${width})`);
  t.same((await recording.decodedSizes()).get(camera.producerId), { width: 640, height: 360 }, 'decoded 640×360');
  phaseStart = Date.now();
  await sleep(4000);
  endPhase('640×360 input, big tile', true);

  // Back to small tiles: back to the small layer.
  t.equal((await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'BestFit' })).status, 200);
  t.ok(await until(() => layersAre(1, 1), 10_000), `back to S1T1 (now ${JSON.stringify(recorderConsumer!.currentLayers)})`);
  t.ok(await until(() => (void decodedWidth().then((w) => (width = w)), width === 320), 10_000), `the recorder decodes 320-wide frames again (${width})`);
  phaseStart = Date.now();
  await sleep(4000);
  endPhase('320×180 input again, small tile', false);

  // A second camera of sim is not drawn (a user's first video is their tile): it is not even sent.
  const second = await publishTestMedia({ client: sim.client, color: 0xffffff, width: 160, height: 90, audio: false });
  t.teardown(second.stop);
  let hidden: ms.Consumer | undefined;
  t.ok(await until(() => !!(hidden = consumers.find((consumer) => consumer.producerId === second.videoProducerId && !consumer.closed)), 10_000), 'the second video is consumed');
  await recording.inputsWired();
  t.ok(await until(() => hidden!.paused, 5000), 'its consumer stays paused: nothing of it is decoded');
  t.notOk(recorderConsumer!.paused, 'the drawn one flows');

  const stoppedAt = Date.now();
  const startedAt = recording.startedAt;
  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'stopped');

  t.test('the tile keeps moving in the file while its input size changes 320→640→320', async (t) => {
    const uploaded = () => env.recording.engine.list().flatMap((status) => status.uploads).filter((upload) => upload.state === 'uploaded');
    t.ok(await until(() => uploaded().length > 0, 30_000), 'the file is stored');
    const file = path.join(env.server.config.recording.recordingsDir, uploaded()[0]!.objectKey);
    const info = await probe(file);
    const recordedS = (stoppedAt - startedAt) / 1000;
    t.ok(info.durationS > recordedS - 2.5, `the file lasts ${info.durationS.toFixed(1)} s of the ${recordedS.toFixed(1)} s recorded`);
    // Found inside a small-tile phase: the file's last half second follows the consumers' closing (stop
    // tears the media down first) and the tile there may be still.
    const lastSmall = phases.filter((phase) => !phase.big).at(-1)!;
    const smallTile = await cameraTile(file, (lastSmall.fromMs + lastSmall.toMs) / 2000 - startedAt / 1000, 4);
    for (const phase of phases) {
      const { stillS, span } = await longestStill(file, phase, phase.big ? BIG_TILE : smallTile, startedAt);
      t.ok(stillS < FROZEN_S, `${phase.name}: the tile moves (${span})`);
    }
  });
});

/**
 * GStreamer 1.22: aspectratiocrop's inner videocrop keeps the previous picture's crop while a smaller
 * picture's caps are negotiated, so anything that negotiates between the decoder and the crop
 * (videoconvert, or the old graph's intervideosink/src) failed with not-negotiated when the crop was
 * at least the new width: fatal for the recording. The crop sits straight after the decoder now.
 */
t.test('a tile that crops its input keeps moving when the input shrinks to half size and grows back', async (t) => {
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const channel = 'shrinking';
  const cam = await env.join(channel, 'cam');
  const camera = await ResizingPublisher.start(cam.client, { width: 640, height: 360 });
  t.teardown(() => camera.stop());
  const { client } = await env.join(channel, 'u1');
  const other = await publishTestMedia({ client, color: 0xff0000, width: 160, height: 90, audio: false });
  t.teardown(other.stop);

  // BestFit, two users on 640×360: 320×360 tiles, so a 640×360 picture loses 320 of its columns.
  const started = await startVideoComposite(env, channel);
  t.equal(started.status, 201, 'composite started');
  const { recordingId } = started;
  const recording = started.recording!;
  const fatal: string[] = [];
  recording.on('fatalError', (code, message) => fatal.push(`${code}: ${message}`));
  let decoded: { width: number; height: number } | undefined;
  const decodes = (width: number): Promise<boolean> =>
    until(() => (void recording.decodedSizes().then((sizes) => (decoded = sizes.get(camera.producerId))), decoded?.width === width), 10_000);

  const phases: Phase[] = [];
  for (const [name, size] of [
    ['640×360 input', { width: 640, height: 360 }],
    ['320×180 input', { width: 320, height: 180 }],
    ['640×360 input again', { width: 640, height: 360 }],
  ] as const) {
    camera.resize(size);
    t.ok(await decodes(size.width), `${name}: the recorder decodes ${size.width}-wide frames (${JSON.stringify(decoded)})`);
    const fromMs = Date.now();
    await sleep(4000);
    phases.push({ name, fromMs, toMs: Date.now(), big: false });
  }
  t.same(fatal, [], 'the recording did not fail');
  t.equal(recording.phase, 'running', `still running (${recording.phase})`);
  const stoppedAt = Date.now();
  const startedAt = recording.startedAt;
  await env.api.request('POST', `/recordings/${recordingId}/stop`);
  const uploaded = () => env.recording.engine.list().flatMap((status) => status.uploads).filter((upload) => upload.state === 'uploaded');
  t.ok(await until(() => uploaded().length > 0, 30_000), 'the file is stored');
  const file = path.join(env.server.config.recording.recordingsDir, uploaded()[0]!.objectKey);
  const info = await probe(file);
  t.ok(info.durationS > (stoppedAt - startedAt) / 1000 - 2.5, `the file lasts ${info.durationS.toFixed(1)} s of the ${((stoppedAt - startedAt) / 1000).toFixed(1)} s recorded`);
  const camTile = await cameraTile(file, (phases[0]!.toMs - startedAt) / 1000 - 0.5, 2);
  for (const phase of phases) {
    if ((phase.toMs - startedAt) / 1000 - 1 > info.durationS) {
      t.fail(`${phase.name}: not in the file`);
      continue;
    }
    const { stillS, span } = await longestStill(file, phase, camTile, startedAt);
    t.ok(stillS < FROZEN_S, `${phase.name}: the tile moves (${span})`);
  }
});
