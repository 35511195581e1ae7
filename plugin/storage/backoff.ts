/** Retry schedule: exponential backoff with jitter, capped. */
export type RetryOptions = {
  /** Attempts at the primary store before the file goes to backup (>= 1). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };
/** Background re-upload of backed-up files: patient, because the store may be down for hours. */
export const DEFAULT_BACKGROUND_RETRY: Omit<RetryOptions, 'attempts'> = { baseDelayMs: 5_000, maxDelayMs: 5 * 60_000 };

/**
 * Delay before retry number `attempt` (1-based): "equal jitter" — half the exponential step is fixed,
 * half random. The fixed half keeps a floor under the backoff; the random half spreads many uploaders
 * that failed together (store outage) so they do not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: Omit<RetryOptions, 'attempts'>, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}

export function validateRetryOptions(input: Partial<RetryOptions> | undefined, defaults: RetryOptions, field: string): RetryOptions {
  const merged = { ...defaults, ...(input ?? {}) };
  if (!Number.isInteger(merged.attempts) || merged.attempts < 1) throw new TypeError(`${field}.attempts must be an integer >= 1`);
  if (!(merged.baseDelayMs >= 0)) throw new TypeError(`${field}.baseDelayMs must be >= 0`);
  if (!(merged.maxDelayMs >= merged.baseDelayMs)) throw new TypeError(`${field}.maxDelayMs must be >= baseDelayMs`);
  return merged;
}

/** Sleeps `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
