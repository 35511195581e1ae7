import type { ServerConfig } from '../config/defaults';
import { createRecordingPlugin } from '../plugin/recording/createRecordingPlugin';
import { RecordingPlugin } from '../plugin/recording/RecordingPlugin';
import { registerRecordingMetrics } from '../plugin/recording/recordingMetrics';
import { registerUploadMetrics } from '../plugin/storage/uploadMetrics';
import { registerWebhookMetrics } from '../plugin/webhooks/webhookMetrics';
import type { MediaServer, PluginFactory } from './MediaServer';
import { ApiAuthenticator } from './api/apiAuth';
import { BackendControl } from './api/BackendControl';
import { createMetricsRoute } from './metrics/metricsRoute';
import { ServerMetrics } from './metrics/ServerMetrics';

/** The plugins a default server runs: the recording plugin, unless config switches it off. */
export function defaultPlugins(config: ServerConfig): PluginFactory[] {
  return config.recording.enabled ? [(context) => createRecordingPlugin(context)] : [];
}

/** What a default server adds once it runs: backend control (HTTP API, recorder SDK, webhooks). */
export function attachDefaultApis(server: MediaServer): BackendControl | undefined {
  return BackendControl.attach(server);
}

/**
 * GET /metrics with the families of what the server runs (channels, workers and webhooks always;
 * recordings and uploads with the recording plugin). Undefined when metrics.enabled is false.
 * Close it after the server.
 */
export function attachMetrics(server: MediaServer, backend?: BackendControl, options: { cpuIntervalMs?: number } = {}): ServerMetrics | undefined {
  const { config } = server;
  if (!config.metrics.enabled) return undefined;
  const metrics = new ServerMetrics(server);
  const recording = server.plugins.list().find((plugin): plugin is RecordingPlugin => plugin instanceof RecordingPlugin);
  if (recording) {
    metrics.add(registerRecordingMetrics(metrics.registry, recording.engine, options));
    metrics.add(registerUploadMetrics(metrics.registry, recording.engine.uploads));
  }
  metrics.add(registerWebhookMetrics(metrics.registry, backend?.webhooks));
  const auth = config.metrics.public ? undefined : new ApiAuthenticator(config.auth.appId, config.api.secret || server.authSecret);
  server.addRoute(createMetricsRoute(metrics, auth));
  return metrics;
}
