import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { describeConfig, loadConfig } from '../../server/config';

t.test('the cluster section: single node by default, env overrides, the Redis URL masked, the example in step', async (t) => {
  const defaults = loadConfig({ env: {}, file: undefined, projectRoot: os.tmpdir() });
  t.same(defaults.cluster, { redisUrl: '', nodeId: '', publicUrl: '', rtpAddress: '', nodeTimeoutMs: 5000, leaseMs: 10_000 }, 'no Redis unless asked');
  const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'config', 'example.json'), 'utf8'));
  t.same(example.cluster, defaults.cluster, 'config/example.json shows every cluster default');

  const url = 'redis://:hunter2-very-secret@redis.internal:6379/0';
  const config = loadConfig({
    env: { CONFREC_CLUSTER_REDIS_URL: url, CONFREC_CLUSTER_NODE_ID: 'media-1', CONFREC_CLUSTER_NODE_TIMEOUT_MS: '3000' },
    file: undefined,
    projectRoot: os.tmpdir(),
  });
  t.equal(config.cluster.redisUrl, url);
  t.equal(config.cluster.nodeId, 'media-1');
  t.equal(config.cluster.nodeTimeoutMs, 3000);
  const printed = describeConfig(config);
  t.notMatch(printed, 'hunter2', 'the Redis password is never printed');
  t.match(JSON.parse(printed).cluster, { redisUrl: '***', nodeId: 'media-1' });
});
