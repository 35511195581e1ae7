/**
 * `npm run bench` — runs the benchmarks, prints a table and writes the figures as JSON to
 * bench/results/<date>.json (not committed).
 *
 *   node dist/bench/run.js [--quick] [--only name[,name]] [--out file.json] [--recordings K] [--duration S]
 *
 * --quick: short durations (dev, CI smoke); without it the durations of issue 7 (minutes: ~25 min).
 * --only takes benchmark names or groups: `--only cluster` runs `cluster` and `recorders`.
 */
process.env.LOG_LEVEL ??= 'warn';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findProjectRoot } from '../server/projectRoot';
import { BENCHMARKS } from './benchmarks';
import type { Benchmark, BenchOptions } from './benchmarks/types';
import { BenchEnv } from './lib/env';
import { BenchResult, collectContext, printTable, Report } from './lib/report';

/** A benchmark is selected by its name or its group's. */
function selects(names: readonly string[], bench: Benchmark): boolean {
  return names.includes(bench.name) || (bench.group !== undefined && names.includes(bench.group));
}

export async function runBenchmarks(names: string[], options: BenchOptions, command: string, log: (line: string) => void = console.log): Promise<Report> {
  const unknown = names.filter((name) => !BENCHMARKS.some((bench) => selects([name], bench)));
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  const selected = names.length ? BENCHMARKS.filter((bench) => selects(names, bench)) : BENCHMARKS;
  const report: Report = { context: collectContext(options.quick ? 'quick' : 'full', command), benchmarks: [] };
  const env = await BenchEnv.start();
  try {
    for (const bench of selected) {
      log(`[bench] ${bench.name}: ${bench.title}`);
      const started = performance.now();
      let result: BenchResult;
      try {
        const output = await bench.run(env, options);
        result = { name: bench.name, title: bench.title, ...output, wallS: (performance.now() - started) / 1000 };
      } catch (error) {
        result = { name: bench.name, title: bench.title, params: {}, figures: [], notes: [], wallS: (performance.now() - started) / 1000, error: String((error as Error).stack ?? error) };
        log(`[bench] ${bench.name} failed: ${result.error}`);
      }
      report.benchmarks.push(result);
    }
  } finally {
    await env.close();
  }
  report.context.machine.loadAverageAtEnd = require('node:os').loadavg().map((value: number) => Math.round(value * 100) / 100);
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      recordings: { type: 'string' },
      duration: { type: 'string' },
    },
  });
  const names = (values.only ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  const options: BenchOptions = { quick: values.quick ?? false };
  if (values.recordings) options.recordings = Number(values.recordings);
  if (values.duration) options.durationS = Number(values.duration);
  const args = process.argv.slice(2).join(' ');
  const command = `npm run bench${args ? ` -- ${args}` : ''}`;
  const report = await runBenchmarks(names, options, command);
  const out = values.out ?? path.join(findProjectRoot(__dirname), 'bench', 'results', `${report.context.date.replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${printTable(report)}`);
  console.log(`results: ${out}`);
  if (report.benchmarks.some((bench) => bench.error)) process.exitCode = 1;
}

if (require.main === module) {
  main().then(
    () => process.exit(),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
