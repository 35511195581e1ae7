/**
 * The cost model of recorder capacity (plugin/recording/cluster/recordingCost.ts): it gives back
 * the benchmark's figures where they were measured, grows with participants and canvas between
 * and beyond them, counts per-participant recordings per stream, and a node's capacity is
 * recording.capacityUnits or 800 units per core.
 */
import t from 'tap';
import { COST_UNITS_PER_CORE, DERIVED_UNITS_PER_CORE, recorderCapacity, recordingCost, recordingCostOf, RecordingCostSpec } from '../../plugin/recording/cluster/recordingCost';
import { DEFAULT_RECORDING_CONFIG, resolveRecordingConfig } from '../../plugin/recording/recordingConfig';

const REFERENCE = { width: 640, height: 360, fps: 15 };

function composite(participants: number, canvas = REFERENCE, audio = participants): number {
  return recordingCost({ recordingMode: 'composite', recordingStreamTypes: 'AudioVideo', canvas, inputs: { audio, video: participants } });
}

function individual(inputs: RecordingCostSpec['inputs'], recordingStreamTypes: RecordingCostSpec['recordingStreamTypes'] = 'AudioVideo'): number {
  return recordingCost({ recordingMode: 'individual', recordingStreamTypes, canvas: REFERENCE, inputs });
}

t.test('a composite on the benchmark canvas costs what the scaling benchmark measured, interpolated between and extended beyond', async (t) => {
  // README benchmark block of 2026-12-03, "Scaling": 0.0576, 0.0716, 0.1006, 0.1856, 0.3206 cpu-s/s.
  t.same([1, 2, 4, 9, 17].map((n) => composite(n)), [58, 72, 101, 186, 321], 'the measured points, in thousandths of a core');
  t.equal(composite(3), 87, 'between 2 and 4: on the line (86.5, rounded up)');
  t.equal(composite(25), 456, 'beyond 17: the 9→17 slope goes on (every producer is decoded)');
  for (let n = 1; n < 30; n++) t.ok(composite(n + 1) > composite(n), `${n + 1} participants cost more than ${n}`);
  t.equal(composite(0), composite(1), 'a composite nobody publishes to yet counts as one participant');
  t.equal(Math.floor(COST_UNITS_PER_CORE / composite(4)), 9, 'about 9.9 four-party composites per core (the bench says 10.3 with two at once)');
  t.equal(composite(4, REFERENCE, 6), composite(4) + 4, 'two voices without video add two streams (2 × 1.8, rounded up)');
});

t.test('the canvas: cost grows with width × height × fps beyond 640×360@15; smaller canvases count as it', async (t) => {
  t.equal(composite(1, { width: 1280, height: 720, fps: 15 }), 58 + 25 * 3, '1 party at 4× the pixel rate: 25 units per multiple');
  t.equal(composite(4, { width: 1280, height: 720, fps: 30 }), 101 + 25 * 7, '4 parties at 8×: 25 units per multiple too (the steeper fit, 1 party\'s)');
  t.equal(composite(4, { width: 640, height: 360, fps: 30 }), composite(4, { width: 1280, height: 360, fps: 15 }), 'fps and pixels count alike');
  t.equal(composite(4, { width: 320, height: 180, fps: 15 }), composite(4), 'a small canvas saves little: counted as the reference');
  const defaults = DEFAULT_RECORDING_CONFIG.transcodingConfig;
  t.equal(composite(4, defaults), composite(4), `the default canvas (${defaults.width}×${defaults.height}@${defaults.fps}) is the reference's pixel rate`);
});

t.test('per-participant recordings cost per stream (0.0018 core), one participant at least; stream types count', async (t) => {
  t.equal(individual({ audio: 4, video: 4 }), 15, '8 streams × 1.8, rounded up');
  t.equal(individual({ audio: 0, video: 0 }), 4, 'nobody publishing yet: one participant with audio and video');
  t.equal(individual({ audio: 4, video: 4 }, 'AudioOnly'), 8, 'AudioOnly records the audio streams only');
  t.equal(individual({ audio: 4, video: 4 }, 'VideoOnly'), 8, 'VideoOnly the video streams only');
  t.equal(individual({ audio: 0, video: 0 }, 'AudioOnly'), 2, 'one stream at least');
});

t.test('an audio-only composite: 18 + 2.5 per participant (the cost benchmark), its canvas and video ignored', async (t) => {
  const audioComposite = (audio: number, video = audio) => recordingCost({ recordingMode: 'composite', recordingStreamTypes: 'AudioOnly', canvas: { width: 1920, height: 1080, fps: 30 }, inputs: { audio, video } });
  t.same([0, 1, 4, 9].map((n) => audioComposite(n)), [21, 21, 28, 41], 'measured 21, 27 and 39 with 1, 4 and 9');
  for (const n of [1, 4, 9, 17]) t.ok(audioComposite(n) < composite(n), `${n} participants: less than with video (${audioComposite(n)} < ${composite(n)})`);
  t.equal(audioComposite(4, 0), audioComposite(4), 'video producers do not count');
});

t.test('recordingCostOf counts what the channel publishes now, by kind', async (t) => {
  const producers = (kinds: Array<'audio' | 'video'>) => ({ producers: () => kinds.map((kind, index) => ({ producerId: `p${index}`, kind, paused: false, uid: `u${index}` })) });
  const config = resolveRecordingConfig({ recordingMode: 'composite' });
  t.equal(recordingCostOf(config, producers(['audio', 'video', 'audio', 'video', 'audio', 'video', 'audio', 'video'])), 101, 'four publishers of audio and video');
  t.equal(recordingCostOf(config, producers([])), 58, 'an empty channel');
  t.equal(recordingCostOf(resolveRecordingConfig({ recordingMode: 'individual' }), producers(['audio', 'video', 'video'])), 6, 'three streams per participant');
});

t.test("a node's capacity: recording.capacityUnits, else 800 units per core", async (t) => {
  t.equal(DERIVED_UNITS_PER_CORE, 800);
  t.equal(recorderCapacity(0, 2), 1600, '2 cores');
  t.equal(recorderCapacity(0, 16), 12_800, '16 cores');
  t.equal(recorderCapacity(400, 16), 400, 'configured: as given, whatever the cores');
  t.ok(recorderCapacity(0) >= DERIVED_UNITS_PER_CORE, 'this machine has a core at least');
});
