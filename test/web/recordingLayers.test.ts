// A Chromium camera published through the page (simulcast by default) in a 4-tile composite: the
// recorder's consumer of it sends the layer that fills its tile at the canvas frame rate, the recorder
// decodes frames of that layer's size, and a layout giving the camera the big tile switches both to
// a larger layer — read from the server's mediasoup consumer, the recorder's decoded input size and
// Chromium's own outbound RTP statistics.
import t from 'tap';
import { watchConsumers } from '../support/consumerWatch';
import type { Page } from 'playwright-core';
import { installWebRoutes } from '../../server/http/webRoutes';
import { publishTestMedia, type Publication } from '../../scripts/publishRtp';
import { startBackendServer, startVideoComposite } from '../backend/support';
import { launchBrowser, watchPeerConnections } from '../support/browser';
import { pollFor } from '../support/clusterServers';
import { buildWeb } from '../support/web';

const CHANNEL = 'recorded-layers';

/** Chromium's encoded size of each simulcast rid (mediasoup-client names them r0, r1, r2, smallest first). */
async function outboundSizes(page: Page): Promise<Map<string, { width: number; height: number }>> {
  const streams = await page.evaluate(async () => {
    const found: { rid: string; width: number; height: number; frames: number }[] = [];
    for (const connection of (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections) {
      for (const report of (await connection.getStats()).values() as IterableIterator<Record<string, unknown>>) {
        if (report.type !== 'outbound-rtp' || report.kind !== 'video' || typeof report.rid !== 'string') continue;
        found.push({ rid: report.rid, width: Number(report.frameWidth ?? 0), height: Number(report.frameHeight ?? 0), frames: Number(report.framesEncoded ?? 0) });
      }
    }
    return found;
  });
  return new Map(streams.filter((stream) => stream.frames > 0).map((stream) => [stream.rid, { width: stream.width, height: stream.height }]));
}

t.test("a 4-tile composite's recorder decodes the page camera's layer that fits its tile, and a larger one when the tile grows", async (t) => {
  const startedAt = Date.now();
  const consumers = watchConsumers();
  buildWeb();
  const env = await startBackendServer();
  t.teardown(() => env.close());
  installWebRoutes(env.server);

  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  await watchPeerConnections(browser);
  const { page } = browser;
  // No ?simulcast: the page's default.
  await page.goto(`${env.httpUrl}/?${new URLSearchParams({ channel: CHANNEL, name: 'cam', token: env.token({ channelId: CHANNEL, uid: 'cam' }) })}`);
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'connected', undefined, { timeout: 30_000 });

  const channel = env.server.registry.find(CHANNEL)!;
  const producerOf = () => channel.producers().find((handle) => handle.peer.uid === 'cam' && handle.producer.kind === 'video')?.producer;
  t.ok(await pollFor(async () => producerOf(), Boolean, 20_000), 'the page published its camera');
  const producer = producerOf()!;
  t.equal(producer.type, 'simulcast', 'as a simulcast producer');
  t.equal(producer.rtpParameters.encodings?.length, 3, `with 3 encodings (${producer.rtpParameters.encodings?.map((encoding) => `${encoding.rid} ÷${encoding.scaleResolutionDownBy} ${encoding.scalabilityMode}`).join(', ')})`);
  const sent = await pollFor(() => outboundSizes(page), (sizes) => sizes.size === 3, 30_000);
  t.equal(sent.size, 3, `Chromium encodes all three (${[...sent].map(([rid, size]) => `${rid} ${size.width}×${size.height}`).join(', ')})`);

  const others: Publication[] = [];
  for (const [index, uid] of ['u1', 'u2', 'u3'].entries()) {
    const { client } = await env.join(CHANNEL, uid);
    others.push(await publishTestMedia({ client, color: [0xff0000, 0x00ff00, 0x0000ff][index], width: 160, height: 90, audio: false }));
  }
  t.teardown(() => Promise.all(others.map((publication) => publication.stop())));

  const started = await startVideoComposite(env, CHANNEL);
  t.equal(started.status, 201, 'a 4-tile 640×360@15 composite started');
  const { recordingId } = started;
  const recording = started.recording!;
  const recorderConsumer = consumers.find((consumer) => consumer.producerId === producer.id && !consumer.closed);
  t.ok(recorderConsumer, "the recorder's consumer of the camera");

  /**
   * Polls until the consumer sends spatial layer `spatial` at the canvas's 15 fps (T1 of L1T3's 30)
   * and the recorder decodes frames of the size Chromium encodes that layer at now; the last reading.
   */
  const recorderGets = (spatial: number) =>
    pollFor(
      async () => ({
        preferred: recorderConsumer!.preferredLayers,
        current: recorderConsumer!.currentLayers,
        decoded: (await recording.decodedSizes()).get(producer.id),
        encoded: (await outboundSizes(page)).get(`r${spatial}`),
      }),
      ({ current, decoded, encoded }) =>
        current?.spatialLayer === spatial && current.temporalLayer === 1 && !!decoded && !!encoded && decoded.width === encoded.width && decoded.height === encoded.height,
      30_000,
    );

  // BestFit, four users on 640×360: 320×180 tiles, which the quarter-size layer (320×180) fills.
  const small = await recorderGets(0);
  t.same(small.preferred, { spatialLayer: 0, temporalLayer: 1 }, 'a 320×180 tile: the recorder prefers S0T1');
  t.same(small.current, { spatialLayer: 0, temporalLayer: 1 }, 'its consumer sends S0T1');
  t.ok(small.decoded && small.decoded.width === small.encoded?.width && small.decoded.height === small.encoded.height, `the recorder decodes r0's frames (${JSON.stringify(small.decoded)}, Chromium encodes r0 at ${JSON.stringify(small.encoded)})`);

  // Vertical with the camera as maxResolutionUid: a 512×360 tile, which only a larger layer fills.
  const layout = await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Vertical', maxResolutionUid: 'cam' });
  t.equal(layout.status, 200, 'the layout gives the camera the big tile');
  const big = await recorderGets(1);
  t.same(big.preferred, { spatialLayer: 1, temporalLayer: 1 }, 'a 512×360 tile: the recorder prefers S1T1');
  t.same(big.current, { spatialLayer: 1, temporalLayer: 1 }, 'its consumer switched to S1T1');
  t.ok(big.decoded && big.decoded.width === big.encoded?.width && big.decoded.height === big.encoded.height, `the recorder decodes r1's frames (${JSON.stringify(big.decoded)}, Chromium encodes r1 at ${JSON.stringify(big.encoded)})`);
  t.ok(big.decoded && small.decoded && big.decoded.width > small.decoded.width, 'larger than before');

  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'stopped');
  t.comment(`took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
});
