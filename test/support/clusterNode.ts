/**
 * A ClusterMember without a media server: several of these in one test process act as several
 * nodes, each on its own Redis connection.
 */

import crypto from 'node:crypto';
import os from 'node:os';
import { ChannelLeases } from '../../server/cluster/ChannelLeases';
import { ClusterKeys } from '../../server/cluster/ClusterKeys';
import { ClusterMember } from '../../server/cluster/ClusterMember';
import { NodeLoad, NodeRegistry, NodeRole } from '../../server/cluster/NodeRegistry';
import { RedisConnection } from '../../server/cluster/RedisConnection';

export type TestNode = {
  nodeId: string;
  member: ClusterMember;
  connection: RedisConnection;
  registry: NodeRegistry;
  leases: ChannelLeases;
  /** What the node reports at its next heartbeat. */
  load: NodeLoad;
  /** A crash: nothing released or deregistered, the connection dropped. */
  crash(): Promise<void>;
  close(): Promise<void>;
};

export type TestNodeOptions = {
  url: string;
  keys: ClusterKeys;
  nodeId: string;
  nodeTimeoutMs?: number;
  leaseMs?: number;
  pendingLeaseMs?: number;
  load?: Partial<NodeLoad>;
  /** cluster.roles; default both. */
  roles?: NodeRole[];
};

/** A key prefix of its own per test, so tests sharing a Redis never see each other's keys. */
export function testKeys(): ClusterKeys {
  return new ClusterKeys(`test-${crypto.randomBytes(4).toString('hex')}`);
}

export async function startTestNode(options: TestNodeOptions): Promise<TestNode> {
  const load: NodeLoad = { channels: 0, peers: 0, producers: 0, recordings: 0, cpu: 0, ...options.load };
  const member = new ClusterMember({
    cluster: {
      redisUrl: options.url,
      nodeId: options.nodeId,
      publicUrl: `https://${options.nodeId}.test:8080`,
      rtpAddress: '',
      nodeTimeoutMs: options.nodeTimeoutMs ?? 1000,
      leaseMs: options.leaseMs ?? 1500,
      ...(options.roles ? { roles: options.roles } : {}),
    },
    stateDir: os.tmpdir(),
    defaultRtpAddress: '127.0.0.1',
    load: () => load,
    keyPrefix: options.keys.prefix,
    ...(options.pendingLeaseMs !== undefined ? { pendingLeaseMs: options.pendingLeaseMs } : {}),
  });
  await member.start();
  return {
    nodeId: member.nodeId,
    member,
    connection: member.connection,
    registry: member.registry,
    leases: member.leases,
    load,
    crash: () => member.close({ crash: true }),
    close: () => member.close(),
  };
}
