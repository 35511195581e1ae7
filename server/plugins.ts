import type { ServerConfig } from '../config/defaults';
import { createRecordingPlugin } from '../plugin/recording/createRecordingPlugin';
import type { MediaServer, PluginFactory } from './MediaServer';
import { BackendControl } from './api/BackendControl';

/** The plugins a default server runs: the recording plugin, unless config switches it off. */
export function defaultPlugins(config: ServerConfig): PluginFactory[] {
  return config.recording.enabled ? [(context) => createRecordingPlugin(context)] : [];
}

/** What a default server adds once it runs: backend control (HTTP API, recorder SDK, webhooks). */
export function attachDefaultApis(server: MediaServer): BackendControl | undefined {
  return BackendControl.attach(server);
}
