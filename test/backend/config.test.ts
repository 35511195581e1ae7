import os from 'node:os';
import t from 'tap';
import { refusedField } from '../support/configField';
import { describeConfig, loadConfig, webhookUrls } from '../../server/config';

const load = (env: Record<string, string>) => loadConfig({ env, file: undefined, projectRoot: os.tmpdir() });


t.test('api and webhooks config: defaults, validation naming the field, secrets masked', async (t) => {
  const defaults = load({});
  t.equal(defaults.api.enabled, true, 'backend control is on by default');
  t.same(webhookUrls(defaults), [], 'no webhooks by default');
  t.same(webhookUrls(load({ CONFREC_WEBHOOKS_URLS: ' http://a.example/h , https://b.example/h ,' })), ['http://a.example/h', 'https://b.example/h'], 'comma separated, blanks dropped');
  t.equal(refusedField(() => load({ CONFREC_WEBHOOKS_URLS: 'ftp://a.example/h' })), 'webhooks.urls', 'non-http URL refused');
  t.equal(refusedField(() => load({ CONFREC_API_SECRET: 'short' })), 'api.secret', 'short API secret refused');
  t.equal(refusedField(() => load({ CONFREC_WEBHOOKS_SECRET: 'short' })), 'webhooks.secret', 'short webhook secret refused');
  t.equal(refusedField(() => load({ CONFREC_WEBHOOKS_MAX_ATTEMPTS: '0' })), 'webhooks.maxAttempts');
  t.equal(refusedField(() => load({ CONFREC_API_MAX_BODY_BYTES: '10' })), 'api.maxBodyBytes');
  const apiSecret = 'api-secret-0123456789abcdef';
  const hookSecret = 'hook-secret-0123456789abcdef';
  const printed = describeConfig(load({ CONFREC_API_SECRET: apiSecret, CONFREC_WEBHOOKS_SECRET: hookSecret }));
  t.notOk(printed.includes(apiSecret) || printed.includes(hookSecret), 'both secrets masked when the config is printed');
});
