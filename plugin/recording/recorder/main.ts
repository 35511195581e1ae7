/**
 * Entry of the recorder child process (forked by RecorderProcess with an 'ipc' channel).
 *
 * The threadpool size must be fixed before libuv first uses it: every playing pipeline's bus poll
 * holds one thread (shared/notes/gstreamer.md). RecorderProcess passes it in the environment; this is
 * the fallback for a child started by hand. The real work is loaded only after it is set.
 */
// Literal on purpose: importing protocol.ts first would be harmless, but nothing may run before this.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '128';

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RecorderChild } = require('./RecorderChild') as typeof import('./RecorderChild');
  new RecorderChild().run();
}
