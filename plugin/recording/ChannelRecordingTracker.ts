import { TypedEmitter } from '../../server/TypedEmitter';
import { isFinalRecordingEvent } from '../../signaling/recordingEvent';
import type { RecordingEventEntry } from './RecordingEventLog';

const MAX_ENDED = 1000;

/** A recording of a channel that has not ended: `running` once its recorder writes. */
export interface TrackedRecording {
  recordingId: string;
  running: boolean;
}

export type ChannelRecordingTrackerEvents = {
  /** A recording opened, started running or ended (also one never heard open). */
  changed: [recordingId: string, channelId: string];
};

/**
 * Which recordings of each channel have not ended, wherever they run: fed with every recording event
 * this node hears — its own engine's and, in a cluster, the other nodes' (ClusterRecordings'
 * remoteLog) — so a channel's recordState follows a recording on a recorder node the same way as
 * one on its own node. Connecting opens a recording, started makes it run, stopped or fatalError
 * ends it. A channel with no open recording takes no room here.
 */
export class ChannelRecordingTracker extends TypedEmitter<ChannelRecordingTrackerEvents> {
  /** channelId → recordingId → running. */
  readonly #byChannel = new Map<string, Map<string, boolean>>();
  /** recordingId → channelId of the open recordings, for events that name no channel. */
  readonly #channelOf = new Map<string, string>();
  /** The recordings that ended lately (the newest MAX_ENDED), so a late event cannot open them again. */
  readonly #ended = new Set<string>();

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  /** Takes in one event of any recording, in its log's order. */
  observe(event: RecordingEventEntry): void {
    const channelId = event.channelId || this.#channelOf.get(event.recordingId);
    if (!channelId) return;
    if (isFinalRecordingEvent(event)) {
      this.#remove(event.recordingId, channelId);
      this.safeEmit('changed', event.recordingId, channelId);
      return;
    }
    // Only a recording's first events open it, and never again once it ended.
    if ((event.type !== 'connecting' && event.type !== 'started') || this.#ended.has(event.recordingId)) return;
    let recordings = this.#byChannel.get(channelId);
    const running = event.type === 'started';
    if (recordings?.get(event.recordingId) === running) return;
    if (!recordings) this.#byChannel.set(channelId, (recordings = new Map()));
    recordings.set(event.recordingId, running);
    this.#channelOf.set(event.recordingId, channelId);
    this.safeEmit('changed', event.recordingId, channelId);
  }

  /** The channel's recording: a running one first, else one starting; undefined when none is open. */
  of(channelId: string): TrackedRecording | undefined {
    const recordings = this.#byChannel.get(channelId);
    if (!recordings) return undefined;
    let starting: TrackedRecording | undefined;
    for (const [recordingId, running] of recordings) {
      if (running) return { recordingId, running };
      starting ??= { recordingId, running };
    }
    return starting;
  }

  /**
   * Resolves once `recordingId` is running or ended ('running'), or ended ('ended'); at the latest
   * after `timeoutMs` (what is known then holds). For a start or stop made on another node, whose
   * events come back through the cluster's stream a moment after its answer.
   */
  async settled(recordingId: string, until: 'running' | 'ended', timeoutMs: number): Promise<void> {
    const done = (): boolean => {
      if (this.#ended.has(recordingId)) return true;
      const channelId = this.#channelOf.get(recordingId);
      const running = channelId === undefined ? undefined : this.#byChannel.get(channelId)?.get(recordingId);
      // Not heard of yet: a start waits for its first event; a stop has nothing to wait for.
      return until === 'running' ? running === true : running === undefined;
    };
    if (done()) return;
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.off('changed', onChange);
        resolve();
      };
      const onChange = (id: string): void => {
        if (id === recordingId && done()) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.on('changed', onChange);
    });
  }

  #remove(recordingId: string, channelId: string): void {
    const recordings = this.#byChannel.get(channelId);
    recordings?.delete(recordingId);
    if (recordings?.size === 0) this.#byChannel.delete(channelId);
    this.#channelOf.delete(recordingId);
    this.#ended.add(recordingId);
    if (this.#ended.size > MAX_ENDED) this.#ended.delete(this.#ended.values().next().value!);
  }
}
