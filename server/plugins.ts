import type { ServerConfig } from '../config/defaults';
import { createRecordingPlugin } from '../plugin/recording/createRecordingPlugin';
import { registerWebhookMetrics } from '../plugin/webhooks/webhookMetrics';
import { ApiAuthenticator, apiSecretOf } from './http/basicAuth';
import type { MediaServer } from './MediaServer';
import { createMetricsRoute } from './metrics/metricsRoute';
import { ServerMetrics } from './metrics/ServerMetrics';
import type { MetricsOptions, PluginFactory } from './plugins/contract';

/**
 * The composition root, with server/main.ts: the one place in server/ that names plugins.
 * The plugins a default server runs: the recording plugin, unless config switches it off.
 */
export function defaultPlugins(config: ServerConfig): PluginFactory[] {
  return config.recording.enabled ? [(context) => createRecordingPlugin(context)] : [];
}

/**
 * GET /metrics with the families of what the server runs: channels and workers always, and what
 * each plugin registers through the contract (registerMetrics: recordings, uploads and webhooks with
 * the recording plugin). Undefined when metrics.enabled is false. Close it after the server.
 */
export function attachMetrics(server: MediaServer, options: MetricsOptions = {}): ServerMetrics | undefined {
  const { config } = server;
  if (!config.metrics.enabled) return undefined;
  const metrics = new ServerMetrics(server);
  const plugins = server.plugins.list().filter((plugin) => plugin.registerMetrics);
  for (const plugin of plugins) metrics.add(plugin.registerMetrics!(metrics.registry, options));
  // Dashboards and alerts find the webhook families on every server: at 0 when nothing sends webhooks.
  if (plugins.length === 0) metrics.add(registerWebhookMetrics(metrics.registry, undefined));
  const auth = config.metrics.public ? undefined : new ApiAuthenticator(config.auth.appId, apiSecretOf(config, server.authSecret));
  server.addRoute(createMetricsRoute(metrics, auth));
  return metrics;
}
