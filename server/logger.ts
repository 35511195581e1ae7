/**
 * Namespaced logger: 'namespace method() | text'. Every line passes through the secret masker, so a
 * secret that reached a message by mistake is still never written.
 */
import { SecretHold, SecretMasker } from './SecretMasker';

export type { SecretHold };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Distinct secrets held at once. Storage keys are held only by authorised recordings and their
 * uploads, so this is reached only by a flood of distinct keys; new recordings are refused then.
 */
export const MAX_HELD_SECRETS = 1024;
const masker = new SecretMasker(MAX_HELD_SECRETS);
let threshold: number = LEVEL_ORDER[(process.env.LOG_LEVEL as LogLevel) ?? 'info'] ?? LEVEL_ORDER.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

/** Masks a secret of the server's own config (auth, API, webhook secrets) for the process's lifetime. */
export function registerSecret(secret: string | undefined | null): void {
  masker.hold(secret);
}

/** Masks `secret` until the hold is released (a storage key while its recording or upload lives). */
export function holdSecret(secret: string | undefined | null): SecretHold {
  return masker.hold(secret);
}

/** holdSecret(), or undefined when the secret is new and MAX_HELD_SECRETS are held already. */
export function tryHoldSecret(secret: string | undefined | null): SecretHold | undefined {
  return masker.tryHold(secret);
}

/** Distinct secrets masked now. */
export function heldSecretCount(): number {
  return masker.size;
}

export function maskSecrets(text: string): string {
  return masker.mask(text);
}

export function setLogLevel(level: LogLevel): void {
  threshold = LEVEL_ORDER[level];
}

/** Redirects log lines (tests capture them to prove no secret leaks). */
export function setLogSink(newSink: (line: string) => void): void {
  sink = newSink;
}

export class Logger {
  readonly #namespace: string;

  constructor(namespace: string) {
    this.#namespace = namespace;
  }

  debug(message: string): void {
    this.#write('debug', message);
  }
  info(message: string): void {
    this.#write('info', message);
  }
  warn(message: string): void {
    this.#write('warn', message);
  }
  error(message: string): void {
    this.#write('error', message);
  }

  #write(level: LogLevel, message: string): void {
    if (LEVEL_ORDER[level] < threshold) return;
    sink(maskSecrets(`${new Date().toISOString()} ${level.toUpperCase()} ${this.#namespace} ${message}`));
  }
}
