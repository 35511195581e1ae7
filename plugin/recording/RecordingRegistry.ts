import { Logger } from '../../server/logger';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { UploadJobStatus } from '../storage/UploadJob';
import type { UploadManager } from '../storage/UploadManager';
import type { ChannelRecording, RecordingPhase } from './ChannelRecording';
import type { ResolvedRecordingConfig } from './recordingConfig';
import type { RecordedFile } from './recorder/protocol';
import type { RecordingManifest } from './recordingManifest';
import { recordingCostOf } from './cluster/recordingCost';
import { mintRecordingId } from './recordingKeys';
import type { RecordingArchive } from './RecordingArchive';
import type { SegmentFile } from './RecordingEngine';

const logger = new Logger('RecordingRegistry');

export interface RecordingStatus {
  recordingId: string;
  channelId: string;
  phase: RecordingPhase;
  /**
   * Present (true) for a recording a previous server process never finished (it was killed or
   * crashed): its files were recovered from disk after the restart. Its phase is 'failed', or
   * 'stopped' when it had stopped and only its hand-off to the upload queue was cut short.
   */
  recovered?: true;
  mode: ResolvedRecordingConfig['recordingMode'];
  /** When the recorder started the file: the instant every file's startOffsetMs counts from. */
  startedAt: string;
  startedBy: string;
  /** uids whose streams went to the recorder at any time during the recording. */
  participants: string[];
  /**
   * Every file; `segment` on the files of a recording that moved to another recorder node when its
   * node died (segment 0 as it started, 1 on the next node …), offsets all from `startedAt`.
   */
  files: Array<{ objectKey: string; kind: RecordedFile['kind']; uid?: string; startOffsetMs: number; segment?: number; durationMs?: number }>;
  /** The segment this node records, when it carries on a recording another recorder node started. */
  segment?: number;
  uploads: UploadJobStatus[];
}

/** What the engine remembers of one recording, live or recovered after a restart. */
export interface RecordingEntry {
  recordingId: string;
  channelId: string;
  mode: ResolvedRecordingConfig['recordingMode'];
  /** Absent for a recording recovered from a previous process. */
  recording?: ChannelRecording;
  /** Phase of a recovered recording (it has no ChannelRecording). */
  recoveredPhase?: 'failed' | 'stopped';
  manifest: RecordingManifest;
  startedBy: string;
  participants: Set<string>;
  /** Every file of the recording, keyed by object key, once handed off. */
  objectKeys: Map<string, { objectKey: string; file: RecordedFile }>;
  /** Files whose progress counts (handed to the queue); percent per object key. */
  percents: Map<string, number>;
  /** Last per-recording percentage emitted: progress never goes back. */
  progress: number;
  /** Settles once the files are in the upload queue (or failed to get there). */
  handedOff?: Promise<void>;
  /** Release(false): files of this recording are queued held (kept in backup, not uploaded). */
  uploadsHeld: boolean;
  /** Files of the recording's other segments, recorded on other nodes (their owner told them). */
  segmentFiles: Map<number, SegmentFile[]>;
}

/** A new entry: what the recording is, with empty delivery bookkeeping (no files keyed yet, no progress). */
export function newRecordingEntry(
  what: Pick<RecordingEntry, 'recordingId' | 'channelId' | 'mode' | 'manifest' | 'startedBy'> & Partial<Pick<RecordingEntry, 'recording' | 'recoveredPhase'>> & { participants?: Iterable<string> },
): RecordingEntry {
  const { participants = [], ...rest } = what;
  return { ...rest, participants: new Set(participants), objectKeys: new Map(), percents: new Map(), progress: 0, uploadsHeld: false, segmentFiles: new Map() };
}

export interface RecordingRegistryOptions {
  maxConcurrentRecordings: number;
  /** This node's recorder capacity in cost units (cluster/recordingCost.ts); undefined: the count alone limits. */
  capacityUnits?: number;
  /** How long a finished recording stays in memory before only its archived status answers for it. */
  retainFinishedMs: number;
  archive: RecordingArchive;
  uploads: UploadManager;
}

/**
 * The recordings this process knows: mints their ids, enforces one recording per channel and the
 * server's cap, answers status() / list() — for live ones from memory, for finished ones forgotten
 * after the retention from their archived final status — and forgets finished ones.
 */
export class RecordingRegistry {
  readonly #options: RecordingRegistryOptions;
  readonly #entries = new Map<string, RecordingEntry>();
  readonly #forgetTimers = new Map<string, NodeJS.Timeout>();

  constructor(options: RecordingRegistryOptions) {
    this.#options = options;
  }

  mintId(): string {
    return mintRecordingId((recordingId) => this.known(recordingId));
  }

  /** In memory, or archived after it was forgotten. */
  known(recordingId: string): boolean {
    return this.#entries.has(recordingId) || this.#options.archive.load(recordingId) !== undefined;
  }

  /** Refuses a start (of `cost` units) the channel or the server has no room for (InvalidOperation). */
  assertRoomFor(channelId: string, cost: number): void {
    if (this.activeRecording(channelId)) throw new CodedError(RecordingErrorCode.InvalidOperation, `channel ${channelId} is already being recorded`);
    const max = this.#options.maxConcurrentRecordings;
    if (this.activeCount() >= max) throw new CodedError(RecordingErrorCode.InvalidOperation, `this server already runs ${max} recordings, its configured maximum`);
    const capacity = this.#options.capacityUnits;
    if (capacity === undefined) return;
    if (capacity === 0) throw new CodedError(RecordingErrorCode.InvalidOperation, 'this node runs no recordings: it has no recorder role (cluster.roles)');
    const used = this.usedUnits();
    if (used + cost > capacity) {
      throw new CodedError(
        RecordingErrorCode.InvalidOperation,
        `this node's recorders are full: its running recordings cost ${used} of its ${capacity} units and this one needs ${cost} (recording.capacityUnits); start again when one has ended`,
      );
    }
  }

  /** What the running recordings cost now, in units (with the producers their channels have now). */
  usedUnits(): number {
    let used = 0;
    for (const { recording } of this.#entries.values()) if (recording?.active) used += recordingCostOf(recording.config, recording.channel);
    return used;
  }

  add(entry: RecordingEntry): void {
    this.#entries.set(entry.recordingId, entry);
  }

  /** Forgets an entry at once, unarchived (a segment whose recording another node owns). */
  remove(recordingId: string): void {
    clearTimeout(this.#forgetTimers.get(recordingId));
    this.#forgetTimers.delete(recordingId);
    this.#entries.delete(recordingId);
  }

  /** Lists another segment's files with the recording (in memory, else in its archived status); false when unknown. */
  addSegmentFiles(recordingId: string, segment: number, files: SegmentFile[]): boolean {
    const entry = this.#entries.get(recordingId);
    if (entry) {
      entry.segmentFiles.set(segment, files);
      return true;
    }
    const archived = this.#options.archive.load(recordingId);
    if (!archived) return false;
    const others = archived.files.filter((file) => file.segment !== segment);
    return this.#options.archive.save({ ...archived, files: sortByTimeline([...others, ...files.map((file) => ({ ...file, segment }))]) });
  }

  /** The entry in memory (live, or finished and not yet forgotten). */
  entry(recordingId: string): RecordingEntry | undefined {
    return this.#entries.get(recordingId);
  }

  entries(): RecordingEntry[] {
    return [...this.#entries.values()];
  }

  activeRecording(channelId: string): ChannelRecording | undefined {
    for (const { recording } of this.#entries.values()) {
      if (recording?.channel.channelId === channelId && recording.active) return recording;
    }
    return undefined;
  }

  activeCount(): number {
    return [...this.#entries.values()].filter((entry) => entry.recording?.active).length;
  }

  /**
   * The recording ended and its files are in the upload queue (or never will be): after the
   * retention it is forgotten from memory, its final status archived. Without a durable archive it
   * stays in memory.
   */
  finished(entry: RecordingEntry): void {
    if (!this.#options.archive.durable || this.#forgetTimers.has(entry.recordingId)) return;
    const timer = setTimeout(() => this.#forget(entry.recordingId), this.#options.retainFinishedMs);
    timer.unref();
    this.#forgetTimers.set(entry.recordingId, timer);
  }

  status(recordingId: string): RecordingStatus | undefined {
    const entry = this.#entries.get(recordingId);
    if (entry) return { ...statusOf(entry), uploads: this.#uploadsOf(recordingId) };
    const archived = this.#options.archive.load(recordingId);
    return archived ? { ...archived, uploads: latestUploads(archived.uploads, this.#uploadsOf(recordingId)) } : undefined;
  }

  /** An upload of a forgotten recording moved on: its archived status follows (the queue forgets finished jobs). */
  uploadChanged(recordingId: string): void {
    if (this.#entries.has(recordingId)) return;
    const archived = this.#options.archive.load(recordingId);
    if (archived) this.#options.archive.save({ ...archived, uploads: latestUploads(archived.uploads, this.#uploadsOf(recordingId)) });
  }

  held(): RecordingStatus[] {
    return this.#liveStatuses(this.#options.uploads.list());
  }

  /** Every recording known: in memory, then archived ones (oldest start first). */
  list(): RecordingStatus[] {
    const archived = this.#options.archive
      .list()
      .filter((status) => !this.#entries.has(status.recordingId))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const jobs = this.#options.uploads.list();
    return [
      ...this.#liveStatuses(jobs),
      ...archived.map((status) => ({ ...status, uploads: latestUploads(status.uploads, jobsOf(jobs, status.recordingId)) })),
    ];
  }

  /** Stops the forgetting timers: what is in memory at shutdown is rebuilt from disk at the next start. */
  close(): void {
    for (const timer of this.#forgetTimers.values()) clearTimeout(timer);
    this.#forgetTimers.clear();
  }

  #forget(recordingId: string): void {
    this.#forgetTimers.delete(recordingId);
    const entry = this.#entries.get(recordingId);
    if (!entry || entry.recording?.active) return;
    if (!this.#options.archive.save({ ...statusOf(entry), uploads: this.#uploadsOf(recordingId) })) return;
    this.#entries.delete(recordingId);
    logger.debug('forget() | finished: answered from its archived status from now on', { recordingId });
  }

  #uploadsOf(recordingId: string): UploadJobStatus[] {
    return jobsOf(this.#options.uploads.list(), recordingId);
  }

  #liveStatuses(jobs: readonly UploadJobStatus[]): RecordingStatus[] {
    return [...this.#entries.values()].map((entry) => ({ ...statusOf(entry), uploads: jobsOf(jobs, entry.recordingId) }));
  }
}

function jobsOf(jobs: readonly UploadJobStatus[], recordingId: string): UploadJobStatus[] {
  return jobs.filter((job) => job.recordingId === recordingId);
}

/** The queue's jobs where it still knows them, else what was archived. */
function latestUploads(archived: readonly UploadJobStatus[] | undefined, live: readonly UploadJobStatus[]): UploadJobStatus[] {
  const byKey = new Map((archived ?? []).map((job) => [job.objectKey, job]));
  for (const job of live) byKey.set(job.objectKey, job);
  return [...byKey.values()];
}

function statusOf(entry: RecordingEntry): Omit<RecordingStatus, 'uploads'> {
  const { recording, manifest } = entry;
  const startedAt = recording ? new Date(recording.startedAt).toISOString() : manifest.startedAt;
  const segment = manifest.segment ?? 0;
  const segmented = segment > 0 || entry.segmentFiles.size > 0;
  // A later segment's offsets count from segment 0's start, the recording's one timeline.
  const shift = manifest.timelineStartedAt ? Date.parse(startedAt) - Date.parse(manifest.timelineStartedAt) : 0;
  const own = [...entry.objectKeys.values()].map(({ objectKey, file }) => ({
    objectKey,
    kind: file.kind,
    ...(file.uid ? { uid: file.uid } : {}),
    startOffsetMs: Math.max(0, Math.round(file.startOffsetMs + shift)),
    ...(segmented ? { segment } : {}),
  }));
  const others = [...entry.segmentFiles.entries()].flatMap(([other, files]) => files.map((file) => ({ ...file, segment: other })));
  return {
    recordingId: entry.recordingId,
    channelId: entry.channelId,
    phase: recording?.phase ?? entry.recoveredPhase ?? 'failed',
    ...(recording ? {} : { recovered: true as const }),
    mode: entry.mode,
    startedAt: manifest.timelineStartedAt ?? startedAt,
    startedBy: entry.startedBy,
    participants: [...entry.participants],
    files: segmented ? sortByTimeline([...own, ...others]) : own,
    ...(segment > 0 ? { segment } : {}),
  };
}

function sortByTimeline<T extends { segment?: number; startOffsetMs: number }>(files: T[]): T[] {
  return files.sort((a, b) => (a.segment ?? 0) - (b.segment ?? 0) || a.startOffsetMs - b.startOffsetMs);
}
