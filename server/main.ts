import { ConfigError, loadConfig } from './config';
import { installWebRoutes } from './http/webRoutes';
import { Logger, routeProcessWarnings } from './logger';
import { MediaServer } from './MediaServer';
import { describeStart } from './startBanner';
import { attachMetrics, defaultPlugins } from './plugins';

const logger = new Logger('main');
routeProcessWarnings();

/**
 * Process entry: config → server with its plugins (plugins.ts, the composition root: the recording
 * plugin unless recording.enabled is false) → metrics → web page → signal handling. The process
 * survives worker deaths.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const server = await MediaServer.start(config, { plugins: defaultPlugins(config) });
  const metrics = attachMetrics(server);
  installWebRoutes(server);
  console.log(describeStart(server));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`);
    // Recordings stopped by the shutdown still tell the webhooks, for a few seconds at most (BackendControl).
    server
      .close()
      .then(() => metrics?.close())
      .then(
        () => process.exit(0),
        (error) => {
          logger.error(`shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  logger.error(`fatal: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
