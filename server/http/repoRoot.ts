import path from 'node:path';
import { findProjectRoot } from '../projectRoot';

/** The project root (see findProjectRoot). */
export function repoRoot(from: string = __dirname): string {
  return findProjectRoot(from);
}

/** Where scripts/build-web.js writes the page and its bundles. */
export function webDistDir(): string {
  return path.join(repoRoot(), 'dist', 'web');
}
