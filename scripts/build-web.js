#!/usr/bin/env node
/**
 * Builds the web page into dist/web/ (served by server/http/webRoutes.ts):
 *
 *   dist/web/index.html                 ← web/index.html
 *   dist/web/assets/style.css           ← web/style.css
 *   dist/web/assets/app.js              ← web/app.ts + the client SDK + mediasoup-client (esbuild)
 *   dist/web/assets/confrec-client.js   ← the client SDK alone, global `ConfrecClient`, for app developers
 *
 * Plain Node (no TypeScript step) because scripts/setup.sh runs it after tsc on every `npm start`:
 * it does nothing when every output is newer than every input, so a second start costs milliseconds.
 * Usage: node scripts/build-web.js [--force]
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'dist', 'web');
const assetsDir = path.join(outDir, 'assets');

const copies = [
  [path.join(root, 'web', 'index.html'), path.join(outDir, 'index.html')],
  [path.join(root, 'web', 'style.css'), path.join(assetsDir, 'style.css')],
];
const bundles = [
  { entry: path.join(root, 'web', 'app.ts'), outfile: path.join(assetsDir, 'app.js') },
  { entry: path.join(root, 'signaling', 'client', 'index.ts'), outfile: path.join(assetsDir, 'confrec-client.js'), globalName: 'ConfrecClient' },
];

/** Newest mtime of the files under `dir` whose names match `pattern`. */
function newestUnder(dir, pattern) {
  let newest = 0;
  const walk = (current) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (pattern.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return newest;
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function upToDate() {
  const inputs = Math.max(
    newestUnder(path.join(root, 'web'), /\.(ts|html|css)$/),
    newestUnder(path.join(root, 'signaling'), /\.ts$/),
    mtime(path.join(root, 'node_modules', 'mediasoup-client', 'package.json')),
    mtime(__filename),
  );
  const outputs = [...copies.map(([, to]) => to), ...bundles.map((bundle) => bundle.outfile)];
  return outputs.every((file) => mtime(file) > inputs);
}

async function main() {
  const force = process.argv.includes('--force');
  if (!force && upToDate()) return;
  const started = Date.now();
  const esbuild = require('esbuild');
  fs.mkdirSync(assetsDir, { recursive: true });
  for (const [from, to] of copies) fs.copyFileSync(from, to);
  await Promise.all(
    bundles.map((bundle) =>
      esbuild.build({
        entryPoints: [bundle.entry],
        outfile: bundle.outfile,
        bundle: true,
        format: 'iife',
        ...(bundle.globalName ? { globalName: bundle.globalName } : {}),
        platform: 'browser',
        target: ['chrome100', 'firefox100', 'safari15'],
        sourcemap: true,
        minify: true,
        legalComments: 'linked',
        logLevel: 'warning',
        // mediasoup-client's `debug` dependency reads process.env.DEBUG when it exists.
        define: { 'process.env.NODE_ENV': '"production"' },
      }),
    ),
  );
  console.error(`[build-web] dist/web built in ${Date.now() - started} ms`);
}

main().catch((error) => {
  console.error(`[build-web] failed: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
