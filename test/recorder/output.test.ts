/**
 * What a composite file contains: stream kinds per streamTypes, both publishers' tones in the mix, a
 * finalized MP4 whose duration is the recording's length according to two decoders.
 */
import t from 'tap';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import { RecorderJob } from '../../plugin/recording/recorder/protocol';
import { startAudioPublisher, startVideoPublisher } from '../support/rtpSender';
import { decodeAll, gstDecode, packetsAndFrames, pcm, probe, rms, toneShare } from '../support/mediaProbe';
import { audioInput, compositeJob, sleep, tmpDir, videoInput, withRecorder } from './helpers';

async function record(t: { teardown: (fn: () => Promise<void> | void) => void }, job: RecorderJob, kinds: Array<'audio' | 'video'>) {
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const ids: string[] = [];
  if (kinds.includes('video')) {
    const a = await recorder.addInput(videoInput('va', 'a'));
    const b = await recorder.addInput(videoInput('vb', 'b'));
    publishers.push(startVideoPublisher({ port: a.rtpPort, color: 0xff0000 }), startVideoPublisher({ port: b.rtpPort, color: 0x0000ff }));
    ids.push('va', 'vb');
  }
  if (kinds.includes('audio')) {
    const a = await recorder.addInput(audioInput('aa', 'a'));
    const b = await recorder.addInput(audioInput('ab', 'b'));
    publishers.push(startAudioPublisher({ port: a.rtpPort, frequency: 440 }), startAudioPublisher({ port: b.rtpPort, frequency: 1200 }));
    ids.push('aa', 'ab');
  }
  const mediaAt = (await frames.all(ids) - recorder.startedAt) / 1000;
  await sleep(2500);
  const stopAt = (Date.now() - recorder.startedAt) / 1000;
  const files = await recorder.stop();
  return { recorder, files, mediaAt, stopAt };
}

t.test('AudioVideo: finalized MP4, duration right in ffprobe and GStreamer, both tones mixed', async (t) => {
  const job = compositeJob(tmpDir('av'));
  const { files, mediaAt, stopAt } = await record(t, job, ['audio', 'video']);
  t.equal(files.length, 1);
  t.match(files[0], { kind: 'composite', codec: 'h264+aac', startOffsetMs: 0 });
  t.ok(files[0].path.endsWith('.mp4'));
  const info = await probe(files[0].path);
  t.same([info.video?.codec_name, info.audio?.codec_name, info.audio?.channels], ['h264', 'aac', 2]);
  t.ok(Math.abs(info.durationS - stopAt) <= 1, `ffprobe duration ${info.durationS} ≈ recording length ${stopAt}`);
  t.ok((await decodeAll(files[0].path)).ok, 'ffmpeg decodes every frame');
  for (const kind of ['video', 'audio'] as const) {
    const counts = await packetsAndFrames(files[0].path, kind);
    t.ok(counts.listed > 0 && counts.decoded === counts.listed && counts.discarded === 0, `${kind}: every listed sample decodes (${JSON.stringify(counts)})`);
  }
  const gst = await gstDecode(files[0].path);
  t.ok(gst.ok, `GStreamer decodes it ${gst.stderr}`);
  t.ok(Math.abs(gst.durationS - stopAt) <= 1, `GStreamer duration ${gst.durationS} ≈ ${stopAt}`);
  const samples = await pcm(files[0].path, mediaAt + 0.5, 1.5);
  t.ok(toneShare(samples, 440) > 0.2, `440 Hz present (${toneShare(samples, 440).toFixed(2)})`);
  t.ok(toneShare(samples, 1200) > 0.2, `1200 Hz present (${toneShare(samples, 1200).toFixed(2)})`);
  t.ok(toneShare(samples, 800) < 0.05, 'no energy where nobody sings');
});

t.test('AudioOnly: an .m4a with one AAC track holding both tones; video inputs refused', async (t) => {
  const job = compositeJob(tmpDir('ao'), { streamTypes: 'AudioOnly', audioProfile: 'MusicHighQuality' });
  const refusing = await RecorderProcess.spawn({ ...job, recordingId: `${job.recordingId}b`, fileBaseName: 'refusing' });
  t.teardown(() => refusing.close());
  await t.rejects(refusing.addInput(videoInput('va', 'a')), { code: 'InvalidParameter' });
  refusing.close();
  const { files, mediaAt } = await record(t, job, ['audio']);
  t.ok(files[0].path.endsWith('.m4a'));
  const info = await probe(files[0].path);
  t.same(info.streams.map((s) => s.codec_type), ['audio']);
  t.same([info.audio?.codec_name, info.audio?.channels, info.audio?.sample_rate], ['aac', 1, '48000'], 'MusicHighQuality: 48 kHz mono');
  const samples = await pcm(files[0].path, mediaAt + 0.5, 1.5);
  t.ok(toneShare(samples, 440) > 0.2 && toneShare(samples, 1200) > 0.2, 'both tones');
});

t.test('VideoOnly: one H.264 track, no audio; audio inputs refused with InvalidParameter', async (t) => {
  const job = compositeJob(tmpDir('vo'), { streamTypes: 'VideoOnly' });
  const recorder = await RecorderProcess.spawn(job);
  t.teardown(() => recorder.close());
  await t.rejects(recorder.addInput(audioInput('aa', 'a')), { code: 'InvalidParameter' });
  recorder.close();
  const { files } = await record(t, job, ['video']);
  const info = await probe(files[0].path);
  t.same(info.streams.map((s) => s.codec_type), ['video']);
  t.equal(info.video?.codec_name, 'h264');
});

t.test('silence when audio inputs never send: the audio track exists and is silent', async (t) => {
  const job = compositeJob(tmpDir('silent'), { streamTypes: 'AudioOnly' });
  const recorder = await RecorderProcess.spawn(job);
  t.teardown(() => recorder.close());
  await recorder.addInput(audioInput('aa', 'a'));
  await sleep(2000);
  const files = await recorder.stop();
  const samples = await pcm(files[0].path, 0.5, 1);
  t.ok(samples.length > 40000, 'decodable audio');
  t.ok(rms(samples) < 0.01, 'silent');
});
