import type { ClusterEventConsumer } from '../../../server/cluster/ClusterEventConsumer';
import type { NodeInfo } from '../../../server/cluster/NodeRegistry';
import { Logger } from '../../../server/logger';
import type { ClusterHandle } from '../../../server/plugins/contract';
import { TypedEmitter } from '../../../server/TypedEmitter';
import type { RecordingEngine } from '../RecordingEngine';
import { RecordingEventEntry, RecordingEventLog } from '../RecordingEventLog';
import { recordingView, RecordingView } from '../recordingView';
import type { ChannelMedia } from '../media/ChannelMedia';
import type { ResolvedRecordingConfig } from '../recordingConfig';
import type { RecordingManifest } from '../recordingManifest';
import { ClusterEventPublisher, type PublishedState } from './ClusterEventPublisher';
import { DirectoryEntry, PublishedEvent, RecordingDirectory } from './RecordingDirectory';
import { RecordingTakeover } from './RecordingTakeover';
import { sealSpec } from './recordingSpec';
import { SegmentRelayClient } from './SegmentRelayClient';

const logger = new Logger('ClusterRecordings');

const ACTIVE_PHASES: ReadonlySet<string> = new Set(['starting', 'running', 'stopping']);
/** How often this node checks that no other node has taken its running recordings over. */
const OWNERSHIP_CHECK_MS = 2000;

/** Where a recording of another node lives, and whether that node is alive to ask. */
export interface RemoteRecording {
  entry: DirectoryEntry;
  /** The owner's publicUrl while it is alive. */
  url?: string;
}

export interface ClusterRecordingsOptions {
  retainFinishedMs: number;
  /** recording.failover: a recording of a node that died goes on on another recorder node (else it fails). */
  failover: boolean;
  /** The HTTP API's credentials every node of the cluster shares: specs are sealed under the secret, relays sent with both. */
  credentials: { appId: string; secret: string };
  /** The channel's media for a segment this node carries on (see RecordingTakeover). */
  media(channelId: string, config: ResolvedRecordingConfig): Promise<ChannelMedia>;
}

export type ClusterRecordingsEvents = {
  /** This node declared a dead node's recording failed: its fatalError is this node's to deliver (webhooks). */
  declaredFailed: [entry: RecordingEventEntry];
};

/**
 * The recording plugin's part in a cluster: publishes this node's events (stream and directory),
 * mirrors the other nodes' events into `remoteLog` (the SDK sessions here follow recordings of any
 * node from it), declares a dead node's recordings failed, and tells the APIs where a recording
 * lives. The owner's own event log stays the source of truth; this is how the others hear of it.
 */
export class ClusterRecordings extends TypedEmitter<ClusterRecordingsEvents> {
  readonly nodeId: string;
  readonly directory: RecordingDirectory;
  /** The other nodes' recording events, as the stream brought them (in memory). */
  readonly remoteLog = new RecordingEventLog({ maxRecordings: 1000 });
  readonly #cluster: ClusterHandle;
  readonly #engine: RecordingEngine;
  readonly #publisher: ClusterEventPublisher;
  readonly #takeover: RecordingTakeover;
  readonly #relay: SegmentRelayClient;
  readonly #secret: string;
  readonly #failover: boolean;
  #consumer: ClusterEventConsumer | undefined;
  #ownershipTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(cluster: ClusterHandle, engine: RecordingEngine, options: ClusterRecordingsOptions) {
    super();
    this.nodeId = cluster.nodeId;
    this.#cluster = cluster;
    this.#engine = engine;
    this.#secret = options.credentials.secret;
    this.#failover = options.failover;
    this.remoteLog.setMaxListeners(0);
    this.directory = new RecordingDirectory(cluster, options);
    this.#publisher = new ClusterEventPublisher(
      this.directory,
      engine.eventLog,
      (entry) => this.#publishedState(entry.recordingId),
      (recordingId) => void engine.supersede(recordingId),
    );
    this.#relay = new SegmentRelayClient(cluster, this.directory, options.credentials);
    engine.setSegmentRelay(this.#relay);
    this.#takeover = new RecordingTakeover({
      cluster,
      directory: this.directory,
      engine,
      mirror: this.remoteLog,
      secret: this.#secret,
      media: options.media,
      declaredFailed: (event) => this.safeEmit('declaredFailed', withoutNode(event)),
    });
    cluster.onNodeDown((nodeId, lastSeenAt) => void this.#nodeDown(nodeId, lastSeenAt));
    cluster.connection.on('up', () => this.#resync());
    if (this.#failover) {
      this.#ownershipTimer = setInterval(() => void this.#checkOwnership(), OWNERSHIP_CHECK_MS);
      this.#ownershipTimer.unref();
    }
  }

  /**
   * A node cut off from Redis long enough is declared dead and its recordings taken over while it
   * still records them; it may never get an error for it (its connection can look up all along).
   * So it asks the directory now and then: a recording another node carries on in a later segment
   * is superseded here — its recorder stops and its segment goes to the new owner.
   */
  async #checkOwnership(): Promise<void> {
    const running = this.#engine.activeRecordingIds();
    let owners: Map<string, { nodeId: string; segment: number }>;
    try {
      owners = await this.directory.owners(running);
    } catch {
      return;
    }
    for (const [recordingId, owner] of owners) {
      if (owner.nodeId !== this.nodeId && owner.segment > this.#engine.segmentOf(recordingId)) void this.#engine.supersede(recordingId);
    }
  }

  /** What one of this node's events is published with; a running recording's spec is sealed along for a takeover. */
  #publishedState(recordingId: string): PublishedState | undefined {
    const view = this.localView(recordingId);
    if (!view) return undefined;
    const spec = this.#failover && view.phase === 'running' ? this.#engine.takeoverSpec(recordingId) : undefined;
    return { view, segment: this.#engine.segmentOf(recordingId), ...(spec ? { spec: sealSpec(spec, this.#secret) } : {}) };
  }

  /**
   * Whether another recorder node carries on a recording this node was recording when it died
   * (recovery then delivers this node's segment for that owner).
   */
  async takenOver(manifest: RecordingManifest): Promise<boolean> {
    const entry = await this.directory.get(manifest.recordingId);
    return entry !== undefined && entry.nodeId !== this.nodeId && entry.segment > (manifest.segment ?? 0);
  }

  /** Redis is back, maybe empty after a restart: the unfinished recordings of this node are in the directory again. */
  #resync(): void {
    if (this.#closed) return;
    for (const status of this.#engine.list()) {
      if (!ACTIVE_PHASES.has(status.phase)) continue;
      const state = this.#publishedState(status.recordingId);
      if (state) this.#publisher.republish(status.recordingId, state);
    }
  }

  /**
   * Before recovery: takes in the fatalErrors the cluster published for this node's recordings while
   * it was down (so recovery does not end them a second time and the numbering stays the cluster's),
   * then reads the stream on. Redis away: recovery goes on alone, the stream is read once it is back.
   */
  async start(): Promise<void> {
    try {
      for (const event of await this.directory.lostEventsOf(this.nodeId)) {
        if (this.#engine.eventLog.has(event.recordingId)) this.#engine.eventLog.receive(withoutNode(event));
      }
    } catch (error) {
      logger.warn(`start() | could not read what the cluster declared of this node's recordings: ${(error as Error).message}`);
    }
    void this.#consume();
  }

  /** This node's view of one of its own recordings (undefined: not this node's). */
  localView(recordingId: string): RecordingView | undefined {
    const status = this.#engine.status(recordingId);
    return status ? recordingView(this.#engine, status, this.nodeId) : undefined;
  }

  /** A recording another node records or recorded (undefined: unknown to the cluster, or this node's). */
  async locate(recordingId: string): Promise<RemoteRecording | undefined> {
    const entry = await this.directory.get(recordingId);
    if (!entry || entry.nodeId === this.nodeId) return undefined;
    const live = await this.#liveNodes();
    return withLiveness(entry, live);
  }

  /** The other nodes' recordings, as of their last events (a dead node's active ones as failed). */
  async remoteViews(): Promise<RecordingView[]> {
    const [entries, live] = await Promise.all([this.directory.list(), this.#liveNodes()]);
    return entries.filter((entry) => entry.nodeId !== this.nodeId).map((entry) => withLiveness(entry, live).entry.view);
  }

  /** The other live nodes (for what is asked of every node, e.g. a channel's files). */
  async otherNodes(): Promise<NodeInfo[]> {
    return [...(await this.#liveNodes()).values()].filter((node) => node.nodeId !== this.nodeId);
  }

  /** Resolves once this node's events so far are published (shutdown), at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#publisher.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ownershipTimer);
    this.#takeover.close();
    this.#publisher.close();
    await this.#consumer?.close();
    this.remoteLog.close();
    this.removeAllListeners();
  }

  async #consume(): Promise<void> {
    while (!this.#closed && !this.#consumer) {
      try {
        this.#consumer = await this.#cluster.consumeEvents();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    if (this.#closed) {
      await this.#consumer?.close();
      return;
    }
    this.#consumer!.on('event', (event) => {
      const published = event as unknown as PublishedEvent;
      const entry = withoutNode(published);
      if (published.nodeId !== this.nodeId) this.remoteLog.receive(entry);
      // This node's own events are in its log already; only what the cluster said of them is new.
      else if (this.#engine.eventLog.has(entry.recordingId)) this.#engine.eventLog.receive(entry);
    });
  }

  /** A node died: its recordings that cannot be carried on are declared failed, the others taken over. */
  async #nodeDown(nodeId: string, lastSeenAt: number): Promise<void> {
    await this.#declareFailed(nodeId);
    if (!this.#closed) await this.#takeover.nodeDown(nodeId, lastSeenAt);
  }

  async #declareFailed(nodeId: string): Promise<void> {
    try {
      const events = await this.directory.failNode(nodeId, { takeover: this.#failover });
      for (const event of events) {
        logger.warn(`recording declared failed: its node ${nodeId} is down`, { recordingId: event.recordingId });
        this.safeEmit('declaredFailed', withoutNode(event));
      }
    } catch (error) {
      logger.warn(`could not declare the recordings of dead node ${nodeId} failed: ${(error as Error).message}`);
    }
  }

  async #liveNodes(): Promise<Map<string, NodeInfo>> {
    return new Map((await this.#cluster.liveNodes()).map((node) => [node.nodeId, node]));
  }
}

/** An active recording whose node is gone is failed, whether or not a node noticed the death in time — unless another recorder node may carry it on. */
function withLiveness(entry: DirectoryEntry, live: Map<string, NodeInfo>): RemoteRecording {
  const node = live.get(entry.nodeId);
  if (node) return { entry, url: node.publicUrl };
  // A running one that can be taken over is still running until a claim or the cluster says otherwise.
  if (!ACTIVE_PHASES.has(entry.phase) || (entry.phase === 'running' && entry.failover)) return { entry };
  return { entry: { ...entry, phase: 'failed', lost: true, view: { ...entry.view, phase: 'failed', nodeLost: true } } };
}

function withoutNode(event: PublishedEvent): RecordingEventEntry {
  const { nodeId: _nodeId, ...entry } = event;
  return entry as RecordingEventEntry;
}
