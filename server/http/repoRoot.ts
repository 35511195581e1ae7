import fs from 'node:fs';
import path from 'node:path';

/**
 * The directory holding package.json, found by walking up from this file: the compiled file sits at
 * a different depth depending on the out dir (dist/, dist-web/...), so no fixed '../..' is right.
 */
export function repoRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

/** Where scripts/build-web.js writes the page and its bundles. */
export function webDistDir(): string {
  return path.join(repoRoot(), 'dist', 'web');
}
