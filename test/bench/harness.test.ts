/**
 * Keeps the benchmark harness alive in CI: a few seconds of the quick composite benchmark with one
 * recording, checked for well-formed figures (units, non-zero CPU, a real-time ratio), and the README
 * block renderer on its output.
 */
import t from 'tap';
import { renderBlock, rewriteReadme, END_MARK, START_MARK } from '../../bench/readme';
import { runBenchmarks } from '../../bench/run';

t.test('quick composite benchmark produces well-formed figures', async (t) => {
  const report = await runBenchmarks(['composite'], { quick: true, recordings: 1, durationS: 3 }, 'test', () => undefined);
  t.equal(report.context.machine.cores > 0, true, 'machine cores recorded');
  t.match(report.context.versions, { mediasoup: /^3\.12\./, gstreamer: /^1\./ }, 'mediasoup and GStreamer versions recorded');
  t.ok(Date.parse(report.context.date) > 0, 'date recorded');
  const [bench] = report.benchmarks;
  t.equal(bench?.error, undefined, `benchmark ran (${bench?.error ?? 'ok'})`);
  const byKey = new Map(bench!.figures.map((f) => [f.key, f]));
  for (const f of bench!.figures) t.ok(f.unit.length > 0, `${f.key} names its unit (${f.unit})`);
  const cpu = byKey.get('composite.ours.cpuPerRecordingSecond');
  t.ok(cpu && cpu.value !== null && cpu.value > 0, `our recorder CPU is non-zero (${cpu?.value} ${cpu?.unit})`);
  const ffmpeg = byKey.get('composite.ffmpeg.cpuPerRecordingSecond');
  t.ok(ffmpeg && ffmpeg.value !== null && ffmpeg.value > 0, `FFmpeg CPU is non-zero (${ffmpeg?.value})`);
  const realtime = byKey.get('composite.ours.realtimeRatio');
  t.ok(realtime && realtime.value !== null && realtime.value > 0.5 && realtime.value < 1.5, `real-time ratio present and sane (${realtime?.value})`);
  t.ok(byKey.get('composite.ours.recordingsPerCore')?.target, 'the per-core figure carries its target');

  const block = renderBlock(report, 'bench/results/x.json');
  const readme = rewriteReadme(`intro\n${START_MARK}\nold\n${END_MARK}\nrest\n`, block);
  t.match(readme, /^intro\n<!-- bench:start -->/, 'text before the block kept');
  t.match(readme, /<!-- bench:end -->\nrest\n$/, 'text after the block kept');
  t.match(readme, /recorder CPU per recording-second \| [\d.]+ cpu-s\/s/, 'table row with value and unit');
  t.notMatch(readme, /\nold\n/, 'old block content replaced');
});
