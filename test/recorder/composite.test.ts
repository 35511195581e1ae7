/**
 * Composite recordings decoded frame by frame: tiles of solid-colour publishers must sit where the
 * layout says, follow joins/leaves/layout changes in ONE file, and a paused video shows the placeholder.
 * File times are derived from the recorder's events (firstFrame) and its start time, not from sleeps.
 */
import t from 'tap';
import fs from 'node:fs';
import { computeLayout, Tile } from '../../plugin/recording/layout';
import { startVideoPublisher } from '../support/rtpSender';
import { colorName, frameAt, meanColor, probe } from '../support/mediaProbe';
import { compositeJob, sleep, tmpDir, videoInput, withRecorder } from './helpers';

const RED = 0xff0000;
const BLUE = 0x0000ff;
const GREEN = 0x00ff00;

async function tileColors(file: string, atS: number, tiles: Tile[]): Promise<Record<string, string>> {
  const frame = await frameAt(file, atS);
  return Object.fromEntries(tiles.map((tile) => [tile.uid, colorName(meanColor(frame, tile))]));
}

t.test('BestFit: two tiles, a third joins, one leaves — same file throughout', async (t) => {
  const dir = tmpDir('bestfit');
  const job = compositeJob(dir, { layout: 'BestFit' });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const since = (time: number): number => (time - recorder.startedAt) / 1000;

  const red = await recorder.addInput(videoInput('vred', 'red'));
  const blue = await recorder.addInput(videoInput('vblue', 'blue'));
  publishers.push(startVideoPublisher({ port: red.rtpPort, color: RED }), startVideoPublisher({ port: blue.rtpPort, color: BLUE }));
  const bothAt = since(await frames.all(['vred', 'vblue']));
  await sleep(1500);

  const green = await recorder.addInput(videoInput('vgreen', 'green'));
  publishers.push(startVideoPublisher({ port: green.rtpPort, color: GREEN }));
  const greenAt = since(await frames.waitFor('vgreen'));
  await sleep(1500);

  const removedAt = since(Date.now());
  await recorder.removeInput('vblue');
  await sleep(2000);
  const files = await recorder.stop();

  t.equal(files.length, 1, 'one file');
  t.same(fs.readdirSync(dir), ['out.mp4'], 'no second file was started');
  const file = files[0].path;

  const two = computeLayout(job.canvas, 'BestFit', ['red', 'blue']);
  t.same(await tileColors(file, bothAt + 0.8, two), { red: 'red', blue: 'blue' }, 'two tiles');

  const three = computeLayout(job.canvas, 'BestFit', ['red', 'blue', 'green']);
  t.same(await tileColors(file, greenAt + 1, three), { red: 'red', blue: 'blue', green: 'green' }, 'three tiles after the join');
  const emptyCell = { uid: 'empty', x: 320, y: 180, width: 320, height: 180, zorder: 1 };
  t.same(await tileColors(file, greenAt + 1, [emptyCell]), { empty: 'black' }, 'fourth cell empty');

  const after = computeLayout(job.canvas, 'BestFit', ['red', 'green']);
  t.same(await tileColors(file, removedAt + 1.2, after), { red: 'red', green: 'green' }, 'layout shrinks after the leave');
});

t.test('Vertical: maxResolutionUid fills the large left region (default 360x640 canvas)', async (t) => {
  const dir = tmpDir('vertical');
  const job = compositeJob(dir, { layout: 'Vertical', maxResolutionUid: 'blue', canvas: { width: 360, height: 640, fps: 15, bitrateKbps: 500 } });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const red = await recorder.addInput(videoInput('vred', 'red'));
  const blue = await recorder.addInput(videoInput('vblue', 'blue'));
  const green = await recorder.addInput(videoInput('vgreen', 'green'));
  publishers.push(
    startVideoPublisher({ port: red.rtpPort, color: RED }),
    startVideoPublisher({ port: blue.rtpPort, color: BLUE }),
    startVideoPublisher({ port: green.rtpPort, color: GREEN }),
  );
  const allAt = (await frames.all(['vred', 'vblue', 'vgreen']) - recorder.startedAt) / 1000;
  await sleep(1500);
  const files = await recorder.stop();
  const tiles = computeLayout(job.canvas, 'Vertical', ['red', 'blue', 'green'], 'blue');
  t.equal(tiles[0].uid, 'blue');
  const info = await probe(files[0].path);
  t.same([info.video?.width, info.video?.height], [360, 640]);
  t.same(await tileColors(files[0].path, allAt + 0.8, tiles), { blue: 'blue', red: 'red', green: 'green' });
});

t.test('Float: the first user fills the canvas; a layout change and a pause show in the same file', async (t) => {
  const dir = tmpDir('float');
  const job = compositeJob(dir, { layout: 'Float' });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const red = await recorder.addInput(videoInput('vred', 'red'));
  const blue = await recorder.addInput(videoInput('vblue', 'blue'));
  publishers.push(startVideoPublisher({ port: red.rtpPort, color: RED }), startVideoPublisher({ port: blue.rtpPort, color: BLUE }));
  const since = (time: number): number => (time - recorder.startedAt) / 1000;
  const bothAt = since(await frames.all(['vred', 'vblue']));
  await sleep(1500);
  const bestFitAt = since(Date.now());
  await recorder.setLayout('BestFit');
  await sleep(1500);
  const pausedAt = since(Date.now());
  await recorder.setInputPaused('vblue', true);
  await sleep(1500);
  const files = await recorder.stop();
  const file = files[0].path;

  const float = computeLayout(job.canvas, 'Float', ['red', 'blue']);
  t.equal(float[0].width, job.canvas.width, 'red is full-canvas');
  const floatFrame = await frameAt(file, bothAt + 0.8);
  // Sample the big one away from the small window in the bottom-right corner.
  t.equal(colorName(meanColor(floatFrame, { x: 0, y: 0, width: 320, height: 180 })), 'red', 'first user fills the canvas');
  t.equal(colorName(meanColor(floatFrame, float[1])), 'blue', 'second user floats in a small window');

  const bestFit = computeLayout(job.canvas, 'BestFit', ['red', 'blue']);
  t.same(await tileColors(file, bestFitAt + 1, bestFit), { red: 'red', blue: 'blue' }, 'layout changed mid-file');
  t.same(await tileColors(file, pausedAt + 1, bestFit), { red: 'red', blue: 'grey' }, 'paused video shows the placeholder');
});

t.test('Vertical: a maxResolutionUid who joined after 17 other video users fills the large region', async (t) => {
  const dir = tmpDir('vertical18');
  const job = compositeJob(dir, { layout: 'Vertical', maxResolutionUid: 'blue', canvas: { width: 360, height: 640, fps: 15, bitrateKbps: 500 } });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  // 17 users whose cameras send nothing (black tiles) came first; the chosen one is the 18th.
  const early = Array.from({ length: 17 }, (_, index) => `quiet${index}`);
  for (const uid of early) await recorder.addInput(videoInput(`v${uid}`, uid));
  const blue = await recorder.addInput(videoInput('vblue', 'blue'));
  publishers.push(startVideoPublisher({ port: blue.rtpPort, color: BLUE }));
  const blueAt = (await frames.waitFor('vblue') - recorder.startedAt) / 1000;
  await sleep(1500);
  const files = await recorder.stop();
  const tiles = computeLayout(job.canvas, 'Vertical', [...early, 'blue'], 'blue');
  t.equal(tiles[0].uid, 'blue', 'the layout puts the 18th user first');
  t.same(await tileColors(files[0].path, blueAt + 0.8, [tiles[0]]), { blue: 'blue' }, 'and the file shows them in the large region');
});
