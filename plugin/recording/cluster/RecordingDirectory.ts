import type { ClusterHandle } from '../../../server/plugins/contract';
import { RecordingErrorCode } from '../../../signaling/errors';
import type { RecordingEventEntry } from '../RecordingEventLog';
import type { RecordingView } from '../recordingView';
import { FAIL_NODE_SCRIPT, PUBLISH_SCRIPT } from './directoryScripts';

/** A recording as the cluster knows it: its owner's last published view, and what became of it since. */
export interface DirectoryEntry {
  recordingId: string;
  nodeId: string;
  channelId: string;
  phase: RecordingView['phase'];
  lastSeq: number;
  /** Its node died while it recorded: declared failed by the cluster. */
  lost: boolean;
  /** The fatalError the cluster published for it then. */
  lostEvent?: RecordingEventEntry;
  view: RecordingView;
}

/** An event as it crosses the stream: the recording's entry plus the node that numbered it. */
export type PublishedEvent = RecordingEventEntry & { nodeId: string };

const STREAM_MAX_LENGTH = 100_000;
/** A dead node's lost recordings wait this long for it to come back and recover them, then are forgotten. */
const LOST_RETAIN_MS = 7 * 24 * 3600_000;
/** How many of the newest recordings a cluster-wide list shows. */
const LIST_LIMIT = 1000;

/**
 * The cluster's record of every recording, in Redis under the cluster's prefix: each recording's
 * owner node, phase, last event number and last view, updated by its owner with every event it
 * publishes to the stream. Any node reads it to list the cluster's recordings and to find the node
 * to pass a request on to; the node that sees another die declares that node's recordings failed.
 */
export class RecordingDirectory {
  readonly #cluster: ClusterHandle;
  readonly #retainMs: number;

  constructor(cluster: ClusterHandle, options: { retainFinishedMs: number }) {
    this.#cluster = cluster;
    this.#retainMs = options.retainFinishedMs;
  }

  /** Publishes one of this node's events with the recording's view after it; false for a repeat. */
  async publish(entry: RecordingEventEntry, view: RecordingView): Promise<boolean> {
    const { nodeId } = this.#cluster;
    const final = view.phase === 'stopped' || view.phase === 'failed';
    const event: PublishedEvent = { ...entry, nodeId };
    const published = await this.#cluster.connection.run((redis) =>
      redis.eval(
        PUBLISH_SCRIPT,
        4,
        this.#entryKey(entry.recordingId),
        this.#indexKey,
        this.#activeKey(nodeId),
        this.#cluster.eventStreamKey,
        entry.recordingId,
        entry.seq,
        nodeId,
        view.channelId,
        view.phase,
        Date.parse(view.startedAt) || Date.now(),
        JSON.stringify(view),
        JSON.stringify(event),
        STREAM_MAX_LENGTH,
        final ? '1' : '0',
        this.#retainMs,
      ),
    );
    return published === 1;
  }

  async get(recordingId: string): Promise<DirectoryEntry | undefined> {
    const fields = await this.#cluster.connection.run((redis) => redis.hgetall(this.#entryKey(recordingId)));
    return toEntry(recordingId, fields);
  }

  /** The cluster's newest recordings, oldest first. */
  async list(): Promise<DirectoryEntry[]> {
    return this.#cluster.connection.run(async (redis) => {
      const ids = await redis.zrange(this.#indexKey, String(-LIST_LIMIT), '-1');
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.#entryKey(id));
      const replies = (await pipeline.exec()) ?? [];
      const entries: DirectoryEntry[] = [];
      const gone: string[] = [];
      replies.forEach(([, fields], index) => {
        const entry = toEntry(ids[index]!, fields as Record<string, string>);
        if (entry) entries.push(entry);
        else gone.push(ids[index]!);
      });
      // Entries expire retainFinishedMs after their end; the index forgets them lazily.
      if (gone.length > 0) await redis.zrem(this.#indexKey, ...gone);
      return entries;
    });
  }

  /**
   * Declares the recordings `nodeId` was recording failed (it died): returns the fatalError events
   * this call published, none when another node's call did it first.
   */
  async failNode(nodeId: string): Promise<PublishedEvent[]> {
    const events = (await this.#cluster.connection.run((redis) =>
      redis.eval(
        FAIL_NODE_SCRIPT,
        2,
        this.#activeKey(nodeId),
        this.#cluster.eventStreamKey,
        this.#entryKey(''),
        nodeId,
        RecordingErrorCode.RecorderFailed,
        `cluster node ${nodeId} stopped answering during the recording; its files are recovered and uploaded when it is back`,
        new Date().toISOString(),
        STREAM_MAX_LENGTH,
        Math.max(this.#retainMs, LOST_RETAIN_MS),
      ),
    )) as string[];
    return events.map((json) => JSON.parse(json) as PublishedEvent);
  }

  /** The fatalErrors the cluster published for this node's recordings while it was dead. */
  async lostEventsOf(nodeId: string): Promise<PublishedEvent[]> {
    return this.#cluster.connection.run(async (redis) => {
      const ids = await redis.smembers(this.#activeKey(nodeId));
      const events: PublishedEvent[] = [];
      for (const id of ids) {
        const json = await redis.hget(this.#entryKey(id), 'lostEvent');
        if (json) events.push(JSON.parse(json) as PublishedEvent);
      }
      return events;
    });
  }

  #entryKey(recordingId: string): string {
    return `${this.#cluster.keyPrefix}:rec:${recordingId}`;
  }

  get #indexKey(): string {
    return `${this.#cluster.keyPrefix}:recs`;
  }

  /** The recordings a node has not finished: the ones to declare failed when it dies. */
  #activeKey(nodeId: string): string {
    return `${this.#cluster.keyPrefix}:recs:active:${nodeId}`;
  }
}

function toEntry(recordingId: string, fields: Record<string, string> | null | undefined): DirectoryEntry | undefined {
  if (!fields?.view || !fields.nodeId) return undefined;
  const lost = fields.lost === '1';
  const phase = fields.phase as RecordingView['phase'];
  const lastSeq = Number(fields.lastSeq);
  const view: RecordingView = { ...(JSON.parse(fields.view) as RecordingView), phase, lastSeq, nodeId: fields.nodeId, ...(lost ? { nodeLost: true } : {}) };
  return {
    recordingId,
    nodeId: fields.nodeId,
    channelId: fields.channelId ?? view.channelId,
    phase,
    lastSeq,
    lost,
    ...(fields.lostEvent ? { lostEvent: JSON.parse(fields.lostEvent) as RecordingEventEntry } : {}),
    view,
  };
}
