/**
 * The recorder process's life: a SIGKILL leaves a decodable file and a `died` event; idle inputs never
 * block a stop; a stop past its deadline kills the child and still returns the file; bad calls get codes.
 */
import t from 'tap';
import fs from 'node:fs';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import type { RecorderJob } from '../../plugin/recording/recorder/protocol';
import { startAudioPublisher, startVideoPublisher } from '../support/rtpSender';
import { decodeAll, decodedDurationS, gstDecode, probe } from '../support/mediaProbe';
import { audioInput, compositeJob, sleep, tmpDir, videoInput, withRecorder } from './helpers';

/** A recorder of `job` with one participant's video (red) and audio (440 Hz) flowing: both inputs have frames. */
async function recordingOneParticipant(t: Parameters<typeof withRecorder>[0], job: RecorderJob) {
  const { recorder, frames, publishers } = await withRecorder(t, job);
  const video = await recorder.addInput(videoInput('va', 'a'));
  const audio = await recorder.addInput(audioInput('aa', 'a'));
  publishers.push(startVideoPublisher({ port: video.rtpPort, color: 0xff0000 }), startAudioPublisher({ port: audio.rtpPort, frequency: 440 }));
  await frames.all(['va', 'aa']);
  return recorder;
}

t.test('SIGKILL mid-recording: died fires with a code, the file decodes to within ~2 s of the kill', async (t) => {
  const job = compositeJob(tmpDir('kill'));
  const recorder = await recordingOneParticipant(t, job);
  await sleep(4000);
  const died = new Promise<unknown[]>((resolve) => recorder.once('died', (...args) => resolve(args)));
  const killAt = (Date.now() - recorder.startedAt) / 1000;
  process.kill(recorder.pid!, 'SIGKILL');
  const [code, info] = await died;
  t.equal(code, 'RecorderFailed');
  t.match(info, { signal: 'SIGKILL' });
  await t.rejects(recorder.addInput(videoInput('vb', 'b')), { code: 'InvalidOperation' }, 'calls after death are refused');

  const file = `${job.outputDir}/out.mp4`;
  const decoded = await decodeAll(file);
  t.ok(decoded.ok, `ffmpeg decodes the killed file ${decoded.stderr}`);
  const videoS = await decodedDurationS(file, 'video');
  t.ok(videoS >= killAt - 2.5, `decoded ${videoS.toFixed(2)} s of video, killed at ${killAt.toFixed(2)} s`);
  t.ok((await decodedDurationS(file, 'audio')) >= killAt - 2.5, 'and the audio too');
  t.ok((await gstDecode(file)).ok, 'GStreamer reads it too');
});

/** Each thread of `pid`: its name and scheduling policy (/proc/<pid>/task/<tid>/stat field 41). */
function threadPolicies(pid: number): Array<{ name: string; policy: number }> {
  return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after the name start at field 3 (state).
      const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]);
      return [{ name, policy }];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}
const SCHED_BATCH = 3;

t.test('the recorder streams on SCHED_BATCH threads: the socket reader and the mixers never preempt the SFU', async (t) => {
  const recorder = await recordingOneParticipant(t, compositeJob(tmpDir('batch')));
  const threads = threadPolicies(recorder.pid!);
  for (const name of ['confrec-udp', 'mix:src', 'amix:src', 'mux:src']) {
    const thread = threads.find((candidate) => candidate.name === name);
    t.ok(thread, `a ${name} thread runs`);
    t.equal(thread?.policy, SCHED_BATCH, `${name} is SCHED_BATCH`);
  }
  t.equal(threadPolicies(process.pid).find((thread) => thread.name === 'node')?.policy, 0, 'the test process itself keeps SCHED_OTHER');
});

t.test('inputs that never receive a packet: start and stop complete (composite and individual)', async (t) => {
  for (const mode of ['composite', 'individual'] as const) {
    const job = compositeJob(tmpDir(`idle-${mode}`), { mode });
    const recorder = await RecorderProcess.spawn(job, { stopDeadlineMs: 20000 });
    t.teardown(() => recorder.close());
    await recorder.addInput(videoInput('vidle', 'a'));
    await recorder.addInput(audioInput('aidle', 'a'));
    await sleep(1000);
    let diedEvent = false;
    recorder.on('died', () => (diedEvent = true));
    // The deadline is generous: a hang would show as the child being killed (died/kill path), not as a slow test.
    const files = await recorder.stop();
    t.notOk(diedEvent, `${mode}: no died event`);
    if (mode === 'composite') {
      t.equal(files.length, 1, 'composite still has its (black, silent) file');
      t.ok((await probe(files[0].path)).durationS > 0.5);
    } else {
      t.same(files.map((file) => file.kind), ['metadata'], 'individual: no media files for silent inputs, only the (empty) offsets file');
      const metadata = JSON.parse(fs.readFileSync(`${job.outputDir}/out.json`, 'utf8'));
      t.same(metadata.files, []);
    }
  }
});

t.test('stop() past its deadline kills the child and still returns the file', async (t) => {
  const job = compositeJob(tmpDir('deadline'), { streamTypes: 'VideoOnly' });
  // A zero-length deadline: the child gets 500 ms (its floor) and the parent kills 1 ms later if needed.
  const recorder = await RecorderProcess.spawn(job, { stopDeadlineMs: 0, killGraceMs: 1 });
  t.teardown(() => recorder.close());
  await recorder.addInput(videoInput('vidle', 'a'));
  await sleep(2500);
  const files = await recorder.stop();
  t.equal(files.length, 1);
  t.ok(fs.statSync(files[0].path).size > 0);
  t.ok((await decodeAll(files[0].path)).ok, 'decodable either way');
  t.same(await recorder.stop(), files, 'stop is idempotent');
  recorder.close();
  recorder.close();
});

t.test('bad arguments and calls in the wrong state carry codes', async (t) => {
  await t.rejects(RecorderProcess.spawn({ ...compositeJob(tmpDir('bad')), outputDir: 'relative' }), { code: 'InvalidParameter' });
  await t.rejects(RecorderProcess.spawn({ ...compositeJob(tmpDir('bad')), fileBaseName: '../escape' }), { code: 'InvalidParameter' });
  const recorder = await RecorderProcess.spawn(compositeJob(tmpDir('bad')));
  t.teardown(() => recorder.close());
  await t.rejects(recorder.addInput({ ...videoInput('x', 'a'), kind: 'audio' }), { code: 'InvalidParameter' }, 'kind/codec mismatch');
  await t.rejects(recorder.addInput({ ...videoInput('a b', 'a') }), { code: 'InvalidParameter' }, 'unsafe inputId');
  await recorder.addInput(videoInput('dup', 'a'));
  await t.rejects(recorder.addInput(videoInput('dup', 'a')), { code: 'InvalidParameter' }, 'duplicate inputId');
  await t.rejects(recorder.removeInput('nope'), { code: 'InvalidParameter' });
  await t.rejects(recorder.setLayout('Diagonal' as never), { code: 'InvalidParameter' });
  await recorder.stop();
  await t.rejects(recorder.addInput(videoInput('late', 'a')), { code: 'InvalidOperation' }, 'after stop');
});
