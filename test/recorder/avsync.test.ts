/**
 * A/V sync of a composite recording: one publisher (one gst-launch process, both streams paced by the
 * same pipeline clock) whose video flashes white and whose audio beeps at the same instant every whole
 * second. In the output, beep onset − flash onset must stay small.
 *
 * Canvas and publisher run at 30 fps so that a flash onset is known to within 33 ms (at 15 fps the
 * frame quantization alone would be 67 ms); the flash lasts two frames so that a frame dropped or
 * repeated by the mixer's "newest frame" sampling cannot hide it. Bound: |median offset| ≤ 80 ms
 * (target 40 ms + one output frame of quantization + margin for a loaded 2-core machine). Measured with
 * the one-pipeline graph: +12 ms at 30 fps, −25 ms at AVSYNC_FPS=15 (the default canvas rate).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beepOnsets, flashOnsets, lumaSeries, syncWindows } from '../../bench/lib/analyze';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import { RtpPublisher } from '../support/rtpSender';
import { audioInput, compositeJob, FirstFrames, sleep, tmpDir, videoInput } from './helpers';

const FPS = Number(process.env.AVSYNC_FPS ?? 30);
const CLIP_S = 14;
const MAX_OFFSET_MS = 80;

/** VP8 (IVF) and Opus (Ogg): black with 2 white frames at each whole second, a 1 kHz beep for 60 ms. */
function makeClip(dir: string): { ivf: string; ogg: string } {
  const ivf = path.join(dir, 'flash.ivf');
  const ogg = path.join(dir, 'beep.ogg');
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi',
    '-i', `color=c=black:s=320x240:r=${FPS},format=yuv420p,geq=lum='if(lt(mod(N\\,${FPS})\\,2)\\,235\\,16)':cb=128:cr=128`,
    '-t', String(CLIP_S), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k',
    '-g', String(FPS), '-keyint_min', String(FPS), '-auto-alt-ref', '0', '-lag-in-frames', '0', '-error-resilient', '1', ivf,
  ]);
  const beep = "if(lt(mod(t\\,1)\\,0.06)\\,0.5*sin(2*PI*1000*t)\\,0)";
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='${beep}|${beep}':s=48000`,
    '-t', String(CLIP_S), '-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '20', ogg,
  ]);
  return { ivf, ogg };
}

t.test('composite: beep and flash published together stay together in the file', async (t) => {
  const dir = tmpDir('avsync');
  const { ivf, ogg } = makeClip(dir);
  const job = compositeJob(dir, { canvas: { width: 320, height: 240, fps: FPS, bitrateKbps: 600 } });
  const recorder = await RecorderProcess.spawn(job);
  let publisher: RtpPublisher | undefined;
  t.teardown(async () => {
    recorder.close();
    await publisher?.stop();
  });
  const frames = new FirstFrames(recorder);
  const video = await recorder.addInput(videoInput('v', 'u'));
  const audio = await recorder.addInput(audioInput('a', 'u'));
  // Non-live file sources paced by sync=true sinks: both RTP streams leave on the same clock.
  publisher = new RtpPublisher(
    `filesrc location="${ivf}" ! ivfparse ! rtpvp8pay pt=96 ssrc=${video.rtpPort} ! udpsink host=127.0.0.1 port=${video.rtpPort} sync=true ` +
      `filesrc location="${ogg}" ! oggdemux ! rtpopuspay pt=111 ssrc=${audio.rtpPort} ! udpsink host=127.0.0.1 port=${audio.rtpPort} sync=true`,
  );
  await frames.all(['v', 'a']);
  await sleep(9000);
  const files = await recorder.stop();
  t.equal(files.length, 1);
  const file = files[0].path;
  const windows = syncWindows(flashOnsets(await lumaSeries(file)), await beepOnsets(file));
  t.ok(windows.all.length >= 6, `flash/beep pairs found: ${windows.all.length}`);
  const steady = windows.start!;
  t.comment(`offsets (ms, + = audio late): ${windows.all.map((ms) => ms.toFixed(0)).join(' ')}`);
  t.ok(Math.abs(steady.medianOffsetMs) <= MAX_OFFSET_MS, `median offset ${steady.medianOffsetMs.toFixed(0)} ms within ±${MAX_OFFSET_MS} ms`);
  t.ok(
    Math.abs(steady.minOffsetMs) <= MAX_OFFSET_MS + 40 && Math.abs(steady.maxOffsetMs) <= MAX_OFFSET_MS + 40,
    `every pair within ±${MAX_OFFSET_MS + 40} ms (min ${steady.minOffsetMs.toFixed(0)}, max ${steady.maxOffsetMs.toFixed(0)})`,
  );
});
