/**
 * A cluster member's coordination parts (connection, registry, leases) without a media server:
 * several of these in one test process act as several nodes, each on its own Redis connection.
 */

import crypto from 'node:crypto';
import { ChannelLeases } from '../../server/cluster/ChannelLeases';
import { ClusterKeys } from '../../server/cluster/ClusterKeys';
import { NodeLoad, NodeRegistry } from '../../server/cluster/NodeRegistry';
import { RedisConnection } from '../../server/cluster/RedisConnection';

export type TestNode = {
  nodeId: string;
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
};

/** A key prefix of its own per test, so tests sharing a Redis never see each other's keys. */
export function testKeys(): ClusterKeys {
  return new ClusterKeys(`test-${crypto.randomBytes(4).toString('hex')}`);
}

export async function startTestNode(options: TestNodeOptions): Promise<TestNode> {
  const connection = new RedisConnection({ url: options.url, name: `node-${options.nodeId}` });
  await connection.waitUp(5000);
  const load: NodeLoad = { channels: 0, peers: 0, producers: 0, recordings: 0, cpu: 0, ...options.load };
  const registry = new NodeRegistry({
    connection,
    keys: options.keys,
    nodeId: options.nodeId,
    publicUrl: `https://${options.nodeId}.test:8080`,
    rtpAddress: '127.0.0.1',
    load: () => load,
    nodeTimeoutMs: options.nodeTimeoutMs ?? 1000,
  });
  await registry.start();
  const leases = new ChannelLeases({
    connection,
    keys: options.keys,
    registry,
    leaseMs: options.leaseMs ?? 1500,
    ...(options.pendingLeaseMs !== undefined ? { pendingLeaseMs: options.pendingLeaseMs } : {}),
  });
  return {
    nodeId: options.nodeId,
    connection,
    registry,
    leases,
    load,
    async crash() {
      await leases.close({ release: false });
      await registry.close({ leave: false });
      connection.client.disconnect(false);
      await connection.close();
    },
    async close() {
      await leases.close();
      await registry.close();
      await connection.close();
    },
  };
}
