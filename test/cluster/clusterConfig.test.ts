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

t.test('config/cluster.example.json loads through the real loader (CONFREC_CONFIG) and names every cluster field, with no secret in it', async (t) => {
  const root = path.join(__dirname, '..', '..', '..');
  const file = path.join(root, 'config', 'cluster.example.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const defaults = loadConfig({ env: {}, file: undefined, projectRoot: os.tmpdir() });
  t.same(Object.keys(raw.cluster).sort(), Object.keys(defaults.cluster).sort(), 'every cluster.* field is in the example');

  const config = loadConfig({ env: { CONFREC_CONFIG: file }, projectRoot: os.tmpdir() });
  t.match(config.cluster, { nodeId: 'media-1', publicUrl: 'https://media-1.example.com:8080', rtpAddress: '10.0.0.11', nodeTimeoutMs: 5000, leaseMs: 10_000 });
  t.match(config.cluster.redisUrl, /^redis:\/\/:[^@]+@[^/]+:6379\/0$/, 'a Redis URL with the password in it');
  t.match(config.http, { port: 8080, tls: 'auto', tlsCert: '/etc/confrec/tls/media-1.example.com.crt', tlsKey: '/etc/confrec/tls/media-1.example.com.key' });
  t.match(config.mediasoup, { announcedIp: '203.0.113.11', rtcMinPort: 40000, rtcMaxPort: 49999 });
  // Every node must share auth.secret (a redirected join carries the same token): it comes from the environment, never from a published file.
  t.equal(config.auth.secret, '', 'auth.secret left for CONFREC_AUTH_SECRET');
  t.equal(config.api.secret, '', 'api.secret left for CONFREC_API_SECRET');
  t.notMatch(describeConfig(config), 'REPLACE-WITH-THE-REDIS-PASSWORD', 'the Redis password is masked in the printed config');

  const withEnv = loadConfig({ env: { CONFREC_CONFIG: file, CONFREC_CLUSTER_NODE_ID: 'media-2', CONFREC_CLUSTER_PUBLIC_URL: 'https://media-2.example.com:8080' }, projectRoot: os.tmpdir() });
  t.match(withEnv.cluster, { nodeId: 'media-2', publicUrl: 'https://media-2.example.com:8080', rtpAddress: '10.0.0.11' }, 'one file for every node, the per-node fields from the environment');
});
