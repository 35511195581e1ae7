import type { ClusterHandle } from '../plugins/contract';
import type { ClusterMember } from './ClusterMember';

/** What plugins get of this node's cluster membership (PluginContext.cluster). */
export function clusterHandle(member: ClusterMember): ClusterHandle {
  return {
    nodeId: member.nodeId,
    rtpAddress: member.rtpAddress,
    connection: member.connection,
    keyPrefix: member.keys.prefix,
    eventStreamKey: member.keys.events,
    liveNodes: () => member.registry.list(),
    onNodeDown: (listener) => void member.registry.on('nodeDown', (nodeId, lastSeen) => listener(nodeId, lastSeen.seenAt)),
    consumeEvents: () => member.consumeEvents(),
    channelOwner: async (channelId) => {
      const lease = await member.leases.lookup(channelId);
      return lease?.state === 'active' ? { nodeId: lease.owner, publicUrl: lease.publicUrl } : undefined;
    },
    roles: member.roles,
    setRecorderLoad: (source) => member.setRecorderLoad(source),
    heartbeat: () => member.registry.heartbeat(),
  };
}
