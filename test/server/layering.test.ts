// The one-way order of docs/architecture.md: signaling/ ← server/ ← plugin/. The server owns the
// plugin contract and names no plugin, except in its composition root (main.ts, plugins.ts).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { findProjectRoot } from '../../server/projectRoot';

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((dirent) => {
    const file = path.join(dir, dirent.name);
    if (dirent.isDirectory()) return sourcesUnder(file);
    return dirent.name.endsWith('.ts') ? [file] : [];
  });
}

const root = findProjectRoot(__dirname);
const COMPOSITION_ROOT = new Set(['server/main.ts', 'server/plugins.ts']);

t.test('server/ mentions plugin/ nowhere but in its composition root (comments included)', async (t) => {
  const offending = sourcesUnder(path.join(root, 'server'))
    .map((file) => path.relative(root, file).split(path.sep).join('/'))
    .filter((relative) => !COMPOSITION_ROOT.has(relative))
    .flatMap((relative) =>
      fs
        .readFileSync(path.join(root, relative), 'utf8')
        .split('\n')
        .flatMap((line, index) => (line.includes('plugin/') ? [`${relative}:${index + 1}: ${line.trim()}`] : [])),
    );
  t.same(offending, [], 'no line of server/ outside main.ts and plugins.ts names plugin/');
  t.ok(fs.existsSync(path.join(root, 'server', 'plugins', 'contract.ts')), 'the contract lives in server/plugins/');
  t.notOk(fs.existsSync(path.join(root, 'plugin', 'PluginHost.ts')), 'and no longer in plugin/');
});

t.test('signaling/ imports neither server/ nor plugin/', async (t) => {
  const offending = sourcesUnder(path.join(root, 'signaling')).flatMap((file) =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, index) => (/from '(\.\.\/)+(server|plugin)\//.test(line) ? [`${path.relative(root, file)}:${index + 1}`] : [])),
  );
  t.same(offending, [], 'the wire module stays a leaf');
});
