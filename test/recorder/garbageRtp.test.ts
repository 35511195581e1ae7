/**
 * Garbage on a recorder's RTP ports — random bytes, truncated headers, RTP with the stream's own SSRC
 * and payload type but random payloads and sequence numbers — must not kill the recording: the
 * recorder stays up, the file stays decodable, the other participant is untouched, and the attacked
 * stream comes back once real packets win again.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import t from 'tap';
import { computeLayout } from '../../plugin/recording/layout';
import { startAudioPublisher, startVideoPublisher } from '../support/rtpSender';
import { colorName, decodeAll, frameAt, framesBetween, meanColor, pcm, toneShare } from '../support/mediaProbe';
import { audioInput, compositeJob, sleep, tmpDir, videoInput, withRecorder } from './helpers';

const RED = 0xff0000;
const BLUE = 0x0000ff;

/** One datagram of one kind of garbage; `ssrc`/`pt` make it look like the stream it is aimed at. */
function garbage(index: number, ssrc: number, payloadType: number): Buffer {
  switch (index % 4) {
    case 0:
      return crypto.randomBytes(1 + crypto.randomInt(1400));
    case 1:
      return crypto.randomBytes(crypto.randomInt(12)); // shorter than an RTP header
    default: {
      const packet = crypto.randomBytes(12 + crypto.randomInt(1200));
      packet[0] = 0x80; // version 2, no padding, no extension, no CSRC
      packet[1] = (index % 4 === 2 ? 0x80 : 0) | payloadType;
      packet.writeUInt32BE(ssrc, 8);
      return packet;
    }
  }
}

async function flood(port: number, ssrc: number, payloadType: number, count: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    for (let index = 0; index < count; index++) {
      await new Promise<void>((resolve) => socket.send(garbage(index, ssrc, payloadType), port, '127.0.0.1', () => resolve()));
      if (index % 50 === 49) await sleep(5);
    }
  } finally {
    socket.close();
  }
}

t.test('a composite recording under a garbage flood on one participant\'s ports carries on', async (t) => {
  const job = compositeJob(tmpDir('garbage'), { layout: 'BestFit' });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const failures: string[] = [];
  recorder.on('failure', (error, fatal, inputId) => failures.push(`${error.code} (fatal ${fatal}, input ${inputId}): ${error.message}`));
  recorder.on('died', (code) => failures.push(`died: ${code}`));
  const since = (time: number): number => (time - recorder.startedAt) / 1000;

  const attacked = await recorder.addInput({ ...videoInput('vred', 'red'), ssrc: 4242 });
  const bystander = await recorder.addInput(videoInput('vblue', 'blue'));
  const voice = await recorder.addInput({ ...audioInput('ared', 'red'), ssrc: 4343 });
  publishers.push(
    startVideoPublisher({ port: attacked.rtpPort, color: RED, ssrc: 4242 }),
    startVideoPublisher({ port: bystander.rtpPort, color: BLUE }),
    startAudioPublisher({ port: voice.rtpPort, frequency: 440, ssrc: 4343 }),
  );
  const [redAt, blueAt] = await Promise.all(['vred', 'vblue', 'ared'].map((inputId) => frames.waitFor(inputId)));
  await sleep(500);

  const floodFrom = since(Date.now());
  await Promise.all([flood(attacked.rtpPort, 4242, 96, 12_000), flood(voice.rtpPort, 4343, 111, 12_000)]);
  const floodTo = since(Date.now());
  await sleep(3000); // key frames come every second: the attacked tile recovers within that
  const endAt = since(Date.now());
  const files = await recorder.stop();

  t.same(failures, [], 'no recorder failure');
  t.equal(files.length, 1, 'one file');
  t.ok((await decodeAll(files[0]!.path)).ok, 'the file decodes from start to end');
  const [red, blue] = computeLayout(job.canvas, 'BestFit', ['red', 'blue']);
  // Every frame of the flood, not one: a stall shows as a few frames of a black (undrawn) tile.
  const during = (await framesBetween(files[0]!.path, floodFrom, floodTo + 0.5)).map((frame) => colorName(meanColor(frame, blue!)));
  const notBlue = during.filter((name) => name !== 'blue');
  t.ok(
    during.length > 0 && notBlue.length === 0,
    `the other participant is untouched during the flood (${notBlue.length} of ${during.length} frames not blue: ${[...new Set(notBlue)].join(', ')}; ` +
      `flood ${floodFrom.toFixed(2)}–${floodTo.toFixed(2)} s, first decoded frames red ${since(redAt!).toFixed(2)} s, blue ${since(blueAt!).toFixed(2)} s)`,
  );
  const after = await frameAt(files[0]!.path, endAt - 0.7);
  t.same([colorName(meanColor(after, red!)), colorName(meanColor(after, blue!))], ['red', 'blue'], 'after it, the attacked participant is back');
  const voiceAfter = await pcm(files[0]!.path, floodTo + 1, 1.2);
  t.ok(toneShare(voiceAfter, 440) > 0.5, `and so is its voice (440 Hz share ${toneShare(voiceAfter, 440).toFixed(2)})`);
});
