import fs from 'node:fs';
import path from 'node:path';
import { Logger, MAX_HELD_SECRETS, tryHoldSecret } from '../../server/logger';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { sanitizeFileName, type StorageTarget } from '../../signaling/recordParam';
import type { RecordingEventBody } from '../../signaling/recordingEvent';
import type { UploadJobStatus } from '../storage/UploadJob';
import type { UploadManager } from '../storage/UploadManager';
import type { ChannelMedia } from './media/ChannelMedia';
import type { RecorderLoad } from '../../server/cluster/NodeRegistry';
import { ChannelRecording } from './ChannelRecording';
import { recordingCostOf } from './cluster/recordingCost';
import { endpointPolicy, type EndpointPolicy } from './endpointPolicy';
import type { ResolvedRecordingConfig } from './recordingConfig';
import type { RecorderProcessOptions } from './recorder/RecorderProcess';
import type { RecordedFile } from './recorder/protocol';
import { recordedFilesOnDisk } from './recorder/filesOnDisk';
import { removeManifest, writeManifest, type RecordingManifest } from './recordingManifest';
import { RecordingArchive } from './RecordingArchive';
import { RecordingDelivery } from './RecordingDelivery';
import { RecordingEventLog, type RecordingEventEntry, type RecordingEventLogOptions } from './RecordingEventLog';
import { LONGEST_FILE_SUFFIX, objectKeysOf, objectKeyStem, segmentKeyStem } from './recordingKeys';
import type { RecordingSpec } from './cluster/recordingSpec';
import { recoverInterruptedRecordings } from './RecordingRecovery';
import { newRecordingEntry, RecordingRegistry, type RecordingEntry, type RecordingStatus } from './RecordingRegistry';

export type { RecordingStatus };

const logger = new Logger('RecordingEngine');

export interface StartRecordingRequest {
  /** The channel's media: LocalChannelMedia for a channel on this node. */
  channel: ChannelMedia;
  config: ResolvedRecordingConfig;
  /** Validated at the caller's boundary (schema and endpoint policy): the engine takes it as is. */
  target: StorageTarget;
  /** Object key stem from the record param; absent → <channel>/<recordingId>. */
  fileName?: string;
  /** Who started it, for logs and status ('peer:<uid>', 'backend:<uid>'). */
  startedBy: string;
  /** A recording another recorder node started, carried on here as its next segment after that node died. */
  continuing?: ContinuedRecording;
}

/** What this node takes over of a recording whose recorder node died (cluster/RecordingTakeover). */
export interface ContinuedRecording {
  recordingId: string;
  /** The segment this node records (1 for the first takeover). */
  segment: number;
  /** The key stem of segment 0 (recordingKeys.segmentKeyStem names this segment's). */
  keyStem: string;
  /** When segment 0's recorder started: every segment's file offsets count from it. */
  timelineStartedAt: string;
  participants: readonly string[];
  /** The last event number the cluster gave out: this node numbers on from there. */
  lastSeq: number;
  /** Its events so far, as this node's mirror has them (served to SDK sessions here). */
  history: readonly RecordingEventEntry[];
  /** The dead recorder node, and when it was last seen alive (ms): the gap is measured from there. */
  fromNodeId: string;
  lastSeenAt: number;
}

/** A segment's file as the recording's owner lists it: offsets on the recording's one timeline. */
export interface SegmentFile {
  objectKey: string;
  kind: RecordedFile['kind'];
  uid?: string;
  startOffsetMs: number;
  durationMs?: number;
}

/**
 * Where the events of a segment this node recorded go once another node owns the recording (it took
 * it over while this node was dead or cut off): to that owner, which numbers them.
 */
export interface SegmentRelay {
  events(recordingId: string, segment: number, event: RecordingEventBody): void;
  files(recordingId: string, segment: number, files: SegmentFile[]): void;
}

/** The events of a segment that still matter once the recording moved on: what became of its files. */
const RELAYED_EVENT_TYPES: ReadonlySet<RecordingEventBody['type']> = new Set(['uploaded', 'backuped', 'uploaderFailure']);

/** What start() answers at once: the id is known before anything is awaited. */
export interface RecordingStart {
  readonly recordingId: string;
  readonly recording: ChannelRecording;
  /** Resolves once the recorder runs its pipeline (the channel is Running); rejects with the seed's codes. */
  readonly started: Promise<ChannelRecording>;
}

export interface RecordingEngineOptions {
  uploads: UploadManager;
  /** Recorders' working files: <workDir>/<recordingId>/. */
  workDir: string;
  maxConcurrentRecordings: number;
  /**
   * This node's recorder capacity in cost units (cluster/recordingCost.ts): a start that does not
   * fit beside the running recordings is refused at once; 0 refuses every start. Undefined: no limit
   * but maxConcurrentRecordings.
   */
  recorderCapacity?: number;
  /** Hosts (host or host:port) a storage target's endpoint may name; '*' allows any. */
  allowedStorageEndpoints?: readonly string[];
  /** How long a finished recording stays in memory (then its archived status answers); default 10 min. */
  retainFinishedMs?: number;
  recorderIp?: string;
  recorderOptions?: RecorderProcessOptions;
  /** The engine's event log (durable with a `dir`); created before recovery so recovery's events are in it. */
  eventLog?: RecordingEventLogOptions;
}

/** How long HTTP start answers wait at most for the recorder's first bytes on disk. */
export const FIRST_WRITE_TIMEOUT_MS = 5000;
export const DEFAULT_RETAIN_FINISHED_MS = 10 * 60_000;
/** The retainer name a refused start releases: it never retained, so only an abandoned channel closes. */
const REFUSED_START = 'refused-recording-start';

/**
 * Every recording of this server: starts them (one recorder process each), stops and releases
 * them. Its parts each do one job: the registry (ids, cap, status, forgetting), the delivery
 * (compaction, key naming, upload queue, progress), the recovery (manifests of a previous run) and
 * the event log, the one stream every observer reads. Both the in-channel surface (enableRecord)
 * and the backend surface (CloudRecorder, SDK, HTTP) drive this one engine.
 */
export class RecordingEngine {
  /** Every recording's numbered events: the one fan-out (observers, SDK, webhooks, channels, the events API). */
  readonly eventLog: RecordingEventLog;
  readonly #options: RecordingEngineOptions;
  readonly #registry: RecordingRegistry;
  readonly #delivery: RecordingDelivery;
  readonly #policy: EndpointPolicy;
  /** Recordings this node recorded a segment of, owned by another node now: their segment. */
  readonly #relayed = new Map<string, number>();
  #relay: SegmentRelay | undefined;
  #closed = false;

  constructor(options: RecordingEngineOptions) {
    this.#options = options;
    this.eventLog = new RecordingEventLog(options.eventLog ?? {});
    this.eventLog.setMaxListeners(0);
    this.#policy = endpointPolicy(options.allowedStorageEndpoints ?? []);
    this.#registry = new RecordingRegistry({
      maxConcurrentRecordings: options.maxConcurrentRecordings,
      ...(options.recorderCapacity !== undefined ? { capacityUnits: options.recorderCapacity } : {}),
      retainFinishedMs: options.retainFinishedMs ?? DEFAULT_RETAIN_FINISHED_MS,
      archive: new RecordingArchive(this.eventLog),
      uploads: options.uploads,
    });
    this.eventLog.on('appended', (event) => {
      if (event.type === 'uploaded' || event.type === 'backuped' || event.type === 'uploaderFailure') this.#registry.uploadChanged(event.recordingId);
    });
    this.#delivery = new RecordingDelivery({ uploads: options.uploads, emit: (event) => this.#emit(event), entryOf: (id) => this.#registry.entry(id) });
  }

  get uploads(): UploadManager {
    return this.#options.uploads;
  }

  activeRecording(channelId: string): ChannelRecording | undefined {
    return this.#registry.activeRecording(channelId);
  }

  /** The live recording (undefined for unknown, forgotten and recovered ones). */
  get(recordingId: string): ChannelRecording | undefined {
    return this.#registry.entry(recordingId)?.recording;
  }

  activeCount(): number {
    return this.#registry.activeCount();
  }

  /** The ids of the recordings this node records now (from memory: cheap enough to ask often). */
  activeRecordingIds(): string[] {
    return this.#registry.entries().flatMap((entry) => (entry.recording?.active ? [entry.recordingId] : []));
  }

  /** This node's recorder capacity and what its running recordings cost now (undefined: no capacity set). */
  recorderLoad(): RecorderLoad | undefined {
    const capacity = this.#options.recorderCapacity;
    return capacity === undefined ? undefined : { capacity, used: this.#registry.usedUnits() };
  }

  /** The endpoint policy, for the boundaries that accept storage targets (record params, APIs). */
  assertTargetAllowed(target: StorageTarget): void {
    this.#policy(target);
  }

  /**
   * Starts a recording: refuses at once (throws) what cannot start, else answers the handle with
   * its id; the recorder process is spawned after the caller got it, so `connecting` and every later
   * event name a recording the caller already knows.
   */
  start(request: StartRecordingRequest): RecordingStart {
    if (this.#closed) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the recording engine is shutting down');
    const { channel, continuing } = request;
    if (channel.closed) throw new CodedError(RecordingErrorCode.InvalidOperation, `channel ${channel.channelId} is closed`);
    try {
      this.#registry.assertRoomFor(channel.channelId, recordingCostOf(request.config, channel));
    } catch (error) {
      // A channel created for this start alone (nobody joined, nothing retains it) is not left open.
      channel.release(REFUSED_START);
      throw error;
    }
    const recordingId = continuing?.recordingId ?? this.#registry.mintId();
    const keyStem = continuing ? segmentKeyStem(continuing.keyStem, continuing.segment) : objectKeyStem(request.fileName, channel.channelId, recordingId, Date.now());
    // Refused now rather than after the recording: the longest key its files can get must be valid.
    sanitizeFileName(`${keyStem}${LONGEST_FILE_SUFFIX}`, 'fileName (with the stamp and id the server adds)');
    // The caller is authorised by now: from here the target's secret is in use and masked in every
    // log line, until the files are in the upload queue (whose jobs hold it on) or the start failed.
    const secretHold = tryHoldSecret(request.target.secretKey);
    if (!secretHold) {
      throw new CodedError(RecordingErrorCode.InvalidOperation, `${MAX_HELD_SECRETS} distinct storage secrets are in use by recordings and uploads on this server; start again when some have finished`);
    }
    // A takeover numbers on from the cluster's last event, its history served here too.
    if (continuing) this.eventLog.continueAfter(recordingId, continuing.lastSeq, channel.channelId, continuing.history);
    const log = logger.child({ recordingId, channelId: channel.channelId });
    const workDir = path.join(this.#options.workDir, recordingId);
    fs.mkdirSync(workDir, { recursive: true });
    const recording = new ChannelRecording({
      recordingId,
      channel,
      config: structuredClone(request.config),
      workDir,
      fileBaseName: 'recording',
      recorderIp: channel.recorderIp ?? this.#options.recorderIp ?? '127.0.0.1',
      ...(this.#options.recorderOptions ? { recorderOptions: this.#options.recorderOptions } : {}),
    });
    channel.follow?.(recording);
    const manifest: RecordingManifest = {
      version: 1,
      recordingId,
      channelId: channel.channelId,
      keyStem,
      target: request.target,
      job: { outputDir: workDir, fileBaseName: 'recording', mode: request.config.recordingMode, streamTypes: request.config.recordingStreamTypes },
      startedAt: new Date(recording.startedAt).toISOString(),
      startedBy: request.startedBy,
      participants: [...(continuing?.participants ?? [])],
      ...(continuing ? { segment: continuing.segment, timelineStartedAt: continuing.timelineStartedAt } : {}),
    };
    const entry = newRecordingEntry({
      recordingId,
      channelId: channel.channelId,
      mode: request.config.recordingMode,
      recording,
      manifest,
      startedBy: request.startedBy,
      participants: manifest.participants ?? [],
    });
    this.#registry.add(entry);
    writeManifest(manifest);
    const channelId = channel.channelId;
    // A later segment carries on a recording that started already: its start is told as the takeover (#run).
    if (!continuing) recording.on('started', () => this.#emit({ type: 'started', recordingId, channelId }));
    recording.on('participantRecorded', (uid) => {
      if (entry.participants.has(uid)) return;
      entry.participants.add(uid);
      this.#updateManifest(entry);
    });
    recording.on('recorderFailure', (code, message) => this.#emit({ type: 'recorderFailure', recordingId, code, message }));
    recording.on('stopped', (files, reason) => {
      this.#emit({ type: 'stopped', recordingId, channelId, message: reason });
      this.#handOff(entry, files, { compact: true }, () => secretHold.release());
    });
    recording.on('fatalError', (code, message, files) => {
      log.error(`fatal ${code}: ${message}`);
      this.#emit({ type: 'fatalError', recordingId, channelId, code, message });
      // What the recorder wrote before it died is still a recording: keep and upload it.
      this.#handOff(entry, files, { compact: false }, () => secretHold.release());
    });
    const started = this.#run(log, entry, recording, request, () => secretHold.release());
    return { recordingId, recording, started };
  }

  async #run(log: Logger, entry: RecordingEntry, recording: ChannelRecording, request: StartRecordingRequest, releaseSecret: () => void): Promise<ChannelRecording> {
    // The caller holds the handle before the first event is appended.
    await Promise.resolve();
    const { recordingId, channelId } = entry;
    const { continuing } = request;
    if (!continuing) this.#emit({ type: 'connecting', recordingId, channelId });
    log.info(`start() | ${request.config.recordingMode}, ${request.config.recordingStreamTypes}`, { startedBy: request.startedBy });
    try {
      await recording.start();
    } catch (error) {
      removeManifest(entry.manifest.job.outputDir);
      releaseSecret();
      // Observers heard Connecting: the recording must end in a final callback, not silence. The
      // entry stays (phase failed) so the API shows what became of it.
      const code = error instanceof CodedError ? (error.code as RecordingErrorCode) : RecordingErrorCode.RecorderInitFailed;
      log.error(`start() | failed to start (${code}): ${(error as Error).message}`);
      this.#emit({ type: 'fatalError', recordingId, channelId, code, message: (error as Error).message });
      this.#registry.finished(entry);
      throw error;
    }
    // The recorder's clock is the recording's: offsets in its files count from it.
    this.#updateManifest(entry);
    if (continuing) {
      const gapMs = Math.max(0, Math.round(recording.startedAt - continuing.lastSeenAt));
      this.#emit({
        type: 'recorderFailure',
        recordingId,
        channelId,
        code: RecordingErrorCode.RecorderFailed,
        message: `recorder node ${continuing.fromNodeId} stopped answering; the recording goes on as segment ${continuing.segment} on this node, at most ${gapMs} ms of media missing (segment ${continuing.segment - 1} is recovered when ${continuing.fromNodeId} is back)`,
        segment: continuing.segment,
        gapMs,
      });
    }
    return recording;
  }

  /**
   * A recording this node claimed but cannot carry on (refused before its recorder was spawned):
   * it ends here, numbered on from the cluster's last event.
   */
  failContinuation(spec: RecordingSpec, continuing: ContinuedRecording, code: RecordingErrorCode, message: string): void {
    const { recordingId, channelId } = spec;
    this.eventLog.continueAfter(recordingId, continuing.lastSeq, channelId, continuing.history);
    const manifest: RecordingManifest = {
      version: 1,
      recordingId,
      channelId,
      keyStem: segmentKeyStem(spec.keyStem, continuing.segment),
      target: spec.target,
      job: { outputDir: path.join(this.#options.workDir, recordingId), fileBaseName: 'recording', mode: spec.config.recordingMode, streamTypes: spec.config.recordingStreamTypes },
      startedAt: continuing.timelineStartedAt,
      startedBy: spec.startedBy,
      participants: [...spec.participants],
      segment: continuing.segment,
      timelineStartedAt: continuing.timelineStartedAt,
    };
    const entry = newRecordingEntry({ recordingId, channelId, mode: spec.config.recordingMode, recoveredPhase: 'failed', manifest, startedBy: spec.startedBy, participants: spec.participants });
    this.#registry.add(entry);
    logger.error(`takeover failed (${code}): ${message}`, { recordingId, channelId });
    this.#emit({ type: 'fatalError', recordingId, channelId, code, message });
    this.#registry.finished(entry);
  }

  /** The takeover spec of a running recording of this node (what another recorder needs to carry it on). */
  takeoverSpec(recordingId: string): RecordingSpec | undefined {
    const entry = this.#registry.entry(recordingId);
    const recording = entry?.recording;
    if (!entry || !recording?.active) return undefined;
    const { manifest } = entry;
    const segment = manifest.segment ?? 0;
    return {
      version: 1,
      recordingId,
      channelId: entry.channelId,
      config: recording.config,
      target: manifest.target,
      keyStem: segment === 0 ? manifest.keyStem : manifest.keyStem.slice(0, -`_seg${segment}`.length),
      startedBy: entry.startedBy,
      participants: [...entry.participants],
    };
  }

  /** The segment this node records of the recording (0 unless it took the recording over). */
  segmentOf(recordingId: string): number {
    return this.#relayed.get(recordingId) ?? this.#registry.entry(recordingId)?.manifest.segment ?? 0;
  }

  /** Where the events of segments whose recording moved on go (cluster mode). */
  setSegmentRelay(relay: SegmentRelay): void {
    this.#relay = relay;
  }

  /**
   * Another node took over a recording this node was recording (this node was cut off and declared
   * dead): its recorder stops, its files are delivered as its segment, and what becomes of them goes
   * to the owner; the recording is the owner's to tell of from now on.
   */
  async supersede(recordingId: string): Promise<void> {
    const entry = this.#registry.entry(recordingId);
    if (!entry || this.#relayed.has(recordingId)) return;
    this.#relayed.set(recordingId, entry.manifest.segment ?? 0);
    logger.warn('supersede() | another recorder node carries the recording on: this segment ends here', { recordingId });
    if (entry.recording?.active) await entry.recording.stop('taken over by another recorder node');
    await entry.handedOff;
    this.#registry.remove(recordingId);
    this.eventLog.forget(recordingId);
  }

  /**
   * An event of a segment another node recorded of one of this node's recordings (SegmentRelay):
   * numbered here like this node's own.
   */
  takeRelayedEvent(event: RecordingEventBody): void {
    if (!RELAYED_EVENT_TYPES.has(event.type) || !this.eventLog.has(event.recordingId)) return;
    this.#emit(event);
  }

  /** The files of a segment another node recorded of one of this node's recordings: listed with the recording's. */
  takeSegmentFiles(recordingId: string, segment: number, files: SegmentFile[]): boolean {
    return this.#registry.addSegmentFiles(recordingId, segment, files);
  }

  /**
   * Resolves once the recording's recorder has written its first bytes to disk: the composite file,
   * or (per participant) the first stream file; at once for a per-participant recording nobody
   * publishes to, and after `timeoutMs` at most. Streams being wired at the call are wired first, so
   * the answer's participants list them. True when bytes were seen.
   */
  async firstWrite(recordingId: string, timeoutMs = FIRST_WRITE_TIMEOUT_MS): Promise<boolean> {
    const entry = this.#registry.entry(recordingId);
    const recording = entry?.recording;
    if (!entry || !recording) return false;
    const deadline = Date.now() + timeoutMs;
    await Promise.race([recording.inputsWired(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    if (entry.mode === 'individual' && entry.participants.size === 0) return false;
    for (;;) {
      if (recordedFilesOnDisk(entry.manifest.job).some((file) => file.kind !== 'metadata')) return true;
      if (!recording.active || Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Stops and finalizes; the files then go to the upload queue (see handedOff()). */
  async stop(recordingId: string, reason = 'stopped'): Promise<RecordedFile[]> {
    const recording = this.get(recordingId);
    if (!this.#registry.known(recordingId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId}`);
    if (!recording?.active) throw new CodedError(RecordingErrorCode.InvalidOperation, `recording ${recordingId} is not running`);
    return recording.stop(reason);
  }

  /**
   * Resolves once a stopped or failed recording's files are in the upload queue (compacted, keyed,
   * enqueued): status() then lists every file and its upload. At once for one still running.
   */
  async handedOff(recordingId: string): Promise<void> {
    await this.#registry.entry(recordingId)?.handedOff;
  }

  /**
   * Release(false) of the seed, 停止录制与上传: stops the recording if it runs and stops uploading
   * its files — those not yet stored stay in the backup dir (listed, never deleted) until
   * resumeUploads(). Files the stop hands over later are queued held too.
   */
  async release(recordingId: string, reason = 'released by backend'): Promise<void> {
    // A recording of a previous run (or forgotten) is known to the upload queue only: its uploads are held all the same.
    const entry = this.#registry.entry(recordingId);
    if (entry) entry.uploadsHeld = true;
    if (entry?.recording?.active) await entry.recording.stop(reason);
    await this.#options.uploads.hold(recordingId);
    logger.info('release() | released: recording and uploading stopped', { recordingId });
  }

  /** Uploads again what release() held (also for recordings of a previous run, known only to the queue). */
  async resumeUploads(recordingId: string): Promise<UploadJobStatus[]> {
    const entry = this.#registry.entry(recordingId);
    if (entry) entry.uploadsHeld = false;
    return this.#options.uploads.resume(recordingId);
  }

  status(recordingId: string): RecordingStatus | undefined {
    return this.#registry.status(recordingId);
  }

  /** Whether this server knows the recording (live, finished, archived); cheaper than status(). */
  known(recordingId: string): boolean {
    return this.#registry.known(recordingId);
  }

  list(): RecordingStatus[] {
    return this.#registry.list();
  }

  /** The recordings in memory: running ones, and finished ones within their retention (metrics). */
  held(): RecordingStatus[] {
    return this.#registry.held();
  }

  /**
   * See recoverInterruptedRecordings (RecordingRecovery.ts). `takenOver`: whether another node carries
   * the recording on (cluster mode); such a segment is delivered for its owner, not ended here.
   */
  recoverInterrupted(takenOver?: (manifest: RecordingManifest) => Promise<boolean>): Promise<number> {
    return recoverInterruptedRecordings({
      workDir: this.#options.workDir,
      registry: this.#registry,
      delivery: this.#delivery,
      log: this.eventLog,
      emit: (event) => this.#emit(event),
      ...(takenOver
        ? {
            takenOver: async (manifest) => {
              if (!(await takenOver(manifest))) return false;
              this.#relayed.set(manifest.recordingId, manifest.segment ?? 0);
              this.eventLog.forget(manifest.recordingId);
              return true;
            },
            delivered: (entry, files) => {
              this.#relaySegmentFiles(entry, files);
              this.#registry.remove(entry.recordingId);
            },
          }
        : {}),
    });
  }

  /** Stops every running recording (their files are finalized and queued for upload). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#registry.entries().flatMap(({ recording }) => (recording?.active ? [recording.stop('server shutting down')] : [])));
    // Shutting down with a file still being compacted would leave it to the next start's recovery.
    await this.#delivery.idle();
    this.#registry.close();
  }

  /**
   * The one place events are emitted: appended once to the log, which fans them out; those of a
   * segment whose recording another node owns now go to that owner.
   */
  #emit(event: RecordingEventBody): void {
    const segment = this.#relayed.get(event.recordingId);
    if (segment === undefined) this.eventLog.append(event);
    else if (RELAYED_EVENT_TYPES.has(event.type)) this.#relay?.events(event.recordingId, segment, event);
  }

  #handOff(entry: RecordingEntry, files: RecordedFile[], options: { compact: boolean }, releaseSecret: () => void): void {
    entry.handedOff = this.#delivery
      .deliver(entry, files, options)
      .then(() => this.#relaySegmentFiles(entry, files))
      .finally(releaseSecret);
    void entry.handedOff.then(() => this.#registry.finished(entry));
  }

  /** A segment of a recording another node owns now: its owner lists its files (on the recording's timeline). */
  #relaySegmentFiles(entry: RecordingEntry, files: RecordedFile[]): void {
    const segment = this.#relayed.get(entry.recordingId);
    if (segment === undefined) return;
    this.#relay?.files(entry.recordingId, segment, segmentFilesOf(entry.manifest, files));
  }

  /** The manifest follows what a recovery would need: the recorder's start time, who was recorded. */
  #updateManifest(entry: RecordingEntry): void {
    if (!entry.recording?.active || entry.handedOff) return;
    entry.manifest.startedAt = new Date(entry.recording.startedAt).toISOString();
    entry.manifest.participants = [...entry.participants];
    try {
      writeManifest(entry.manifest);
    } catch (error) {
      logger.warn(`manifest not updated: ${String(error)}`, { recordingId: entry.recordingId });
    }
  }
}

/** A segment's files with their offsets on the recording's timeline (from segment 0's start). */
export function segmentFilesOf(manifest: RecordingManifest, files: readonly RecordedFile[]): SegmentFile[] {
  const shift = manifest.timelineStartedAt ? Date.parse(manifest.startedAt) - Date.parse(manifest.timelineStartedAt) : 0;
  return objectKeysOf(manifest.keyStem, files).map(({ objectKey, file }) => ({
    objectKey,
    kind: file.kind,
    ...(file.uid ? { uid: file.uid } : {}),
    startOffsetMs: Math.max(0, Math.round(file.startOffsetMs + shift)),
    ...(file.durationMs !== undefined ? { durationMs: file.durationMs } : {}),
  }));
}
