import type { ClusterHandle } from '../../../server/plugins/contract';
import { RecordingErrorCode } from '../../../signaling/errors';
import type { RecordingEventEntry } from '../RecordingEventLog';
import type { RecordingView } from '../recordingView';
import { CLAIM_SCRIPT, FAIL_NODE_SCRIPT, FAIL_ORPHAN_SCRIPT, PUBLISH_SCRIPT } from './directoryScripts';

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
  /** 0 as started; one more each time another recorder node took it over. */
  segment: number;
  /** Its node died and it waits for another recorder node to claim it: the dead node's id. */
  orphaned?: string;
  /** It has a spec: if its node dies while it runs, another recorder node can carry it on. */
  failover: boolean;
}

/** What a claim of an orphan gives its new owner. */
export interface ClaimedRecording {
  /** The segment the claimer records. */
  segment: number;
  /** The last event number the cluster gave out for it: the claimer numbers on from there. */
  lastSeq: number;
  /** Sealed (recordingSpec.ts). */
  spec: string;
  view: RecordingView;
}

/** How a publish went: 'superseded' when another node has taken the recording over meanwhile. */
export type PublishOutcome = 'published' | 'repeat' | 'superseded';

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

  /**
   * Publishes one of this node's events with the recording's view after it, as `segment` of the
   * recording; `spec` (sealed) is kept for a takeover while it runs.
   */
  async publish(entry: RecordingEventEntry, view: RecordingView, { segment = 0, spec = '' }: { segment?: number; spec?: string } = {}): Promise<PublishOutcome> {
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
        segment,
        final ? '' : spec,
      ),
    );
    return published === 1 ? 'published' : published === 0 ? 'repeat' : 'superseded';
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
   * this call published, none when another node's call did it first. With `takeover`, its running
   * recordings that have a spec become orphans instead, for another recorder node to claim.
   */
  async failNode(nodeId: string, { takeover }: { takeover: boolean }): Promise<PublishedEvent[]> {
    const events = (await this.#cluster.connection.run((redis) =>
      redis.eval(
        FAIL_NODE_SCRIPT,
        3,
        this.#activeKey(nodeId),
        this.#cluster.eventStreamKey,
        this.#orphansKey,
        this.#entryKey(''),
        nodeId,
        RecordingErrorCode.RecorderFailed,
        lostMessage(nodeId),
        new Date().toISOString(),
        STREAM_MAX_LENGTH,
        this.#lostRetainMs,
        takeover ? '1' : '0',
        Date.now(),
      ),
    )) as string[];
    return events.map((json) => JSON.parse(json) as PublishedEvent);
  }

  /** The orphans `nodeId` left: recordings of it waiting for a recorder node to claim them. */
  async orphansOf(nodeId: string): Promise<DirectoryEntry[]> {
    const ids = await this.#cluster.connection.run((redis) => redis.smembers(this.#orphansKey));
    const entries = await Promise.all(ids.map((id) => this.get(id)));
    return entries.filter((entry): entry is DirectoryEntry => entry?.orphaned === nodeId);
  }

  /** Who records each of these recordings now, and which segment (absent: the cluster does not know it). */
  async owners(recordingIds: readonly string[]): Promise<Map<string, { nodeId: string; segment: number }>> {
    if (recordingIds.length === 0) return new Map();
    const replies = await this.#cluster.connection.run((redis) => {
      const pipeline = redis.pipeline();
      for (const id of recordingIds) pipeline.hmget(this.#entryKey(id), 'nodeId', 'segment');
      return pipeline.exec();
    });
    const owners = new Map<string, { nodeId: string; segment: number }>();
    (replies ?? []).forEach(([, fields], index) => {
      const [nodeId, segment] = (fields as [string | null, string | null] | undefined) ?? [null, null];
      if (nodeId) owners.set(recordingIds[index]!, { nodeId, segment: Number(segment ?? 0) });
    });
    return owners;
  }

  /** The sealed spec of a recording that can still be taken over (undefined: none, or it ended). */
  async claimable(recordingId: string): Promise<string | undefined> {
    return (await this.#cluster.connection.run((redis) => redis.hget(this.#entryKey(recordingId), 'spec'))) ?? undefined;
  }

  /** Claims an orphan of dead `fromNodeId` for this node (undefined: another node was first, or it failed). */
  async claim(recordingId: string, fromNodeId: string): Promise<ClaimedRecording | undefined> {
    const reply = (await this.#cluster.connection.run((redis) =>
      redis.eval(CLAIM_SCRIPT, 4, this.#entryKey(recordingId), this.#orphansKey, this.#activeKey(fromNodeId), this.#activeKey(this.#cluster.nodeId), recordingId, fromNodeId, this.#cluster.nodeId),
    )) as [number, string, string, string] | null;
    if (!reply) return undefined;
    const [segment, lastSeq, spec, view] = reply;
    return { segment: Number(segment), lastSeq: Number(lastSeq), spec, view: JSON.parse(view) as RecordingView };
  }

  /** Fails an orphan of dead `fromNodeId` that nobody claimed: its fatalError, or undefined when it was claimed meanwhile. */
  async failOrphan(recordingId: string, fromNodeId: string, why: string): Promise<PublishedEvent | undefined> {
    const json = (await this.#cluster.connection.run((redis) =>
      redis.eval(
        FAIL_ORPHAN_SCRIPT,
        3,
        this.#entryKey(recordingId),
        this.#orphansKey,
        this.#cluster.eventStreamKey,
        recordingId,
        fromNodeId,
        RecordingErrorCode.RecorderFailed,
        `${lostMessage(fromNodeId)}; ${why}`,
        new Date().toISOString(),
        STREAM_MAX_LENGTH,
        this.#lostRetainMs,
      ),
    )) as string | null;
    return json ? (JSON.parse(json) as PublishedEvent) : undefined;
  }

  get #lostRetainMs(): number {
    return Math.max(this.#retainMs, LOST_RETAIN_MS);
  }

  get #orphansKey(): string {
    return `${this.#cluster.keyPrefix}:recs:orphans`;
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
    segment: Number(fields.segment ?? 0),
    failover: fields.spec !== undefined,
    ...(fields.orphaned ? { orphaned: fields.orphaned } : {}),
  };
}

function lostMessage(nodeId: string): string {
  return `cluster node ${nodeId} stopped answering during the recording; its files are recovered and uploaded when it is back`;
}
