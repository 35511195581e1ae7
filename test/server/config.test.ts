import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { refusedField } from '../support/configField';
import { ConfigError, describeConfig, loadConfig } from '../../server/config';

t.test('defaults need no file and no service', async (t) => {
  const config = loadConfig({ env: {}, file: undefined, projectRoot: os.tmpdir() });
  t.equal(config.http.port, 8080);
  t.equal(config.auth.enabled, true, 'auth is on by default');
  t.equal(config.recording.defaultStorage, 'local', 'local storage is the embedded default');
});

t.test('file then environment override defaults; errors name the field', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confrec-config-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ http: { port: 9000 }, mediasoup: { numWorkers: 3 } }));
  const config = loadConfig({ file, env: { CONFREC_MEDIASOUP_NUM_WORKERS: '1', CONFREC_AUTH_ENABLED: 'false' }, projectRoot: dir });
  t.equal(config.http.port, 9000, 'file overrides default');
  t.equal(config.mediasoup.numWorkers, 1, 'env overrides file');
  t.equal(config.auth.enabled, false, 'booleans from env');

  t.equal(refusedField(() => loadConfig({ env: { CONFREC_HTTP_PORT: 'eighty' }, projectRoot: dir })), 'http.port', 'bad env number');
  t.equal(refusedField(() => loadConfig({ env: { CONFREC_HTTP_PORT: '70000' }, projectRoot: dir })), 'http.port', 'port out of range');
  fs.writeFileSync(file, JSON.stringify({ http: { prot: 1 } }));
  t.equal(refusedField(() => loadConfig({ file, env: {}, projectRoot: dir })), 'http.prot', 'unknown field named');
  fs.writeFileSync(file, JSON.stringify({ mediasoup: { rtcMinPort: 5000, rtcMaxPort: 4000 } }));
  t.equal(refusedField(() => loadConfig({ file, env: {}, projectRoot: dir })), 'mediasoup.rtcMaxPort');
  fs.writeFileSync(file, '{ not json');
  t.throws(() => loadConfig({ file, env: {}, projectRoot: dir }), ConfigError, 'unreadable file');
});

t.test('the printed config masks secrets', async (t) => {
  const secret = 'super-secret-value-0123456789';
  const config = loadConfig({ env: { CONFREC_AUTH_SECRET: secret }, projectRoot: os.tmpdir() });
  const printed = describeConfig(config);
  t.notOk(printed.includes(secret), 'secret absent from the printed config');
  t.match(printed, /"secret":"\*\*\*"/, 'masked in place');
});


t.test('socket limits come from the environment and are validated by name', async (t) => {
  const config = loadConfig({
    env: {
      CONFREC_SIGNALING_MAX_BUFFERED_BYTES: '131072',
      CONFREC_SIGNALING_JOIN_TIMEOUT_MS: '3000',
      CONFREC_SIGNALING_PING_INTERVAL_MS: '5000',
      CONFREC_SIGNALING_PING_TIMEOUT_MS: '4000',
      CONFREC_SIGNALING_MAX_CONNECTIONS_PER_IP: '7',
      CONFREC_SIGNALING_MAX_CONNECTIONS: '70',
    },
    file: undefined,
    projectRoot: os.tmpdir(),
  });
  t.same(
    [config.signaling.maxBufferedBytes, config.signaling.joinTimeoutMs, config.signaling.pingIntervalMs, config.signaling.pingTimeoutMs, config.signaling.maxConnectionsPerIp, config.signaling.maxConnections],
    [131072, 3000, 5000, 4000, 7, 70],
  );
  const refused = (env: Record<string, string>): string | undefined => refusedField(() => loadConfig({ env, file: undefined, projectRoot: os.tmpdir() }));
  t.equal(refused({ CONFREC_SIGNALING_MAX_BUFFERED_BYTES: '1000' }), 'signaling.maxBufferedBytes', 'below 64 KiB');
  t.equal(refused({ CONFREC_SIGNALING_JOIN_TIMEOUT_MS: '0' }), 'signaling.joinTimeoutMs');
  t.equal(refused({ CONFREC_SIGNALING_PING_TIMEOUT_MS: '1.5' }), 'signaling.pingTimeoutMs', 'not an integer');
  t.equal(refused({ CONFREC_SIGNALING_MAX_CONNECTIONS_PER_IP: '0' }), 'signaling.maxConnectionsPerIp');
  t.equal(refused({ CONFREC_SIGNALING_MAX_CONNECTIONS: 'many' }), 'signaling.maxConnections');
});

t.test('config/example.json shows every signaling default', async (t) => {
  const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'config', 'example.json'), 'utf8'));
  const defaults = loadConfig({ env: {}, file: undefined, projectRoot: os.tmpdir() });
  t.same(example.signaling, defaults.signaling);
});
