import type { ServerConfig } from '../../config/defaults';
import { ApiAuthenticator, apiSecretOf } from '../http/basicAuth';
import type { ChannelRegistry } from '../ChannelRegistry';
import { Logger } from '../logger';
import type { HttpRoute } from '../MediaServer';
import { ClusterChannels } from './ClusterChannels';
import { ClusterMember } from './ClusterMember';
import { createClusterRoutes } from './clusterRoutes';
import type { NodeLoad } from './NodeRegistry';

const logger = new Logger('cluster');

export type ClusterAttachment = { channels: ClusterChannels; route: HttpRoute };

/** This node's load as the registry heartbeats it: what its channels hold now. */
export function channelLoad(registry: ChannelRegistry): Omit<NodeLoad, 'cpu'> {
  let peers = 0;
  let producers = 0;
  let recordings = 0;
  for (const channel of registry.list()) {
    peers += channel.peers().length;
    producers += channel.producers().length;
    if (channel.getProperty('recordState') === 'Running') recordings++;
  }
  return { channels: registry.size, peers, producers, recordings };
}

/**
 * Cluster mode (cluster.redisUrl set): this node joins the cluster, its registry creates channels
 * only where their lease says, and GET /api/v1/cluster/nodes answers. Undefined for a single node.
 * A Redis that is away at start does not stop the node: it serves, refuses new channels
 * (CLUSTER_UNAVAILABLE) and registers once Redis is there.
 */
export async function joinCluster(options: {
  config: ServerConfig;
  registry: ChannelRegistry;
  /** The resolved mediasoup.announcedIp: rtpAddress when cluster.rtpAddress is empty. */
  announcedIp: string;
  authSecret: string;
  scheme: 'http' | 'https';
}): Promise<ClusterAttachment | undefined> {
  const { config, registry } = options;
  const { cluster } = config;
  if (!cluster.redisUrl) return undefined;
  // Without a configured publicUrl a fixed port still gives one (a port chosen by the OS does not).
  const publicUrl = cluster.publicUrl || (config.http.port > 0 ? `${options.scheme}://${options.announcedIp}:${config.http.port}` : '');
  const member = new ClusterMember({
    cluster: { ...cluster, publicUrl },
    stateDir: config.recording.stateDir,
    defaultRtpAddress: options.announcedIp,
    load: () => channelLoad(registry),
  });
  const channels = new ClusterChannels(member, registry);
  registry.setPlacement(channels);
  try {
    await member.start();
    logger.info(`joined the cluster as ${member.nodeId} (${member.roles.join(', ')}) at ${member.registry.publicUrl}`);
  } catch (error) {
    logger.warn(`the cluster's Redis is away (${(error as Error).message}): serving, refusing new channels until it is back`);
  }
  const auth = new ApiAuthenticator(config.auth.appId, apiSecretOf(config, options.authSecret));
  return { channels, route: createClusterRoutes(member.registry, auth) };
}
