import type { BenchEnv } from '../lib/env';
import type { BenchResult } from '../lib/report';

export interface BenchOptions {
  quick: boolean;
  /** Override of the concurrent composite count (--recordings). */
  recordings?: number;
  /** Override of a benchmark's measuring duration in seconds (--duration). */
  durationS?: number;
}

export interface Benchmark {
  name: string;
  /** `--only <group>` runs every benchmark of the group (`--only <name>` still runs this one alone). */
  group?: string;
  title: string;
  run(env: BenchEnv, options: BenchOptions): Promise<Omit<BenchResult, 'name' | 'title' | 'wallS'>>;
}
