/** What GstGraph does with its bus: awaiting EOS, and logging warnings without flooding the log. */
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';

/**
 * Calls `send` (which sends EOS) and resolves true when `pipeline` emits 'eos', false after timeoutMs.
 */
export function awaitEos(pipeline: TypedEmitter<{ eos: [] }>, send: () => void, timeoutMs: number, logger: Logger): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pipeline.off('eos', onEos);
      logger.warn(`eos() | no EOS after ${timeoutMs} ms`);
      resolve(false);
    }, timeoutMs);
    const onEos = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    pipeline.once('eos', onEos);
    send();
  });
}

const WARNINGS_LOGGED_IN_FULL = 5;
const WARNING_LOG_INTERVAL_MS = 10_000;

/**
 * Garbage on an input's port makes the jitter buffer warn for every packet: the first few warnings
 * are logged, then one line per WARNING_LOG_INTERVAL_MS with the count, so a flood cannot flood the log.
 */
export class WarningLog {
  readonly #logger: Logger;
  #count = 0;
  #loggedAt = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  note(element: string, text = ''): void {
    this.#count += 1;
    const now = Date.now();
    if (this.#count > WARNINGS_LOGGED_IN_FULL && now - this.#loggedAt < WARNING_LOG_INTERVAL_MS) return;
    this.#loggedAt = now;
    this.#logger.warn(`bus | warning from ${element}${text ? `: ${text}` : ''} (${this.#count} so far)`);
  }
}
