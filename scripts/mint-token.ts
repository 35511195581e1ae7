import { parseArgs } from 'node:util';
import { mintToken } from '../server/auth/token';
import { resolveAuthSecret } from '../server/auth/token';
import { loadConfig } from '../server/config';
import { isWildcard } from '../server/network/RtcAddresses';
import { detectPrimaryAddress } from '../server/network/primaryAddress';

/**
 * Prints a join token signed with this server's secret (the same config and state dir as
 * `npm start`). Usage: npm run token -- --channel demo --uid alice [--role host|audience]
 * [--no-publish] [--no-record] [--ttl 3600]
 */
const { values } = parseArgs({
  options: {
    channel: { type: 'string', default: 'demo' },
    uid: { type: 'string', default: 'user' },
    role: { type: 'string', default: 'host' },
    ttl: { type: 'string', default: '86400' },
    'no-publish': { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const role = values.role === 'audience' ? 'audience' : 'host';
const config = loadConfig();
const secret = resolveAuthSecret(config.auth.secret, config.recording.stateDir);
const ttl = Number(values.ttl);
if (!Number.isFinite(ttl) || ttl <= 0) {
  console.error('--ttl must be a positive number of seconds');
  process.exit(2);
}
const token = mintToken(secret, {
  appId: config.auth.appId,
  channelId: values.channel!,
  uid: values.uid!,
  role,
  privileges: { publish: !values['no-publish'] && role === 'host', record: !values['no-record'] },
  exp: Math.floor(Date.now() / 1000) + ttl,
});
console.log(token);
// Links that open the web page with the join form filled in (stderr keeps stdout a bare token for scripts).
const query = new URLSearchParams({ channel: values.channel!, name: values.uid!, token });
void pageHost().then((host) => {
  if (config.http.tls === 'off') {
    console.error(`Open in a browser: http://${host}:${config.http.port}/?${query.toString()}`);
    return;
  }
  console.error(`Open in a browser: https://${host}:${config.http.port}/?${query.toString()}`);
  if (isWildcard(config.http.listenIp)) console.error(`  (on this machine also: http://localhost:${config.http.port}/?${query.toString()})`);
});

/** Where other machines reach the page: the listen address, else the primary one WebRTC announces. */
async function pageHost(): Promise<string> {
  if (!isWildcard(config.http.listenIp)) return config.http.listenIp;
  if (config.http.tls === 'off') return 'localhost';
  return config.mediasoup.announcedIp || (await detectPrimaryAddress()).address;
}
