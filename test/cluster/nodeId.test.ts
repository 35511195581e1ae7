import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { resolveNodeId } from '../../server/cluster/nodeId';

t.test('an empty cluster.nodeId is generated once and kept in the state dir; a configured one wins', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-id-'));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const generated = resolveNodeId('', path.join(stateDir, 'var'));
  t.match(generated, /^[A-Za-z0-9._-]{1,64}$/);
  t.equal(resolveNodeId('', path.join(stateDir, 'var')), generated, 'the same id after a restart');
  t.equal(fs.readFileSync(path.join(stateDir, 'var', 'node-id'), 'utf8').trim(), generated);
  t.equal(resolveNodeId('media-1', path.join(stateDir, 'var')), 'media-1');
  t.throws(() => resolveNodeId('bad id/..', stateDir), { name: 'TypeError', message: /cluster\.nodeId/ });
  fs.writeFileSync(path.join(stateDir, 'var', 'node-id'), 'not/valid\n');
  t.throws(() => resolveNodeId('', path.join(stateDir, 'var')), { name: 'TypeError', message: /node-id/ });
});
