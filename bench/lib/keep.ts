import fs from 'node:fs';
import path from 'node:path';
import { cacheDir } from './content';

/** BENCH_KEEP=1 copies output files to .cache/bench/outputs/ for a look by eye (they live in temp dirs). */
export function keepOutputs(files: Array<string | undefined>): void {
  if (!process.env.BENCH_KEEP) return;
  const dir = path.join(cacheDir(), 'outputs');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of files) {
    if (!file || !fs.existsSync(file)) continue;
    const name = `${Date.now()}-${path.basename(path.dirname(file))}-${path.basename(file)}`;
    fs.copyFileSync(file, path.join(dir, name));
  }
}
