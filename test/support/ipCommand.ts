import { execFileSync } from 'node:child_process';

/** Runs iproute2's `ip` with these arguments; its output, or throws with its stderr. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip` for undoing something that may be undone already. */
export function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // Already gone.
  }
}
