import fs from 'node:fs';
import path from 'node:path';

/**
 * The directory holding package.json, found by walking up: compiled files sit at a different depth
 * depending on the out dir (dist/, dist-web/…), so no fixed '../..' is right.
 */
export function findProjectRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}
