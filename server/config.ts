import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLUSTER_ROLES, DEFAULT_CONFIG, SECRET_PATHS, ServerConfig } from '../config/defaults';
import { findProjectRoot } from './projectRoot';

export { findProjectRoot };

/** A config value that failed validation; the message names the field. */
export class ConfigError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`config ${field}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

export interface LoadConfigOptions {
  /** Explicit file; otherwise CONFREC_CONFIG, otherwise config/local.json if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (tests). */
  overrides?: DeepPartial<ServerConfig>;
  projectRoot?: string;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function loadConfig(options: LoadConfigOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const root = options.projectRoot ?? findProjectRoot();
  const config = structuredClone(DEFAULT_CONFIG) as unknown as Json;

  const file = options.file ?? env.CONFREC_CONFIG ?? defaultFile(root);
  if (file) mergeFile(config, file);
  applyEnv(config, env);
  if (options.overrides) mergeInto(config, options.overrides as Json, '', DEFAULT_CONFIG as unknown as Json);

  const resolved = config as unknown as ServerConfig;
  validate(resolved);
  for (const section of ['recordingsDir', 'stateDir'] as const) {
    resolved.recording[section] = path.resolve(root, resolved.recording[section]);
  }
  for (const file of ['tlsCert', 'tlsKey'] as const) {
    if (resolved.http[file]) resolved.http[file] = path.resolve(root, resolved.http[file]);
  }
  return resolved;
}

function defaultFile(root: string): string | undefined {
  const local = path.join(root, 'config', 'local.json');
  return fs.existsSync(local) ? local : undefined;
}

function mergeFile(config: Json, file: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('(file)', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('(file)', `${file} must hold a JSON object`);
  }
  mergeInto(config, parsed as Json, '', DEFAULT_CONFIG as unknown as Json);
}

/** Copies known fields of `source` into `target`, refusing unknown fields and wrong types by name. */
function mergeInto(target: Json, source: Json, prefix: string, shape: Json): void {
  for (const [key, value] of Object.entries(source)) {
    const field = prefix ? `${prefix}.${key}` : key;
    if (!Object.prototype.hasOwnProperty.call(shape, key)) throw new ConfigError(field, 'is not a known setting');
    const expected = shape[key];
    if (Array.isArray(expected)) {
      // A list setting (cluster.roles): its entries are checked by validate().
      if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) throw new ConfigError(field, 'must be a list of strings');
      target[key] = [...value];
    } else if (typeof expected === 'object' && expected !== null) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(field, 'must be an object');
      mergeInto(target[key] as Json, value as Json, field, expected as Json);
    } else {
      if (typeof value !== typeof expected) throw new ConfigError(field, `must be a ${typeof expected}`);
      target[key] = value;
    }
  }
}

function envName(pathParts: string[]): string {
  return 'CONFREC_' + pathParts.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function applyEnv(config: Json, env: NodeJS.ProcessEnv, shape: Json = DEFAULT_CONFIG as unknown as Json, parts: string[] = []): void {
  for (const [key, expected] of Object.entries(shape)) {
    const here = [...parts, key];
    if (typeof expected === 'object' && expected !== null && !Array.isArray(expected)) {
      applyEnv(config[key] as Json, env, expected as Json, here);
      continue;
    }
    const raw = env[envName(here)];
    if (raw === undefined) continue;
    const field = here.join('.');
    if (Array.isArray(expected)) {
      config[key] = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
    } else if (typeof expected === 'number') {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new ConfigError(field, `${envName(here)} must be a number`);
      config[key] = value;
    } else if (typeof expected === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(field, `${envName(here)} must be true or false`);
      config[key] = raw === 'true' || raw === '1';
    } else {
      config[key] = raw;
    }
  }
}

function validate(config: ServerConfig): void {
  const port = (field: string, value: number, allowZero: boolean): void => {
    if (!Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) throw new ConfigError(field, 'must be a port number');
  };
  port('http.port', config.http.port, true);
  if (!['auto', 'off'].includes(config.http.tls)) throw new ConfigError('http.tls', 'must be auto or off');
  if (Boolean(config.http.tlsCert) !== Boolean(config.http.tlsKey)) {
    throw new ConfigError(config.http.tlsCert ? 'http.tlsKey' : 'http.tlsCert', 'give both http.tlsCert and http.tlsKey, or neither (self-signed)');
  }
  for (const field of ['listenIp', 'announcedIp'] as const) {
    const value = config.mediasoup[field];
    if ((value || field === 'listenIp') && net.isIP(value) === 0) throw new ConfigError(`mediasoup.${field}`, `${JSON.stringify(value)} is not an IP address`);
  }
  port('mediasoup.rtcMinPort', config.mediasoup.rtcMinPort, false);
  port('mediasoup.rtcMaxPort', config.mediasoup.rtcMaxPort, false);
  if (config.mediasoup.rtcMinPort > config.mediasoup.rtcMaxPort) throw new ConfigError('mediasoup.rtcMaxPort', 'must be >= rtcMinPort');
  if (!Number.isInteger(config.mediasoup.numWorkers) || config.mediasoup.numWorkers < 0 || config.mediasoup.numWorkers > 256) {
    throw new ConfigError('mediasoup.numWorkers', 'must be an integer between 0 (one per core) and 256');
  }
  if (!['debug', 'warn', 'error', 'none'].includes(config.mediasoup.logLevel)) {
    throw new ConfigError('mediasoup.logLevel', 'must be one of debug, warn, error, none');
  }
  if (config.signaling.maxMessageBytes < 1024 || config.signaling.maxMessageBytes > 16 * 1024 * 1024) {
    throw new ConfigError('signaling.maxMessageBytes', 'must be between 1024 and 16777216');
  }
  if (config.signaling.maxRequestsPerSecond < 1) throw new ConfigError('signaling.maxRequestsPerSecond', 'must be at least 1');
  const atLeast = (field: keyof ServerConfig['signaling'], min: number): void => {
    if (!Number.isInteger(config.signaling[field]) || config.signaling[field] < min) throw new ConfigError(`signaling.${field}`, `must be an integer >= ${min}`);
  };
  atLeast('maxBufferedBytes', 64 * 1024);
  atLeast('joinTimeoutMs', 100);
  atLeast('pingIntervalMs', 100);
  atLeast('pingTimeoutMs', 100);
  atLeast('maxConnectionsPerIp', 1);
  atLeast('maxConnections', 1);
  if (!config.auth.appId) throw new ConfigError('auth.appId', 'must not be empty');
  if (config.auth.secret && config.auth.secret.length < 16) throw new ConfigError('auth.secret', 'must be at least 16 characters');
  if (!['local', 'none'].includes(config.recording.defaultStorage)) {
    throw new ConfigError('recording.defaultStorage', 'must be local or none');
  }
  if (!Number.isInteger(config.recording.maxConcurrentRecordings) || config.recording.maxConcurrentRecordings < 1) {
    throw new ConfigError('recording.maxConcurrentRecordings', 'must be a positive integer');
  }
  if (!Number.isInteger(config.recording.capacityUnits) || config.recording.capacityUnits < 0) {
    throw new ConfigError('recording.capacityUnits', 'must be a non-negative integer (0: derived from the cores)');
  }
  if (!Number.isInteger(config.recording.retainFinishedMs) || config.recording.retainFinishedMs < 0) {
    throw new ConfigError('recording.retainFinishedMs', 'must be a non-negative integer (milliseconds)');
  }
  if (config.api.secret && config.api.secret.length < 16) throw new ConfigError('api.secret', 'must be at least 16 characters');
  if (!Number.isInteger(config.api.maxBodyBytes) || config.api.maxBodyBytes < 1024) throw new ConfigError('api.maxBodyBytes', 'must be an integer >= 1024');
  if (config.webhooks.secret && config.webhooks.secret.length < 16) throw new ConfigError('webhooks.secret', 'must be at least 16 characters');
  for (const url of webhookUrls(config)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw new ConfigError('webhooks.urls', `${JSON.stringify(url)} is not an http(s) URL`);
  }
  if (!Number.isInteger(config.webhooks.timeoutMs) || config.webhooks.timeoutMs < 100) throw new ConfigError('webhooks.timeoutMs', 'must be an integer >= 100');
  if (!Number.isInteger(config.webhooks.maxAttempts) || config.webhooks.maxAttempts < 1) throw new ConfigError('webhooks.maxAttempts', 'must be a positive integer');
  if (!(config.webhooks.retryBaseDelayMs >= 1) || !(config.webhooks.retryMaxDelayMs >= config.webhooks.retryBaseDelayMs)) {
    throw new ConfigError('webhooks.retryMaxDelayMs', 'must be >= webhooks.retryBaseDelayMs >= 1');
  }
  validateRoles(config.cluster.roles);
}

function validateRoles(roles: readonly string[]): void {
  const known = CLUSTER_ROLES.join(', ');
  if (roles.length === 0) throw new ConfigError('cluster.roles', `must name at least one of ${known}`);
  for (const role of roles) {
    if (!(CLUSTER_ROLES as readonly string[]).includes(role)) throw new ConfigError('cluster.roles', `${JSON.stringify(role)} is not a role (known: ${known})`);
  }
  if (new Set(roles).size !== roles.length) throw new ConfigError('cluster.roles', 'names a role twice');
}

/** webhooks.urls split on commas, blanks dropped. */
export function webhookUrls(config: ServerConfig): string[] {
  return config.webhooks.urls.split(',').map((url) => url.trim()).filter(Boolean);
}

/** The config as printable JSON, secrets masked. */
export function describeConfig(config: ServerConfig): string {
  const copy = structuredClone(config) as unknown as Json;
  for (const secretPath of SECRET_PATHS) {
    const parts = secretPath.split('.');
    const parent = parts.slice(0, -1).reduce<Json>((node, part) => node[part] as Json, copy);
    const leaf = parts[parts.length - 1]!;
    if (parent[leaf]) parent[leaf] = '***';
  }
  return JSON.stringify(copy);
}
