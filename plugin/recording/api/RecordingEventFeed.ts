import type { RecordingEventEntry, RecordingEventLog } from '../RecordingEventLog';

/**
 * The events an SDK connection can follow: this node's own log and, in a cluster, the other nodes'
 * events as the stream brought them. A recording's events are read from the log that has it.
 */
export class RecordingEventFeed {
  readonly #logs: RecordingEventLog[];

  constructor(local: RecordingEventLog, remote?: RecordingEventLog) {
    this.#logs = remote ? [local, remote] : [local];
  }

  has(recordingId: string): boolean {
    return this.#logs.some((log) => log.has(recordingId));
  }

  channelOf(recordingId: string): string | undefined {
    return this.#logOf(recordingId)?.channelOf(recordingId);
  }

  lastSeq(recordingId: string): number {
    return this.#logOf(recordingId)?.lastSeq(recordingId) ?? 0;
  }

  last(recordingId: string): RecordingEventEntry | undefined {
    return this.#logOf(recordingId)?.last(recordingId);
  }

  since(recordingId: string, afterSeq = 0): { entries: RecordingEventEntry[]; complete: boolean } {
    return this.#logOf(recordingId)?.since(recordingId, afterSeq) ?? { entries: [], complete: false };
  }

  /** Calls `listener` with every new entry of any log, in the order each log took them in; returns the unsubscribe. */
  subscribe(listener: (entry: RecordingEventEntry) => void): () => void {
    for (const log of this.#logs) {
      log.on('appended', listener);
      log.on('received', listener);
    }
    return () => {
      for (const log of this.#logs) {
        log.off('appended', listener);
        log.off('received', listener);
      }
    };
  }

  #logOf(recordingId: string): RecordingEventLog | undefined {
    return this.#logs.find((log) => log.has(recordingId));
  }
}
