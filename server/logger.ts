/**
 * Namespaced logger: 'namespace method() | text'. Every line passes through the secret masker, so a
 * secret that reached a message by mistake is still never written.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const secrets = new Set<string>();
let threshold: number = LEVEL_ORDER[(process.env.LOG_LEVEL as LogLevel) ?? 'info'] ?? LEVEL_ORDER.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

/** Registers a string that must never appear in any log line (storage keys, token secrets). */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function maskSecrets(text: string): string {
  let masked = text;
  for (const secret of secrets) masked = masked.split(secret).join('***');
  return masked;
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
