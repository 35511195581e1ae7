/**
 * A last resort for a recorder that must exit: GStreamer calls on the main thread (a state change to
 * NULL, a pipeline built mid-rebuild) can block forever when a streaming thread is stuck, and then no
 * timer of the main thread ever fires. A worker thread has its own event loop, so its timer still
 * runs and SIGKILLs the process. An orphan that lingered held the server's inherited stdout and with
 * it the test runner's pipe (CI hung on test/recording/serverCrash.test.ts).
 */
import { Worker } from 'node:worker_threads';

let armed = false;

/** After ms, kills this process unless it has exited. Idempotent: the first deadline stands. */
export function armExitWatchdog(ms: number): void {
  if (armed) return;
  armed = true;
  const worker = new Worker(`setTimeout(() => process.kill(${process.pid}, 'SIGKILL'), ${Math.max(0, Math.round(ms))});`, { eval: true });
  // The watchdog must never be what keeps the process alive.
  worker.unref();
}
