import type { ServerConfig } from '../config/defaults';
import { createRecordingPlugin } from '../plugin/recording/createRecordingPlugin';
import type { PluginFactory } from './MediaServer';

/** The plugins a default server runs: the recording plugin, unless config switches it off. */
export function defaultPlugins(config: ServerConfig): PluginFactory[] {
  return config.recording.enabled ? [(context) => createRecordingPlugin(context)] : [];
}
