/**
 * Eleven talkers on one audio mixer, each on a pad of its own: every one of them must be heard, and
 * people leaving and joining must not silence the others.
 */
import t from 'tap';
import { startAudioPublisher } from '../support/rtpSender';
import { pcm, toneShare } from '../support/mediaProbe';
import { audioInput, compositeJob, sleep, tmpDir, withRecorder } from './helpers';

// Multiples of 10 Hz: a whole number of cycles in each 100 ms analysis window, so tones do not leak
// into each other's bins. 1500 Hz is nobody's.
const FREQUENCIES = [310, 420, 530, 640, 750, 860, 970, 1080, 1190, 1300, 1410];
const NOBODY = 1500;
const LATECOMER = 1620;

t.test(`${FREQUENCIES.length} talkers: every voice is in the mix, before and after people leave and join`, async (t) => {
  const job = compositeJob(tmpDir('overflow'), { streamTypes: 'AudioOnly' });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const ids: string[] = [];
  for (const [index, frequency] of FREQUENCIES.entries()) {
    const input = await recorder.addInput(audioInput(`a${index}`, `u${index}`));
    // 11 × 0.07 stays below full scale, so the mix is not clipped into harmonics.
    publishers.push(startAudioPublisher({ port: input.rtpPort, frequency, volume: 0.07, ssrc: 5000 + index }));
    ids.push(`a${index}`);
  }
  const allAt = (await frames.all(ids) - recorder.startedAt) / 1000;
  await sleep(3000);

  // Talkers 1 and 9 leave; a latecomer joins.
  const leavers = [0, 8];
  for (const index of leavers) {
    await recorder.removeInput(`a${index}`);
    await publishers[index]!.stop();
  }
  const latecomer = await recorder.addInput(audioInput('late', 'late'));
  publishers.push(startAudioPublisher({ port: latecomer.rtpPort, frequency: LATECOMER, volume: 0.07, ssrc: 6000 }));
  const lateAt = (await frames.waitFor('late') - recorder.startedAt) / 1000;
  await sleep(3000);
  const files = await recorder.stop();
  t.equal(files.length, 1, 'one file for the whole recording');

  const before = await pcm(files[0]!.path, allAt + 1, 1.5);
  const even = 1 / FREQUENCIES.length;
  for (const [index, frequency] of FREQUENCIES.entries()) {
    const share = toneShare(before, frequency);
    t.ok(share > even / 3, `${frequency} Hz (talker ${index + 1}) heard: ${share.toFixed(3)} of the energy (even share ${even.toFixed(3)})`);
  }
  t.ok(toneShare(before, NOBODY) < 0.01 && toneShare(before, LATECOMER) < 0.01, `nothing at ${NOBODY} Hz, where nobody talks, nor from the latecomer yet`);

  const after = await pcm(files[0]!.path, lateAt + 1, 1.5);
  for (const index of leavers) t.ok(toneShare(after, FREQUENCIES[index]!) < 0.01, `talker ${index + 1} (${FREQUENCIES[index]} Hz) is gone after leaving`);
  const stayers = FREQUENCIES.filter((_, index) => !leavers.includes(index));
  t.ok(stayers.every((frequency) => toneShare(after, frequency) > even / 3), `the ${stayers.length} who stayed are still heard`);
  t.ok(toneShare(after, LATECOMER) > even / 3, `the latecomer (${LATECOMER} Hz) is heard: ${toneShare(after, LATECOMER).toFixed(3)}`);
});
