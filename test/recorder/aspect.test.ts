import t from 'tap';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import { colorName, frameAt, meanColor } from '../support/mediaProbe';
import { startVideoPublisher } from '../support/rtpSender';
import { compositeJob, FirstFrames, sleep, tmpDir, videoInput } from './helpers';

t.test('a 16:9 camera in a 9:16 tile is cropped to fill it, not stretched', async (t) => {
  const recorder = await RecorderProcess.spawn(compositeJob(tmpDir('aspect'), { layout: 'Float', canvas: { width: 360, height: 640, fps: 15, bitrateKbps: 800 } }));
  t.teardown(() => recorder.close());
  const frames = new FirstFrames(recorder);
  const ports = await recorder.addInput(videoInput('v1', 'bars'));
  // SMPTE bars: seven equal columns (white, yellow, cyan, green, magenta, red, blue) over 640×360.
  const publisher = startVideoPublisher({ port: ports.rtpPort, color: 0, pattern: 'smpte', width: 640, height: 360 });
  t.teardown(() => publisher.stop());
  await frames.all(['v1']);
  await sleep(2500);
  const [file] = await recorder.stop();
  const frame = await frameAt(file!.path, 2);
  // Cropped to 9:16, only the middle of the bars remains: cyan | green | magenta across the canvas.
  // Stretched, the left edge would show the white and yellow bars.
  const strip = (x: number): string => colorName(meanColor(frame, { x, y: 100, width: 40, height: 200 }, 0.1));
  t.same([strip(20), strip(160), strip(300)], ['cyan', 'green', 'magenta'], 'the tile shows the centre of the picture at its own proportions');
});
