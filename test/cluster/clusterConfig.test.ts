import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { describeConfig, loadConfig } from '../../server/config';
import { refusedField } from '../support/configField';

t.test('the cluster section: single node by default, env overrides, the Redis URL masked, the example in step', async (t) => {
  const defaults = loadConfig({ env: {}, file: undefined, projectRoot: os.tmpdir() });
  t.same(defaults.cluster, { redisUrl: '', nodeId: '', publicUrl: '', rtpAddress: '', nodeTimeoutMs: 5000, leaseMs: 10_000, roles: ['media', 'recorder'] }, 'no Redis unless asked');
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
  t.match(config.cluster, { nodeId: 'media-1', publicUrl: 'https://media-1.example.com:8080', rtpAddress: '10.0.0.11', nodeTimeoutMs: 5000, leaseMs: 10_000, roles: ['media', 'recorder'] });
  t.match(config.cluster.redisUrl, /^redis:\/\/:[^@]+@[^/]+:6379\/0$/, 'a Redis URL with the password in it');
  t.match(config.http, { port: 8080, tls: 'auto', tlsCert: '/etc/confrec/tls/media-1.example.com.crt', tlsKey: '/etc/confrec/tls/media-1.example.com.key' });
  t.match(config.mediasoup, { announcedIp: '203.0.113.11', rtcMinPort: 40000, rtcMaxPort: 49999 });
  // Every node must share auth.secret (a redirected join carries the same token): it comes from the environment, never from a published file.
  t.equal(config.auth.secret, '', 'auth.secret left for CONFREC_AUTH_SECRET');
  t.equal(config.api.secret, '', 'api.secret left for CONFREC_API_SECRET');
  t.notMatch(describeConfig(config), 'REPLACE-WITH-THE-REDIS-PASSWORD', 'the Redis password is masked in the printed config');

  const withEnv = loadConfig({ env: { CONFREC_CONFIG: file, CONFREC_CLUSTER_NODE_ID: 'media-2', CONFREC_CLUSTER_PUBLIC_URL: 'https://media-2.example.com:8080' }, projectRoot: os.tmpdir() });
  t.match(withEnv.cluster, { nodeId: 'media-2', publicUrl: 'https://media-2.example.com:8080', rtpAddress: '10.0.0.11' }, 'one file for every node, the per-node fields from the environment');
  const recorderNode = loadConfig({ env: { CONFREC_CONFIG: file, CONFREC_CLUSTER_NODE_ID: 'recorder-1', CONFREC_CLUSTER_ROLES: 'recorder' }, projectRoot: os.tmpdir() });
  t.same(recorderNode.cluster.roles, ['recorder'], 'a recorder node from the same file');
});

t.test('cluster.roles: both by default; a list in the file, a comma list in CONFREC_CLUSTER_ROLES; unknown, repeated or no role refused', async (t) => {
  const load = (env: NodeJS.ProcessEnv, overrides?: object, file?: string) => loadConfig({ env, file, projectRoot: os.tmpdir(), ...(overrides ? { overrides } : {}) });
  t.same(load({}).cluster.roles, ['media', 'recorder'], 'default: media and recorder');
  t.same(load({ CONFREC_CLUSTER_ROLES: 'recorder' }).cluster.roles, ['recorder'], 'a recorder-only node from the environment');
  t.same(load({ CONFREC_CLUSTER_ROLES: ' media , recorder ' }).cluster.roles, ['media', 'recorder'], 'blanks around the commas ignored');
  t.same(load({ CONFREC_CLUSTER_ROLES: 'media' }).cluster.roles, ['media']);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-roles-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (content: unknown): string => {
    const name = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(name, JSON.stringify(content));
    return name;
  };
  t.same(load({}, undefined, file({ cluster: { roles: ['recorder'] } })).cluster.roles, ['recorder'], 'a JSON list in the config file');
  t.same(load({ CONFREC_CLUSTER_ROLES: 'media' }, undefined, file({ cluster: { roles: ['recorder'] } })).cluster.roles, ['media'], 'the environment over the file');

  t.equal(refusedField(() => load({ CONFREC_CLUSTER_ROLES: 'api' })), 'cluster.roles', 'an unknown role');
  t.equal(refusedField(() => load({ CONFREC_CLUSTER_ROLES: 'media,transcoder' })), 'cluster.roles', 'an unknown role beside a known one');
  t.equal(refusedField(() => load({ CONFREC_CLUSTER_ROLES: '' })), 'cluster.roles', 'an empty list (environment)');
  t.equal(refusedField(() => load({ CONFREC_CLUSTER_ROLES: ' , ' })), 'cluster.roles', 'a list of blanks');
  t.equal(refusedField(() => load({}, undefined, file({ cluster: { roles: [] } }))), 'cluster.roles', 'an empty list (file)');
  t.equal(refusedField(() => load({}, undefined, file({ cluster: { roles: 'recorder' } }))), 'cluster.roles', 'a string where a list belongs');
  t.equal(refusedField(() => load({}, undefined, file({ cluster: { roles: ['media', 3] } }))), 'cluster.roles', 'a list of other than strings');
  t.equal(refusedField(() => load({ CONFREC_CLUSTER_ROLES: 'media,media' })), 'cluster.roles', 'a role named twice');
  t.equal(refusedField(() => load({}, { cluster: { roles: ['media', 'Recorder'] } })), 'cluster.roles', 'roles are case-sensitive (overrides go through the same check)');
  t.throws(() => load({ CONFREC_CLUSTER_ROLES: 'api' }), { name: 'ConfigError', message: /"api" is not a role \(known: media, recorder\)/ }, 'the message names the role and the known ones');
});

t.test('recording.capacityUnits: 0 (derived from the cores) by default, a non-negative integer', async (t) => {
  const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, file: undefined, projectRoot: os.tmpdir() });
  t.equal(load({}).recording.capacityUnits, 0);
  t.equal(load({ CONFREC_RECORDING_CAPACITY_UNITS: '400' }).recording.capacityUnits, 400);
  t.equal(refusedField(() => load({ CONFREC_RECORDING_CAPACITY_UNITS: '-1' })), 'recording.capacityUnits');
  t.equal(refusedField(() => load({ CONFREC_RECORDING_CAPACITY_UNITS: '2.5' })), 'recording.capacityUnits');
  t.equal(refusedField(() => load({ CONFREC_RECORDING_CAPACITY_UNITS: 'lots' })), 'recording.capacityUnits');
});
