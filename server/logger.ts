/**
 * Structured logging on pino: one JSON object per line (`time`, `level`, `ns`, `msg`, bindings such
 * as `recordingId`, `channelId`, `uid`), or a readable line when stderr is a terminal. Every line is
 * masked after serialization, so a secret that reached a message or a binding by mistake is still
 * never written.
 */
import os from 'node:os';
import pino from 'pino';
import { SecretHold, SecretMasker } from './SecretMasker';

export type { SecretHold };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** What a line carries besides its message: ids that let a reader follow one recording, peer or job. */
export type LogBindings = Record<string, string | number | boolean | undefined>;

/**
 * Bindings every line of this process carries, as a JSON object of strings (a recorder child gets
 * its recordingId this way from the server that forks it).
 */
export const LOG_BINDINGS_ENV = 'CONFREC_LOG_BINDINGS';

/**
 * Distinct secrets held at once. Storage keys are held only by authorised recordings and their
 * uploads, so this is reached only by a flood of distinct keys; new recordings are refused then.
 */
export const MAX_HELD_SECRETS = 1024;
const masker = new SecretMasker(MAX_HELD_SECRETS);
let threshold: number = LEVEL_ORDER[(process.env.LOG_LEVEL as LogLevel) ?? 'info'] ?? LEVEL_ORDER.info;

/**
 * A line is masked once it is JSON, where a secret holding `"`, `\` or a control character appears
 * escaped: both spellings are held.
 */
function jsonSpelling(secret: string): string {
  return JSON.stringify(secret).slice(1, -1);
}

function holdBoth(secret: string | undefined | null, raw: SecretHold): SecretHold {
  if (!secret || jsonSpelling(secret) === secret) return raw;
  const escaped = masker.hold(jsonSpelling(secret));
  return {
    release: () => {
      raw.release();
      escaped.release();
    },
  };
}

/** Masks a secret of the server's own config (auth, API, webhook secrets) for the process's lifetime. */
export function registerSecret(secret: string | undefined | null): void {
  holdBoth(secret, masker.hold(secret));
}

/** Masks `secret` until the hold is released (a storage key while its recording or upload lives). */
export function holdSecret(secret: string | undefined | null): SecretHold {
  return holdBoth(secret, masker.hold(secret));
}

/** holdSecret(), or undefined when the secret is new and MAX_HELD_SECRETS are held already. */
export function tryHoldSecret(secret: string | undefined | null): SecretHold | undefined {
  const raw = masker.tryHold(secret);
  return raw && holdBoth(secret, raw);
}

/** Distinct secrets masked now (a secret with characters JSON escapes counts twice). */
export function heldSecretCount(): number {
  return masker.size;
}

export function maskSecrets(text: string): string {
  return masker.mask(text);
}

export function setLogLevel(level: LogLevel): void {
  threshold = LEVEL_ORDER[level];
}

/**
 * LOG_FORMAT=json|pretty forces a format; otherwise a terminal gets readable lines and anything else
 * (a pipe, a file, journald, a container runtime) gets JSON lines. pino-pretty's prettyFactory is a
 * plain synchronous function, so a pretty line is written in order with the JSON ones and no worker
 * thread can lose lines at exit.
 */
function defaultSink(): (line: string) => void {
  const format = process.env.LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'pretty') return (line) => process.stderr.write(line + '\n');
  // Loaded only when used: ~50 ms of every recorder child's start (its stderr is a pipe) went on it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const prettify = prettyFactory({
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,ns',
    messageFormat: '{if ns}{ns} | {end}{msg}',
    singleLine: true,
  });
  return (line) => process.stderr.write(prettify(line));
}

let sink: (line: string) => void = defaultSink();

/** Redirects log lines (tests capture them): the sink gets each final, masked JSON line without its newline. */
export function setLogSink(newSink: (line: string) => void): void {
  sink = newSink;
}

/** Back to stderr in the process's format. */
export function resetLogSink(): void {
  sink = defaultSink();
}

function bindingsFromEnv(): Record<string, string> {
  const text = process.env[LOG_BINDINGS_ENV];
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

function withoutUndefined(bindings: LogBindings): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(bindings).filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined));
}

const root = pino(
  {
    // pino copies a level into each child when it is made, and loggers are made at import: the
    // threshold is checked by Logger instead, so setLogLevel() reaches every logger at once.
    level: 'debug',
    base: { pid: process.pid, hostname: os.hostname(), ...bindingsFromEnv() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: (line) => masker.mask(line) },
  },
  { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) },
);

/**
 * Process warnings (deprecations, a library's notices) become log lines too, so stderr stays one
 * format: Node's own printer is replaced. Called by process entries only.
 */
export function routeProcessWarnings(): void {
  const log = new Logger('process');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => log.warn(`${warning.name}: ${warning.message}`));
}

/** Namespaced logger: `new Logger('Channel')`, and `child({ channelId })` for lines about one entity. */
export class Logger {
  readonly #namespace: string;
  readonly #bindings: LogBindings;
  readonly #pino: pino.Logger;

  constructor(namespace: string, bindings: LogBindings = {}) {
    this.#namespace = namespace;
    this.#bindings = bindings;
    this.#pino = root.child({ ns: namespace, ...withoutUndefined(bindings) });
  }

  /** This logger with more bindings (later ones win). */
  child(bindings: LogBindings): Logger {
    return new Logger(this.#namespace, { ...this.#bindings, ...bindings });
  }

  get bindings(): Readonly<LogBindings> {
    return this.#bindings;
  }

  debug(message: string, fields?: LogBindings): void {
    this.#write('debug', message, fields);
  }
  info(message: string, fields?: LogBindings): void {
    this.#write('info', message, fields);
  }
  warn(message: string, fields?: LogBindings): void {
    this.#write('warn', message, fields);
  }
  error(message: string, fields?: LogBindings): void {
    this.#write('error', message, fields);
  }

  #write(level: LogLevel, message: string, fields: LogBindings | undefined): void {
    if (LEVEL_ORDER[level] < threshold) return;
    if (fields) this.#pino[level](withoutUndefined(fields), message);
    else this.#pino[level](message);
  }
}
