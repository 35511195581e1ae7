/**
 * The recorder's last resort: a process whose main thread is stuck (as inside a GStreamer state change
 * that never returns) is still killed when its exit deadline passes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';

const WATCHDOG = path.join(__dirname, '..', '..', 'plugin', 'recording', 'recorder', 'exitWatchdog.js');

function runStuck(armMs: number | undefined, busyMs: number): Promise<{ signal: NodeJS.Signals | null; code: number | null; elapsedMs: number }> {
  const arm = armMs === undefined ? '' : `require(${JSON.stringify(WATCHDOG)}).armExitWatchdog(${armMs});`;
  const script = `${arm} const until = Date.now() + ${busyMs}; while (Date.now() < until) {}`;
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, elapsedMs: Date.now() - startedAt })));
}

t.test('a blocked main thread is killed at the deadline', async (t) => {
  const { signal, elapsedMs } = await runStuck(300, 20_000);
  t.equal(signal, 'SIGKILL');
  t.ok(elapsedMs < 15_000, `killed after ${elapsedMs} ms, long before the 20 s busy loop ended`);
});

t.test('without the watchdog the same process runs to its end (the test can fail)', async (t) => {
  const { signal, code } = await runStuck(undefined, 500);
  t.equal(signal, null);
  t.equal(code, 0);
});

t.test('a process that exits in time is not affected, and the watchdog does not keep it alive', async (t) => {
  const { signal, code, elapsedMs } = await runStuck(60_000, 100);
  t.equal(signal, null);
  t.equal(code, 0);
  t.ok(elapsedMs < 30_000, `exited after ${elapsedMs} ms`);
});
