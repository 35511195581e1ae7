/** Entry of the recorder child process (forked by RecorderProcess with an 'ipc' channel). */
if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RecorderChild } = require('./RecorderChild') as typeof import('./RecorderChild');
  new RecorderChild().run();
}
