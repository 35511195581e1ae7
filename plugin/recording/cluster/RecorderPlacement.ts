import type { NodeInfo } from '../../../server/cluster/NodeRegistry';
import type { ClusterHandle } from '../../../server/plugins/contract';
import { CodedError, RecordingErrorCode } from '../../../signaling/errors';

/**
 * Which recorder node a recording goes to: of the live nodes with the recorder role that
 * heartbeat a recorder load, the one with the most free capacity (capacity − used, in the units of
 * recordingCost.ts) that fits the recording's cost; on a tie this node first (no media crosses
 * machines), then by node id. When none fits, the start fails at once — InvalidOperation, "the
 * cluster is full" — rather than waiting in Connecting for room that may never come.
 *
 * The loads are the nodes' last heartbeats (each node heartbeats again as soon as a recording is
 * admitted or ends): two placements within one Redis round trip may choose the same node for its
 * last room, and that node's own capacity check (RecordingRegistry) refuses the second.
 */
export class RecorderPlacement {
  readonly #cluster: Pick<ClusterHandle, 'nodeId' | 'liveNodes'>;

  constructor(cluster: Pick<ClusterHandle, 'nodeId' | 'liveNodes'>) {
    this.#cluster = cluster;
  }

  /**
   * The node to record on: `preferred` (the channel's own node: no media crosses the network) when
   * it is a recorder with room, else the one with the most room. Throws InvalidOperation when the
   * cluster is full, CLUSTER_UNAVAILABLE when Redis is away.
   */
  async choose(cost: number, preferred?: (node: NodeInfo) => boolean): Promise<NodeInfo> {
    const nodes = await this.#cluster.liveNodes();
    const first = preferred ? nodes.find((node) => preferred(node) && hasRoom(node, cost)) : undefined;
    return first ?? pickRecorderNode(nodes, cost, this.#cluster.nodeId);
  }
}

/** The recorder nodes, the most free first (on a tie this node, then by id): the order placement tries them in. */
export function rankRecorderNodes(nodes: readonly NodeInfo[], selfNodeId: string): NodeInfo[] {
  const recorders = nodes.filter((node) => node.roles.includes('recorder') && node.load.recorder);
  return recorders.sort((a, b) => freeUnits(b) - freeUnits(a) || rank(a, selfNodeId) - rank(b, selfNodeId) || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}

export function freeUnits(node: NodeInfo): number {
  return node.load.recorder ? node.load.recorder.capacity - node.load.recorder.used : 0;
}

/** The choice of RecorderPlacement over a given list of nodes (see there). */
export function pickRecorderNode(nodes: readonly NodeInfo[], cost: number, selfNodeId: string): NodeInfo {
  if (!(cost > 0)) throw new TypeError('cost must be a positive number of units');
  const ranked = rankRecorderNodes(nodes, selfNodeId);
  const best = ranked[0];
  if (best && freeUnits(best) >= cost) return best;
  const why = best
    ? `no recorder node has ${cost} units free for this recording (the most free: ${best.nodeId}, ${Math.max(freeUnits(best), 0)} of ${best.load.recorder!.capacity}; ${ranked.length} recorder node${ranked.length === 1 ? '' : 's'})`
    : 'no live node has the recorder role';
  throw new CodedError(RecordingErrorCode.InvalidOperation, `the cluster is full: ${why}; start again when a recording has ended or a recorder node joined`);
}

function hasRoom(node: NodeInfo, cost: number): boolean {
  return node.roles.includes('recorder') && node.load.recorder !== undefined && freeUnits(node) >= cost;
}

function rank(node: NodeInfo, selfNodeId: string): number {
  return node.nodeId === selfNodeId ? 0 : 1;
}
