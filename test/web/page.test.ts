import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { computeLayout } from '../../plugin/recording/layout';
import { artifactPath, launchBrowser, TestBrowser } from '../support/browser';
import { framesBetween, longestStillRun, pcm, probe, rms } from '../support/mediaProbe';
import { sleep } from '../support/recordingServer';
import { startWebServer } from '../support/web';

const CHANNEL = 'web-room';

/** Opens the page with the form prefilled from the URL (as `npm run token` prints it). */
async function openPage(browser: TestBrowser, httpUrl: string, channel: string, name: string, token: string): Promise<Page> {
  const { page } = browser;
  await page.goto(`${httpUrl}/?${new URLSearchParams({ channel, name, token }).toString()}`);
  // Everything #record-state ever displays, from the first paint on.
  await page.evaluate(() => {
    const element = document.getElementById('record-state')!;
    const seen: string[] = [element.textContent ?? ''];
    (window as unknown as { recordStates: string[] }).recordStates = seen;
    new MutationObserver(() => {
      const text = element.textContent ?? '';
      if (seen[seen.length - 1] !== text) seen.push(text);
    }).observe(element, { childList: true, characterData: true, subtree: true });
  });
  return page;
}

/** Resolves once a remote tile's <video> shows frames whose time advances. */
async function remoteVideoPlays(page: Page, uid: string): Promise<{ width: number; advanced: number }> {
  const selector = `.tile.remote[data-uid="${uid}"] video`;
  await page.waitForFunction((s) => ((document.querySelector(s) as HTMLVideoElement | null)?.videoWidth ?? 0) > 0, selector, { timeout: 60_000 });
  const first = await page.$eval(selector, (video) => (video as HTMLVideoElement).currentTime);
  await page.waitForFunction(([s, t0]) => (document.querySelector(s as string) as HTMLVideoElement).currentTime > (t0 as number) + 0.5, [selector, first] as const, { timeout: 30_000 });
  const { width, time } = await page.$eval(selector, (video) => ({ width: (video as HTMLVideoElement).videoWidth, time: (video as HTMLVideoElement).currentTime }));
  return { width, advanced: time - first };
}

const recordStateIs = (page: Page, state: string): Promise<unknown> =>
  page.waitForFunction((s) => document.getElementById('record-state')?.textContent === s, state, { timeout: 60_000 });


t.test('two browsers see each other, record from the page, and the file has both moving videos and audio', async (t) => {
  const env = await startWebServer();
  t.teardown(() => env.close());
  const alice = await launchBrowser();
  t.teardown(() => alice.close());
  const bob = await launchBrowser();
  t.teardown(() => bob.close());

  const aliceToken = env.token({ channelId: CHANNEL, uid: 'alice' });
  const alicePage = await openPage(alice, env.httpUrl, CHANNEL, 'alice', aliceToken);
  const bobPage = await openPage(bob, env.httpUrl, CHANNEL, 'bob', env.token({ channelId: CHANNEL, uid: 'bob' }));
  t.notMatch(alicePage.url(), /token=/, 'the page took the token out of its address (history, Referer)');
  t.equal(await alicePage.textContent('#record-state'), 'None', 'before joining the page shows None');

  await alicePage.click('#join');
  await recordStateIs(alicePage, 'Ready');
  await bobPage.click('#join');
  await recordStateIs(bobPage, 'Ready');
  t.equal(await alicePage.isDisabled('#record-button'), false, 'Ready: the record button is enabled');

  const bobSeenByAlice = await remoteVideoPlays(alicePage, 'bob');
  const aliceSeenByBob = await remoteVideoPlays(bobPage, 'alice');
  t.ok(bobSeenByAlice.width > 0 && bobSeenByAlice.advanced > 0.5, `alice sees bob's video playing (${bobSeenByAlice.width} px wide)`);
  t.ok(aliceSeenByBob.width > 0 && aliceSeenByBob.advanced > 0.5, `bob sees alice's video playing (${aliceSeenByBob.width} px wide)`);
  t.ok(
    await bobPage.$eval('.tile.remote[data-uid="alice"] audio', (audio) => ((audio as HTMLAudioElement).srcObject as MediaStream | null)?.getAudioTracks().length ?? 0),
    "bob receives alice's microphone",
  );

  await alicePage.click('#record-button');
  await recordStateIs(alicePage, 'Running');
  await recordStateIs(bobPage, 'Running');
  t.equal(await alicePage.textContent('#record-button'), 'Stop recording', 'Running: the button stops');
  t.equal(await bobPage.isVisible('#record-elapsed'), true, 'Running: elapsed time shown');
  await sleep(5000);
  t.match(await alicePage.textContent('#record-elapsed'), /^00:0[4-9]$/, 'elapsed time counts the seconds');
  await alicePage.click('#record-button');
  await recordStateIs(alicePage, 'Ready');
  await recordStateIs(bobPage, 'Ready');

  // The finished recording appears in the list (refreshed on the uploaded event) and plays in the page.
  await alicePage.waitForSelector('#recordings li[data-state="stored"] button.play', { timeout: 60_000 });
  t.match(await alicePage.textContent('#upload-progress'), /Recording saved/, 'upload progress ends with "saved"');
  await alicePage.click('#recordings li[data-state="stored"] button.play');
  await alicePage.waitForFunction(() => {
    const player = document.getElementById('player') as HTMLVideoElement;
    return player.videoWidth > 0 && player.currentTime > 1;
  }, undefined, { timeout: 30_000 });
  t.pass('the recording plays in the page');
  const playerSrc = await alicePage.$eval('#player', (player) => (player as HTMLVideoElement).currentSrc);
  t.ok(playerSrc.includes('sig=') && !playerSrc.includes(aliceToken), 'through a signed file link, not the join token');

  for (const [name, page] of [['alice', alicePage], ['bob', bobPage]] as const) {
    const states = await page.evaluate(() => (window as unknown as { recordStates: string[] }).recordStates);
    t.same(states, ['None', 'Ready', 'Running', 'Ready'], `${name}'s page showed None → Ready → Running → Ready`);
    await page.screenshot({ path: artifactPath(`web-${name}.png`), fullPage: true });
  }
  t.same(alice.logs.filter((line) => line.startsWith('[pageerror]')), [], 'no page errors');

  // The file, decoded.
  const stored = env.recording.engine.list().flatMap((status) => status.uploads).filter((upload) => upload.state === 'uploaded');
  t.equal(stored.length, 1, 'one recording file stored');
  const file = path.join(env.server.config.recording.recordingsDir, stored[0]!.objectKey);
  t.match(stored[0]!.objectKey, new RegExp(`^${CHANNEL}/recording_\\d{8}-\\d{6}_[0-9a-f]{8}\\.mp4$`), `default local storage key (${stored[0]!.objectKey})`);
  t.ok(fs.existsSync(file), 'the file is in the recordings directory');
  const info = await probe(file);
  t.ok(info.video && info.audio, 'video and audio tracks');
  t.ok(info.durationS >= 3 && info.durationS <= 10, `duration ${info.durationS} s is about the 5 s recorded`);

  const [big, small] = computeLayout({ width: info.video!.width!, height: info.video!.height! }, 'Float', ['first', 'second']);
  // The big tile minus the corner where the small one floats: its top half is clear of it.
  const bigRegion = { x: 0, y: 0, width: big!.width, height: Math.floor(big!.height / 2) };
  const smallRegion = { x: small!.x, y: small!.y, width: small!.width, height: small!.height };
  // Every frame of the second half (the first may still be black while the inputs start): a frozen
  // tile stands still from some point to the end. Chromium's fake camera sweeps a pie at 600°/s,
  // which changes the top half at least every 0.3 s, so 1.5 s still is a freeze, not the picture
  // (a loaded machine's hiccups stay below 1 s). Two frames alone can miss the motion: the pie in
  // the bottom half in both, once the timestamp text is cropped away from a 1280×720 picture.
  const frames = await framesBetween(file, info.durationS / 2, info.durationS);
  const stillS = (region: typeof bigRegion): number => longestStillRun(frames, region) / (frames.length / (info.durationS / 2));
  const bigStill = stillS(bigRegion);
  const smallStill = stillS(smallRegion);
  t.ok(frames.length > 10 && bigStill < 1.5, `the full-canvas tile moves (at most ${bigStill.toFixed(2)} s still in the last ${(info.durationS / 2).toFixed(1)} s, ${frames.length} frames)`);
  t.ok(frames.length > 10 && smallStill < 1.5, `the floating tile moves (at most ${smallStill.toFixed(2)} s still)`);

  const samples = await pcm(file, 0, info.durationS);
  let loudest = 0;
  for (let offset = 0; offset + 4800 <= samples.length; offset += 4800) loudest = Math.max(loudest, rms(samples.subarray(offset, offset + 4800)));
  t.ok(loudest > 0.01, `the audio is not silent (loudest 100 ms RMS ${loudest.toFixed(3)})`);
});

t.test('the page explains a bad token, a denied camera and a server that is gone', async (t) => {
  const env = await startWebServer();
  let serverClosed = false;
  t.teardown(() => (serverClosed ? undefined : env.close()));

  const carol = await launchBrowser();
  t.teardown(() => carol.close());
  const page = await openPage(carol, env.httpUrl, 'errors-room', 'carol', 'v1.not-a-token.at-all');
  await page.click('#join');
  await page.waitForSelector('#message[data-kind="error"]', { timeout: 30_000 });
  const badToken = await page.textContent('#message');
  t.match(badToken, /refused your token \(TOKEN_INVALID/, `bad token: "${badToken}"`);
  t.match(badToken, /npm run token -- --channel errors-room --uid carol/, 'and how to get a good one');
  t.equal(await page.isVisible('#join-form'), true, 'the form stays for another try');

  // Camera blocked: the person still joins, receives, and is told why nobody sees them.
  const dave = await launchBrowser({ media: 'denied' });
  t.teardown(() => dave.close());
  const davePage = await openPage(dave, env.httpUrl, 'errors-room', 'dave', env.token({ channelId: 'errors-room', uid: 'dave' }));
  await davePage.click('#join');
  await davePage.waitForSelector('#message[data-kind="warning"]', { timeout: 30_000 });
  const denied = await davePage.textContent('#message');
  t.match(denied, /Access to your camera and microphone was denied/, `camera denied: "${denied}"`);
  t.equal(await davePage.textContent('#record-state'), 'Ready', 'still in the channel (Ready)');

  // A good join, then the server goes away.
  await page.fill('#token', env.token({ channelId: 'errors-room', uid: 'carol' }));
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'connected', undefined, { timeout: 30_000 });
  serverClosed = true;
  await env.close();
  await page.waitForFunction(() => /Reconnecting \(attempt \d+ of \d+\)/.test(document.getElementById('message')?.textContent ?? ''), undefined, { timeout: 30_000 });
  t.pass('server gone: the page says it is reconnecting');
  await page.waitForFunction(() => /The server is gone/.test(document.getElementById('message')?.textContent ?? ''), undefined, { timeout: 90_000 });
  t.match(await page.textContent('#message'), /press Join again/, 'and, after giving up, what to do');
  t.equal(await page.textContent('#record-state'), 'None', 'record state back to None');
  t.equal(await page.isDisabled('#record-button'), true, 'record button disabled');
  await page.screenshot({ path: artifactPath('web-server-gone.png'), fullPage: true });
});

t.test('after a server restart both pages reconnect by themselves, republish and see each other again', async (t) => {
  const first = await startWebServer();
  const port = first.server.port;
  let second: Awaited<ReturnType<typeof startWebServer>> | undefined;
  t.teardown(async () => {
    await first.close();
    await second?.close();
  });
  const erin = await launchBrowser();
  t.teardown(() => erin.close());
  const frank = await launchBrowser();
  t.teardown(() => frank.close());
  // Both servers share the test secret, so the tokens stay valid across the restart.
  const erinPage = await openPage(erin, first.httpUrl, 'restart-room', 'erin', first.token({ channelId: 'restart-room', uid: 'erin' }));
  const frankPage = await openPage(frank, first.httpUrl, 'restart-room', 'frank', first.token({ channelId: 'restart-room', uid: 'frank' }));
  await erinPage.click('#join');
  await frankPage.click('#join');
  await remoteVideoPlays(erinPage, 'frank');
  await remoteVideoPlays(frankPage, 'erin');

  await first.close();
  await erinPage.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'reconnecting', undefined, { timeout: 30_000 });
  second = await startWebServer({ overrides: { http: { port } } });

  for (const page of [erinPage, frankPage]) {
    await page.waitForFunction(() => document.getElementById('connection')?.dataset.state === 'connected', undefined, { timeout: 60_000 });
  }
  t.match(await erinPage.textContent('#message'), /Reconnected/, 'the page says it reconnected');
  const frankAgain = await remoteVideoPlays(erinPage, 'frank');
  const erinAgain = await remoteVideoPlays(frankPage, 'erin');
  t.ok(frankAgain.width > 0, "erin sees frank's video again (republished after the restart)");
  t.ok(erinAgain.width > 0, "frank sees erin's video again");
  t.equal(await erinPage.locator('.tile.remote').count(), 1, 'one tile per remote peer, no stale ones');
  t.equal(await erinPage.textContent('#record-state'), 'Ready', 'record state Ready on the new server');
});
