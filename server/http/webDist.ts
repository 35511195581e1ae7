import path from 'node:path';
import { findProjectRoot } from '../projectRoot';

/** Where scripts/build-web.js writes the page and its bundles. */
export function webDistDir(): string {
  return path.join(findProjectRoot(), 'dist', 'web');
}
