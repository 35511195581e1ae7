import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { compactMp4 } from '../../plugin/recording/mp4Compact';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import { gstDecode, probe } from '../support/mediaProbe';
import { startAudioPublisher, startVideoPublisher } from '../support/rtpSender';
import { audioInput, compositeJob, sleep, tmpDir, videoInput } from '../recorder/helpers';

const run = promisify(execFile);

/** md5 of every decoded frame and audio sample, so "the same media" means exactly that. */
async function decodedDigest(file: string, stream: 'v' | 'a'): Promise<string> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', `0:${stream}`, '-f', 'md5', '-'], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

t.test('a crash-safe MP4 loses its padding and keeps every decoded frame and sample', async (t) => {
  const dir = tmpDir('compact');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const recorder = await RecorderProcess.spawn(compositeJob(dir, { fileBaseName: 'padded' }));
  t.teardown(() => recorder.close());
  const video = await recorder.addInput(videoInput('v1', 'a'));
  const audio = await recorder.addInput(audioInput('a1', 'a'));
  const publishers = [startVideoPublisher({ port: video.rtpPort, color: 0x00ffff }), startAudioPublisher({ port: audio.rtpPort, frequency: 600 })];
  t.teardown(() => Promise.all(publishers.map((publisher) => publisher.stop())));
  await sleep(3000);
  const [file] = await recorder.stop();
  const original = path.join(dir, 'original.mp4');
  fs.copyFileSync(file!.path, original);

  const result = await compactMp4(file!.path);
  t.ok(result.compacted, 'compacted');
  t.equal(fs.statSync(file!.path).size, result.bytesAfter, 'reported size is the file size');
  t.ok(result.bytesAfter < result.bytesBefore / 10, `padding removed: ${result.bytesBefore} → ${result.bytesAfter} bytes`);
  t.equal((await probe(file!.path)).durationS, (await probe(original)).durationS, 'same duration');
  t.equal(await decodedDigest(file!.path, 'v'), await decodedDigest(original, 'v'), 'identical decoded video');
  t.equal(await decodedDigest(file!.path, 'a'), await decodedDigest(original, 'a'), 'identical decoded audio');
  t.ok((await gstDecode(file!.path)).ok, 'GStreamer decodes it too');

  const before = crypto.createHash('sha256').update(fs.readFileSync(file!.path)).digest('hex');
  t.same(await compactMp4(file!.path), { compacted: false, bytesBefore: result.bytesAfter, bytesAfter: result.bytesAfter }, 'a compact file is left alone');
  t.equal(crypto.createHash('sha256').update(fs.readFileSync(file!.path)).digest('hex'), before, 'untouched');
  const notMp4 = path.join(dir, 'note.txt');
  fs.writeFileSync(notMp4, 'not an mp4 at all');
  t.same((await compactMp4(notMp4)).compacted, false, 'a file that is not an MP4 is left alone');
});
