/**
 * Per-participant mode: one file per input, codecs untouched, and a metadata file whose offsets match
 * when each publisher started.
 */
import t from 'tap';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { startAudioPublisher, startVideoPublisher } from '../support/rtpSender';
import { colorName, decodeAll, frameAt, gstDecode, meanColor, packetsAndFrames, probe } from '../support/mediaProbe';
import { audioInput, compositeJob, H264, sleep, tmpDir, videoInput, withRecorder } from './helpers';

t.test('individual: VP8 → WebM, Opus → WebM, H.264 → MP4; offsets follow the join times', async (t) => {
  const job = compositeJob(tmpDir('individual'), { mode: 'individual' });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const vp8 = await recorder.addInput(videoInput('v1', 'alice'));
  const opus = await recorder.addInput(audioInput('a1', 'alice'));
  const idle = await recorder.addInput(videoInput('v3', 'carol'));
  t.ok(idle.rtpPort > 0);
  publishers.push(startVideoPublisher({ port: vp8.rtpPort, color: 0xff0000 }), startAudioPublisher({ port: opus.rtpPort, frequency: 440 }));
  const early = await frames.all(['v1', 'a1']);
  await sleep(2000);
  const lateStart = Date.now();
  const h264 = await recorder.addInput(videoInput('v2', 'bob', H264));
  publishers.push(startVideoPublisher({ port: h264.rtpPort, color: 0x0000ff, codec: 'H264' }));
  await frames.waitFor('v2');
  await sleep(2000);
  const allFiles = await recorder.stop();
  const metadataFile = allFiles.find((file) => file.kind === 'metadata');
  t.equal(metadataFile?.path, `${job.outputDir}/out.json`, 'the offsets file is one of the recorded files');
  const files = allFiles.filter((file) => file.kind !== 'metadata');

  const byId = Object.fromEntries(files.map((file) => [file.inputId, file]));
  t.same(Object.keys(byId).sort(), ['a1', 'v1', 'v2'], 'one file per input that sent media; none for the idle one');
  t.match(byId.v1, { kind: 'video', uid: 'alice', codec: 'vp8' });
  t.match(byId.a1, { kind: 'audio', uid: 'alice', codec: 'opus' });
  t.match(byId.v2, { kind: 'video', uid: 'bob', codec: 'h264' });
  t.ok(byId.v1.path.endsWith('.webm') && byId.a1.path.endsWith('.webm') && byId.v2.path.endsWith('.mp4'));

  t.same((await probe(byId.v1.path)).streams.map((s) => s.codec_name), ['vp8'], 'VP8 not re-encoded');
  t.same((await probe(byId.a1.path)).streams.map((s) => s.codec_name), ['opus'], 'Opus not re-encoded');
  t.same((await probe(byId.v2.path)).streams.map((s) => s.codec_name), ['h264'], 'H.264 not re-encoded');
  for (const file of files) {
    t.ok((await decodeAll(file.path)).ok, `${file.inputId} decodes in FFmpeg`);
    t.ok((await gstDecode(file.path)).ok, `${file.inputId} decodes in GStreamer`);
    const counts = await packetsAndFrames(file.path, file.kind === 'audio' ? 'audio' : 'video');
    t.ok(counts.listed > 0 && counts.decoded === counts.listed && counts.discarded === 0, `${file.inputId}: every listed sample decodes (${JSON.stringify(counts)})`);
  }
  t.equal(colorName(meanColor(await frameAt(byId.v1.path, 0.5), { x: 0, y: 0, width: 320, height: 240 })), 'red');
  t.equal(colorName(meanColor(await frameAt(byId.v2.path, 0.5), { x: 0, y: 0, width: 320, height: 240 })), 'blue');

  const metadata = JSON.parse(fs.readFileSync(`${job.outputDir}/out.json`, 'utf8'));
  t.equal(metadata.recordingId, job.recordingId);
  t.same(metadata.files.map((f: { file: string }) => f.file).sort(), files.map((f) => f.path.split('/').pop()).sort());
  const gap = (byId.v2.startOffsetMs - byId.v1.startOffsetMs) / 1000;
  const expectedGap = (lateStart - early) / 1000;
  t.ok(Math.abs(gap - expectedGap) < 1, `late joiner offset gap ${gap.toFixed(2)} s ≈ ${expectedGap.toFixed(2)} s`);
  t.ok(Math.abs(byId.a1.startOffsetMs - byId.v1.startOffsetMs) < 1000, 'audio and video of one user start together');
  const fileStart = (await probe(byId.v2.path)).durationS;
  t.ok(fileStart > 1, 'the late file holds its own media only');
});

t.test('individual: H.264 whose SPS has no frame timing (OpenH264, as Chromium sends): every listed sample decodes', async (t) => {
  const job = compositeJob(tmpDir('individual-openh264'), { mode: 'individual' });
  const { recorder, frames, publishers } = await withRecorder(t, job);
  // With an RTCP target, as the server feeds it (an rtpbin session in front of the depayloader).
  const transportRtcp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => transportRtcp.bind(0, '127.0.0.1', resolve));
  t.teardown(() => transportRtcp.close());
  const input = { ...videoInput('v1', 'dave', H264), rtcp: { ip: '127.0.0.1', port: transportRtcp.address().port } };
  const ports = await recorder.addInput(input);
  publishers.push(startVideoPublisher({ port: ports.rtpPort, color: 0x00ff00, codec: 'H264', h264Encoder: 'openh264', ssrc: input.ssrc, payloadType: H264.payloadType }));
  await frames.waitFor('v1');
  await sleep(3000);
  const [file] = (await recorder.stop()).filter((f) => f.kind === 'video');
  t.ok(file?.path.endsWith('.mp4'), 'an MP4 was written');
  const counts = await packetsAndFrames(file!.path);
  t.ok(counts.listed >= 20, `it holds the stream (${counts.listed} samples)`);
  t.equal(counts.discarded, 0, 'no sample is flagged discarded');
  t.equal(counts.decoded, counts.listed, 'FFmpeg decodes as many frames as the file lists');
  t.ok((await gstDecode(file!.path)).ok, 'decodes in GStreamer');
  t.equal(colorName(meanColor(await frameAt(file!.path, 0.5), { x: 0, y: 0, width: 320, height: 240 })), 'green');
});
