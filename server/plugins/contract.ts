import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { types as ms } from 'mediasoup';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../../config/defaults';
import type { Logger } from '../logger';
import type { MetricsPart } from '../metrics/ServerMetrics';
import type { ClusterEventConsumer } from '../cluster/ClusterEventConsumer';
import type { NodeInfo, NodeRole, RecorderLoad } from '../cluster/NodeRegistry';
import type { RedisConnection } from '../cluster/RedisConnection';
import type { ChannelProperties, ChannelType, JoinParam } from '../../signaling/protocol';

/**
 * What the server offers plugins, and what a plugin may implement. The server stays ignorant of
 * recording: a plugin learns about channels, peers and producers through these hooks, changes the
 * channel properties it owns (recordState…) through ChannelHandle, answers the signaling methods it
 * claims, and serves its own HTTP routes and WebSocket paths through PluginContext. Plugins import
 * from the server; the server imports no plugin (only its composition root, server/main.ts with
 * server/plugins.ts, does).
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
  readonly type: ChannelType;
  readonly router: ms.Router;
  readonly closed: boolean;
  peers(): PeerHandle[];
  producers(): ProducerHandle[];
  getProperty<K extends keyof ChannelProperties>(name: K): ChannelProperties[K];
  /** Merges into the channel's properties and notifies every peer with propertyChange. */
  setProperties(patch: Partial<ChannelProperties>): void;
  /** Sends a notification to every peer of the channel. */
  broadcast(notification: string, data: unknown): void;
  /** Keeps the channel (and its router) alive with no peers, e.g. while a backend records it. */
  retain(owner: string): void;
  release(owner: string): void;
}

export interface HttpRoute {
  /** Returns true when it handled the request. */
  (request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> | boolean;
}

/** A WebSocket endpoint on its own path (e.g. the recorder SDK's), beside signaling at '/ws'. */
export interface UpgradeRoute {
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes its sockets: called before the HTTP server closes, which waits for them. */
  close(): void;
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
  /** Adds the plugin's metric families to the server's registry (GET /metrics); the part is closed with the metrics. */
  registerMetrics?(registry: Registry, options: MetricsOptions): MetricsPart;
  /** Called after the server closed its sockets and channels, in reverse order of creation. */
  close?(): Promise<void> | void;
}

export interface MetricsOptions {
  /** How often recorder CPU is sampled while recorders run (tests: shorter). */
  cpuIntervalMs?: number;
}

/** What a join token grants, as PluginContext.authorize resolves it. */
export interface TokenGrant {
  uid: string;
  privileges: { publish: boolean; record: boolean; recordings: boolean };
}

/**
 * This node's part in the cluster as plugins see it (cluster mode only): the shared Redis under the
 * cluster's key prefix, the event stream every node reads, and the other nodes' liveness. A plugin
 * keeps its own cluster-wide state under `keyPrefix`.
 */
export interface ClusterHandle {
  readonly nodeId: string;
  /** What this node does (cluster.roles): only a `recorder` node runs recordings for the cluster. */
  readonly roles: readonly NodeRole[];
  /**
   * The address other nodes send this node RTP to, and reach its RTP sockets at (cluster.rtpAddress,
   * else the resolved mediasoup.announcedIp); the node registry advertises it.
   */
  readonly rtpAddress: string;
  /** The cluster's Redis; fails fast with CLUSTER_UNAVAILABLE while it is away. */
  readonly connection: RedisConnection;
  /** Every key a plugin writes starts with it (several clusters may share a Redis). */
  readonly keyPrefix: string;
  /** The stream of events every node reads (ClusterEvents / ClusterEventConsumer). */
  readonly eventStreamKey: string;
  /** The live nodes, this one included. Rejects with CLUSTER_UNAVAILABLE. */
  liveNodes(): Promise<NodeInfo[]>;
  /**
   * A node this one had seen alive stopped heartbeating (within nodeTimeoutMs + 2 s of its end);
   * `lastSeenAt`: its last heartbeat (ms since the epoch, its clock).
   */
  onNodeDown(listener: (nodeId: string, lastSeenAt: number) => void): void;
  /** The node a channel lives on now (its active lease); undefined while none does. Rejects with CLUSTER_UNAVAILABLE. */
  channelOwner(channelId: string): Promise<{ nodeId: string; publicUrl: string } | undefined>;
  /** A reader of the event stream from now on, on a connection of its own, closed with the node. */
  consumeEvents(): Promise<ClusterEventConsumer>;
  /**
   * Where this node's heartbeat takes `load.recorder` from (capacity and use in the plugin's own
   * cost units, which the server passes on without reading them); called at every heartbeat.
   */
  setRecorderLoad(source: () => RecorderLoad): void;
  /** Heartbeats now rather than at the next tick (the load changed: a recording started or ended). */
  heartbeat(): Promise<void>;
}

export interface PluginContext {
  readonly config: ServerConfig;
  readonly logger: Logger;
  /**
   * The server's token secret, for what a plugin signs itself (expiring file links, resume keys);
   * registered with the logger's masking, never to be logged or returned.
   */
  readonly authSecret: string;
  /** Cluster mode (cluster.redisUrl set) only. */
  readonly cluster?: ClusterHandle;
  /** Finds or creates a channel (for backends that record a channel nobody joined yet). */
  getOrCreateChannel(channelId: string, type?: ChannelType): Promise<ChannelHandle>;
  findChannel(channelId: string): ChannelHandle | undefined;
  /**
   * Checks a join token the way join does (signature, expiry, app, channel) and returns its uid and
   * privileges; with auth switched off, grants everything. Rejects with CodedError (TOKEN_*).
   */
  authorize(appId: string, channelId: string, token: string): Promise<TokenGrant>;
  /** Adds an HTTP handler; routes are tried in the order they were added. */
  addRoute(route: HttpRoute): void;
  /** Serves WebSocket upgrades on `pathname` (exact match, query ignored); closed before the HTTP server. */
  addUpgradeRoute(pathname: string, route: UpgradeRoute): void;
}

/** Builds a plugin for a server; called once the server's channels exist, before it listens. */
export type PluginFactory = (context: PluginContext) => Promise<ServerPlugin> | ServerPlugin;
