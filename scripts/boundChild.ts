import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Children that must not outlive this process, however it ends. A normal exit (process.exit, an
 * uncaught error) SIGKILLs them from the 'exit' handler. A SIGKILL of this process runs no handler, so
 * on Linux each child is started through util-linux `setpriv --pdeathsig KILL`, which asks the kernel
 * (prctl PR_SET_PDEATHSIG) to kill it when we die, and then execs the command in the same process
 * (same pid). Node itself cannot make that call. The kernel signals when the *thread* that forked
 * ends: call this from the main thread, not from a worker_thread. Without setpriv (not Linux) only the
 * 'exit' handler applies.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, 'setpriv');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

let setprivPath: string | null | undefined;

export function spawnBoundToParent(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  if (setprivPath === undefined) setprivPath = findSetpriv() ?? null;
  const child = setprivPath ? spawn(setprivPath, ['--pdeathsig', 'KILL', '--', command, ...args], options) : spawn(command, [...args], options);
  if (!exitHookInstalled) {
    process.on('exit', killAll);
    exitHookInstalled = true;
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}
