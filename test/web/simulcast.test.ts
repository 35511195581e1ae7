// A Chromium camera published through the page arrives (by default) as a three-layer VP8 simulcast producer, and
// each receiving page gets the layer its tile needs: a small tile the 320×180 layer, a big one a
// larger layer, a tile that grows a larger one — checked in the server's mediasoup objects and in
// the browsers' own RTP statistics.
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchBrowser, TestBrowser, watchPeerConnections } from '../support/browser';
import { pollFor } from '../support/clusterServers';
import { startWebServer } from '../support/web';

const CHANNEL = 'simulcast-room';
/** One column of tiles of this width: the remote tile's box (4:3 unless said otherwise). */
const SMALL_TILES = '#tiles { grid-template-columns: 240px !important; }';
const BIG_TILES = '#tiles { grid-template-columns: 1040px !important; } .tile { aspect-ratio: 16 / 9 !important; }';

interface RtpStats {
  rid?: string;
  frameWidth: number;
  frameHeight: number;
  frames: number;
}

/** The page's video RTP streams from its own getStats(): outbound-rtp (per simulcast rid) or inbound-rtp. */
async function videoRtp(page: Page, type: 'outbound-rtp' | 'inbound-rtp'): Promise<RtpStats[]> {
  return page.evaluate(async (type) => {
    const found: RtpStats[] = [];
    for (const connection of (window as unknown as { peerConnections: RTCPeerConnection[] }).peerConnections) {
      for (const report of (await connection.getStats()).values() as IterableIterator<Record<string, unknown>>) {
        if (report.type !== type || report.kind !== 'video') continue;
        const rid = typeof report.rid === 'string' ? report.rid : undefined;
        found.push({ ...(rid ? { rid } : {}), frameWidth: Number(report.frameWidth ?? 0), frameHeight: Number(report.frameHeight ?? 0), frames: Number(report.framesEncoded ?? report.framesDecoded ?? 0) });
      }
    }
    return found;
  }, type);
}

/** The page, joined; `query` adds to its address (e.g. simulcast=0). */
async function openPage(browser: TestBrowser, httpUrl: string, name: string, token: string, css?: string, query: Record<string, string> = {}): Promise<Page> {
  await watchPeerConnections(browser);
  const { page } = browser;
  await page.goto(`${httpUrl}/?${new URLSearchParams({ channel: CHANNEL, name, token, ...query })}`);
  if (css) await page.addStyleTag({ content: css });
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'connected', undefined, { timeout: 30_000 });
  return page;
}

/** The width of the video a receiving page decodes now (its one inbound video stream). */
async function receivedWidth(page: Page): Promise<number> {
  const inbound = await videoRtp(page, 'inbound-rtp');
  return inbound.find((stream) => stream.frames > 0)?.frameWidth ?? 0;
}

t.test('the page publishes three VP8 layers; each receiver gets the layer its tile needs, and a bigger one when its tile grows', async (t) => {
  const startedAt = Date.now();
  const env = await startWebServer();
  t.teardown(() => env.close());
  const browsers = await Promise.all([launchBrowser(), launchBrowser(), launchBrowser()]);
  t.teardown(() => Promise.all(browsers.map((browser) => browser.close())));
  const [camera, small, big] = browsers as [TestBrowser, TestBrowser, TestBrowser];
  const watcher = (uid: string): string => env.token({ channelId: CHANNEL, uid, privileges: { publish: false, record: false } });

  const cameraPage = await openPage(camera, env.httpUrl, 'cam', env.token({ channelId: CHANNEL, uid: 'cam' }));
  const channel = env.server.registry.find(CHANNEL)!;
  const producerOf = () => channel.producers().find((handle) => handle.peer.uid === 'cam' && handle.producer.kind === 'video')?.producer;
  t.ok(await pollFor(async () => producerOf(), Boolean, 20_000), 'the camera is published');
  const producer = producerOf()!;
  const encodings = producer.rtpParameters.encodings ?? [];
  t.equal(producer.type, 'simulcast', 'the server has a simulcast producer');
  t.same(
    encodings.map(({ scaleResolutionDownBy, scalabilityMode }) => ({ scaleResolutionDownBy, scalabilityMode })),
    [4, 2, 1].map((scaleResolutionDownBy) => ({ scaleResolutionDownBy, scalabilityMode: 'L1T3' })),
    `with 3 encodings, quarter / half / full size, 3 temporal layers each (rids ${encodings.map((encoding) => encoding.rid).join(', ')})`,
  );
  t.same((producer.appData as { videoSize?: unknown }).videoSize, { width: 1280, height: 720 }, 'the page captured 1280×720 and said so');
  const layersSent = await pollFor(
    () => videoRtp(cameraPage, 'outbound-rtp'),
    (streams) => streams.filter((stream) => stream.frames > 0).length === 3 && streams.some((stream) => stream.frameWidth === 1280),
    30_000,
  );
  t.same(
    layersSent.map((stream) => stream.frameWidth).sort((a, b) => a - b),
    [320, 640, 1280],
    `Chromium encodes three layers (${layersSent.map((stream) => `${stream.rid}: ${stream.frameWidth}×${stream.frameHeight}, ${stream.frames} frames`).join('; ')})`,
  );

  const smallPage = await openPage(small, env.httpUrl, 'small', watcher('small'), SMALL_TILES);
  const bigPage = await openPage(big, env.httpUrl, 'big', watcher('big'), BIG_TILES);
  const consumerOf = (uid: string) => [...channel.peers().find((peer) => peer.uid === uid)!.consumers.values()].find((consumer) => consumer.kind === 'video');

  const smallWidth = await pollFor(() => receivedWidth(smallPage), (width) => width === 320, 30_000);
  t.equal(smallWidth, 320, 'a 240×180 tile decodes the 320-wide layer');
  t.same(consumerOf('small')?.preferredLayers, { spatialLayer: 0, temporalLayer: 2 }, 'its consumer prefers spatial layer 0 at full frame rate');
  t.equal(consumerOf('small')?.currentLayers?.spatialLayer, 0, 'and sends layer 0');

  const bigWidth = await pollFor(() => receivedWidth(bigPage), (width) => width === 1280, 30_000);
  t.same(consumerOf('big')?.preferredLayers, { spatialLayer: 2, temporalLayer: 2 }, 'a 1040×585 tile: its consumer prefers the top layer');
  t.ok(bigWidth > 320, `and it decodes a bigger layer than the small tile (${bigWidth} px wide)`);
  // Both links have had the time to carry the top layer (the big page gets it): the small tile's
  // 320 is its choice, not where mediasoup starts a consumer while the estimate is low.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  t.equal(await receivedWidth(smallPage), 320, 'meanwhile the small tile still decodes 320 px');
  t.equal(consumerOf('small')?.currentLayers?.spatialLayer, 0, 'and its consumer still sends layer 0');

  // The small page's tile grows: the page reports the new box and the server switches up.
  await smallPage.addStyleTag({ content: BIG_TILES });
  const grown = await pollFor(() => receivedWidth(smallPage), (width) => width > 320, 30_000);
  t.ok(grown > 320, `after its tile grew, the small page decodes a bigger layer (${grown} px wide)`);
  t.equal(consumerOf('small')?.preferredLayers?.spatialLayer, 2, 'its consumer now prefers the top layer');

  // The page's own layout (three columns at this window size, as in a bigger call): not 720p.
  await smallPage.evaluate(() => document.querySelectorAll('style').forEach((style) => style.remove()));
  const box = await smallPage.$eval('.tile.remote video', (video) => `${Math.round(video.getBoundingClientRect().width)}×${Math.round(video.getBoundingClientRect().height)}`);
  const fitted = await pollFor(() => receivedWidth(smallPage), (width) => width === 640, 30_000);
  t.equal(fitted, 640, `the page's default ${box} tile decodes the 640-wide layer, not 1280`);
  t.equal(consumerOf('small')?.preferredLayers?.spatialLayer, 1, 'its consumer prefers the middle layer');
  t.comment(`took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
});

t.test('?simulcast=0 sends the camera as one stream at the browser\'s default size', async (t) => {
  const env = await startWebServer();
  t.teardown(() => env.close());
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await openPage(browser, env.httpUrl, 'one', env.token({ channelId: CHANNEL, uid: 'one' }), undefined, { simulcast: '0' });
  const channel = env.server.registry.find(CHANNEL)!;
  const producer = await pollFor(async () => channel.producers().find((handle) => handle.peer.uid === 'one' && handle.producer.kind === 'video')?.producer, Boolean, 20_000);
  t.ok(producer, 'the camera is published');
  t.equal(producer!.type, 'simple', 'as a plain (one-stream) producer');
  t.equal(producer!.rtpParameters.encodings?.length, 1, 'with one encoding');
  const sent = await pollFor(() => videoRtp(page, 'outbound-rtp'), (streams) => streams.some((stream) => stream.frames > 0), 20_000);
  t.same(sent.filter((stream) => stream.frames > 0).map((stream) => stream.rid), [undefined], 'Chromium sends one stream, without rids');
  t.same((producer!.appData as { videoSize?: unknown }).videoSize, { width: 640, height: 480 }, 'captured at the browser default 640×480');
});
