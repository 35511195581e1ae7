import type { Logger } from '../logger';
import type { ServerPlugin } from './contract';

type HookName = Exclude<keyof ServerPlugin, 'name' | 'methods' | 'handleRequest' | 'registerMetrics' | 'close'>;

/** Fans server events out to plugins; a throwing plugin is logged and never breaks the server. */
export class PluginHost {
  readonly #plugins: ServerPlugin[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(plugin: ServerPlugin): void {
    this.#plugins.push(plugin);
  }

  list(): readonly ServerPlugin[] {
    return this.#plugins;
  }

  emit<H extends HookName>(hook: H, ...args: Parameters<NonNullable<ServerPlugin[H]>>): void {
    for (const plugin of this.#plugins) {
      const handler = plugin[hook] as ((...hookArgs: unknown[]) => void) | undefined;
      if (!handler) continue;
      try {
        handler.apply(plugin, args);
      } catch (error) {
        this.#logger.error(`emit() | plugin ${plugin.name} threw in ${hook}: ${String(error)}`);
      }
    }
  }

  findHandler(method: string): ServerPlugin | undefined {
    return this.#plugins.find((plugin) => plugin.methods?.includes(method) && plugin.handleRequest);
  }

  async close(): Promise<void> {
    for (const plugin of [...this.#plugins].reverse()) {
      try {
        await plugin.close?.();
      } catch (error) {
        this.#logger.error(`close() | plugin ${plugin.name} failed to close: ${String(error)}`);
      }
    }
    this.#plugins.length = 0;
  }
}
