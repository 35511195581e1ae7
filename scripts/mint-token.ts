import { parseArgs } from 'node:util';
import { mintToken, resolveAuthSecret, TokenPrivileges } from '../server/auth/token';
import { loadConfig } from '../server/config';
import { isWildcard } from '../server/network/RtcAddresses';
import { detectPrimaryAddress } from '../server/network/primaryAddress';

/**
 * Prints a join token signed with this server's secret (the same config and state dir as
 * `npm start`). A host gets every privilege unless one is taken away; an audience member gets none
 * unless one is granted.
 */
const USAGE = `Usage: npm run -s token -- [options]

Prints a join token (an HS256 JWT signed with the server's auth secret) on stdout,
and a link to the web page on stderr.

  --channel <id>        channel the token opens (default: demo)
  --uid <uid>           user id (default: user)
  --role host|audience  default: host
  --ttl <seconds>       lifetime (default: 86400)
  --nbf <seconds>       not valid until this many seconds from now (default: valid at once)
  --publish | --no-publish        may publish media (host: yes, audience: no)
  --record | --no-record          may start/stop recordings and set the record param (host: yes, audience: no)
  --recordings | --no-recordings  may list and download the channel's recordings (host: yes, audience: no)
  -h, --help            this text`;

class UsageError extends Error {}

/** What join accepts for a channel id and a token's uid. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

function parse(argv: string[]): { channel: string; uid: string; role: 'host' | 'audience'; ttl: number; nbf: number; privileges: TokenPrivileges } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        channel: { type: 'string', default: 'demo' },
        uid: { type: 'string', default: 'user' },
        role: { type: 'string', default: 'host' },
        ttl: { type: 'string', default: '86400' },
        nbf: { type: 'string', default: '0' },
        publish: { type: 'boolean' },
        'no-publish': { type: 'boolean' },
        record: { type: 'boolean' },
        'no-record': { type: 'boolean' },
        recordings: { type: 'boolean' },
        'no-recordings': { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.role !== 'host' && values.role !== 'audience') throw new UsageError(`--role must be host or audience, not "${values.role}"`);
  const ttl = seconds(values.ttl!, '--ttl');
  if (ttl <= 0) throw new UsageError('--ttl must be a positive whole number of seconds');
  const nbf = seconds(values.nbf!, '--nbf');
  if (nbf >= ttl) throw new UsageError('--nbf must be before the token expires (less than --ttl)');
  for (const [name, value] of [['--channel', values.channel!], ['--uid', values.uid!]] as const) {
    if (!ID_PATTERN.test(value)) throw new UsageError(`${name} must be 1-64 of A-Z a-z 0-9 _ . : -, not "${value}"`);
  }
  const byRole = values.role === 'host';
  const flag = (name: 'publish' | 'record' | 'recordings'): boolean => {
    const granted = values[name];
    const refused = values[`no-${name}`];
    if (granted && refused) throw new UsageError(`--${name} and --no-${name} contradict each other`);
    return granted ? true : refused ? false : byRole;
  };
  return {
    channel: values.channel!,
    uid: values.uid!,
    role: values.role,
    ttl,
    nbf,
    privileges: { publish: flag('publish'), record: flag('record'), recordings: flag('recordings') },
  };
}

function seconds(text: string, name: string): number {
  if (!/^\d{1,10}$/.test(text)) throw new UsageError(`${name} must be a whole number of seconds, not "${text}"`);
  return Number(text);
}

let options;
try {
  options = parse(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`mint-token: ${error.message} (--help for usage)`);
  process.exit(2);
}
const config = loadConfig();
const secret = resolveAuthSecret(config.auth.secret, config.recording.stateDir);
const now = Math.floor(Date.now() / 1000);
const token = mintToken(secret, {
  appId: config.auth.appId,
  channelId: options.channel,
  uid: options.uid,
  role: options.role,
  privileges: options.privileges,
  exp: now + options.ttl,
  ...(options.nbf > 0 ? { nbf: now + options.nbf } : {}),
});
console.log(token);
// Links that open the web page with the join form filled in (stderr keeps stdout a bare token for scripts).
const query = new URLSearchParams({ channel: options.channel, name: options.uid, token });
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
