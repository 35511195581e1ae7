import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** What a node id may be: 1-64 of A-Z a-z 0-9 . _ - (it appears in keys, paths and log lines). */
export const isNodeId = (value: unknown): value is string => typeof value === 'string' && NODE_ID_PATTERN.test(value);

/**
 * cluster.nodeId, or one generated on first start and kept in <stateDir>/node-id, so a node that
 * restarts comes back as itself (its recordings' manifests and leases name it).
 */
export function resolveNodeId(configured: string, stateDir: string): string {
  if (configured) {
    if (!NODE_ID_PATTERN.test(configured)) throw new TypeError('cluster.nodeId must be 1-64 of A-Z a-z 0-9 . _ -');
    return configured;
  }
  const file = path.join(stateDir, 'node-id');
  try {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (NODE_ID_PATTERN.test(kept)) return kept;
    throw new TypeError(`${file} does not hold a node id: remove it or set cluster.nodeId`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(stateDir, { recursive: true });
  // The host name helps an operator read the node list; the random part keeps two processes on one host apart.
  const host = os.hostname().replace(/[^A-Za-z0-9-]/g, '').slice(0, 40) || 'node';
  const nodeId = `${host}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(file, nodeId + '\n', { flag: 'wx' });
    return nodeId;
  } catch {
    // Another process of this state dir wrote it first: use theirs.
    return fs.readFileSync(file, 'utf8').trim();
  }
}
