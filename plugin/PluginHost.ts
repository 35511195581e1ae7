import type { types as ms } from 'mediasoup';
import type { Logger } from '../server/logger';
import type { JoinParam } from '../signaling/protocol';

/**
 * What the server exposes to plugins, and what a plugin may implement. The server stays ignorant of
 * recording: the recording plugin learns about channels, peers and producers through these hooks,
 * changes channel properties (recordState) through ChannelHandle, and serves the signaling methods
 * it claims (enableRecord).
 */

export interface PeerHandle {
  readonly peerId: string;
  readonly uid: string;
  readonly displayName: string;
  readonly role: 'host' | 'audience';
  readonly privileges: { readonly publish: boolean; readonly record: boolean };
  readonly joinParam: JoinParam | undefined;
  /** Sends a notification to this peer only (no-op once it left). */
  notify(notification: string, data: unknown): void;
}

export interface ProducerHandle {
  readonly producer: ms.Producer;
  readonly peer: PeerHandle;
}

export interface ChannelHandle {
  readonly channelId: string;
  readonly type: 'Communication' | 'Live';
  readonly router: ms.Router;
  readonly closed: boolean;
  peers(): PeerHandle[];
  producers(): ProducerHandle[];
  getProperty(name: string): unknown;
  /** Merges into the channel's properties and notifies every peer with propertyChange. */
  setProperties(patch: Record<string, unknown>): void;
  /** Sends a notification to every peer of the channel. */
  broadcast(notification: string, data: unknown): void;
  /** Keeps the channel (and its router) alive with no peers, e.g. while a backend records it. */
  retain(owner: string): void;
  release(owner: string): void;
}

export interface ServerPlugin {
  readonly name: string;
  /** Signaling methods this plugin answers. */
  readonly methods?: readonly string[];
  channelCreated?(channel: ChannelHandle): void;
  channelClosed?(channel: ChannelHandle, reason: string): void;
  peerJoined?(channel: ChannelHandle, peer: PeerHandle): void;
  peerLeft?(channel: ChannelHandle, peer: PeerHandle): void;
  producerCreated?(channel: ChannelHandle, producer: ProducerHandle): void;
  producerPaused?(channel: ChannelHandle, producer: ProducerHandle): void;
  producerResumed?(channel: ChannelHandle, producer: ProducerHandle): void;
  producerClosed?(channel: ChannelHandle, producer: ProducerHandle): void;
  /** Answers a request for one of `methods`; throw CodedError to answer with an error. */
  handleRequest?(method: string, data: unknown, channel: ChannelHandle, peer: PeerHandle): Promise<unknown>;
  close?(): Promise<void> | void;
}

export interface PluginContext {
  logger: Logger;
  /** Finds or creates a channel (for backends that record a channel nobody joined yet). */
  getOrCreateChannel(channelId: string, type?: 'Communication' | 'Live'): Promise<ChannelHandle>;
  findChannel(channelId: string): ChannelHandle | undefined;
  /**
   * Checks a join token the way join does (signature, expiry, app, channel) and returns its uid and
   * privileges; with auth switched off, grants everything. Rejects with CodedError (TOKEN_*).
   */
  authorize(appId: string, channelId: string, token: string): Promise<{ uid: string; privileges: { publish: boolean; record: boolean } }>;
}

type HookName = Exclude<keyof ServerPlugin, 'name' | 'methods' | 'handleRequest' | 'close'>;

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
