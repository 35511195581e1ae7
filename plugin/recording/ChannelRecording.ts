import { Logger } from '../../server/logger';
import { TypedEmitter } from '../../server/TypedEmitter';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { ChannelMedia, MediaFollower, MediaInput, ProducerInfo } from './media/ChannelMedia';
import type { MixedVideoLayout } from './layout';
import { planVideoInputs, type InputPlan } from './layerPlan';
import type { PreferredLayers } from './media/videoLayers';
import type { ResolvedRecordingConfig } from './recordingConfig';
import { RecorderProcess, RecorderProcessOptions } from './recorder/RecorderProcess';
import type { RecordedFile, StreamTypes } from './recorder/protocol';

const logger = new Logger('ChannelRecording');

/** Forward-only lifecycle of one recording. */
export type RecordingPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export type ChannelRecordingEvents = {
  /** The recorder writes the file: the channel is Running. */
  started: [];
  /** Non-fatal trouble (one input failed); the recording goes on. */
  recorderFailure: [code: RecordingErrorCode, message: string];
  /** The recorder process died or failed for good; what was written is in `files`. */
  fatalError: [code: RecordingErrorCode, message: string, files: RecordedFile[]];
  /** Stopped normally (asked, idle, channel closed); files finalized. */
  stopped: [files: RecordedFile[], reason: string];
  /** A participant's stream now goes to the recorder (once per stream). */
  participantRecorded: [uid: string];
};

export interface ChannelRecordingOptions {
  recordingId: string;
  /** The channel's media, on this node or another. */
  channel: ChannelMedia;
  config: ResolvedRecordingConfig;
  /** Absolute directory for the recorder's working files. */
  workDir: string;
  /** [A-Za-z0-9_-]+ */
  fileBaseName: string;
  /** IP the recorder binds and mediasoup sends to. */
  recorderIp: string;
  recorderOptions?: RecorderProcessOptions;
}

interface Input {
  inputId: string;
  producerId: string;
  uid: string;
  media: MediaInput;
  keyFrameTimer?: NodeJS.Timeout;
  /** Date.now() of the last resume (start-latency diagnostics: how long its first frame took). */
  resumedAt?: number;
  /** Connected to the recorder: from now on its plan is applied (before, #wire applies it). */
  connected: boolean;
  /** The consumer sends (resumed); false while opened paused or while its tile is not drawn. */
  flowing: boolean;
  /** The layers last asked for. */
  layers?: PreferredLayers;
  /** Plan changes applied one after another, so a late answer cannot undo a newer one. */
  applying: Promise<void>;
}

/** Key-frame requests after an input is wired, until the recorder reports its first frame. */
const KEY_FRAME_RETRY_MS = [0, 250, 750, 1500, 3000, 5000];

/**
 * One recording of one channel: consumes the channel's producers through PlainTransports into a
 * recorder process (one process per recording), following producers as they come, pause and go.
 */
export class ChannelRecording extends TypedEmitter<ChannelRecordingEvents> implements MediaFollower {
  readonly recordingId: string;
  readonly channel: ChannelMedia;
  readonly config: ResolvedRecordingConfig;
  #startedAt = Date.now();
  readonly #options: ChannelRecordingOptions;
  readonly #inputs = new Map<string, Input>();
  readonly #wiring = new Set<Promise<void>>();
  #recorder: RecorderProcess | undefined;
  /** The recorder being spawned: a stop() in the meantime must wait for it, or the process leaks. */
  #spawning: Promise<RecorderProcess> | undefined;
  #phase: RecordingPhase = 'starting';
  #idleTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<RecordedFile[]> | undefined;
  #inputCounter = 0;
  /** The layout the recorder draws (what it was last told), which the inputs' layers follow. */
  #layout: MixedVideoLayout;
  #maxResolutionUid: string | undefined;

  constructor(options: ChannelRecordingOptions) {
    super();
    this.recordingId = options.recordingId;
    this.channel = options.channel;
    this.config = options.config;
    this.#options = options;
    this.#layout = options.config.transcodingConfig.layout;
    this.#maxResolutionUid = options.config.transcodingConfig.maxResolutionUid;
  }

  /** The recorder child's pid (diagnostics, tests). */
  get recorderPid(): number | undefined {
    return this.#recorder?.pid;
  }

  /**
   * When the recorder started its file (the instant its files' offsets count from); until it runs,
   * when this recording was created.
   */
  get startedAt(): number {
    const recorderStart = this.#recorder?.startedAt;
    if (recorderStart) this.#startedAt = recorderStart;
    return this.#startedAt;
  }

  /** Resolves once every stream being wired into the recorder is wired (or failed to be). */
  async inputsWired(): Promise<void> {
    while (this.#wiring.size > 0) await Promise.allSettled([...this.#wiring]);
  }

  get phase(): RecordingPhase {
    return this.#phase;
  }

  get active(): boolean {
    return this.#phase === 'starting' || this.#phase === 'running';
  }

  /** uids whose streams are being recorded. */
  participants(): string[] {
    return [...new Set(this.channel.producers().filter((producer) => this.#inputs.has(producer.producerId)).map((producer) => producer.uid))];
  }

  /**
   * Spawns the recorder and wires every current producer. Rejects with RecorderInitFailed. A stop()
   * while the recorder is still spawning waits for the spawn and then stops it: start() then
   * resolves without 'started' (the phase tells), and no recorder process is left behind.
   */
  async start(): Promise<void> {
    if (this.#phase !== 'starting') return;
    this.channel.retain(this.recordingId);
    this.#spawning = this.#spawn();
    try {
      this.#recorder = await this.#spawning;
    } catch (error) {
      this.#phase = 'failed';
      this.channel.release(this.recordingId);
      throw error instanceof CodedError ? error : new CodedError(RecordingErrorCode.RecorderInitFailed, String(error));
    } finally {
      this.#spawning = undefined;
    }
    const recorder = this.#recorder;
    recorder.on('firstFrame', (inputId) => this.#onFirstFrame(inputId));
    recorder.on('failure', (error, fatal) => {
      if (fatal) void this.#fail(error.code as RecordingErrorCode, error.message);
      else this.safeEmit('recorderFailure', error.code as RecordingErrorCode, error.message);
    });
    recorder.on('died', (code, info) => void this.#fail(code, `recorder process died (exit ${info.exitCode ?? info.signal})`));
    if (this.#phase !== 'starting') return;
    this.#phase = 'running';
    this.safeEmit('started');
    for (const producer of this.channel.producers()) this.addProducer(producer);
    this.updateIdle(this.channel.peerCount());
  }

  #spawn(): Promise<RecorderProcess> {
    const { config } = this;
    return RecorderProcess.spawn(
      {
        recordingId: this.recordingId,
        mode: config.recordingMode,
        outputDir: this.#options.workDir,
        fileBaseName: this.#options.fileBaseName,
        streamTypes: config.recordingStreamTypes,
        canvas: {
          width: config.transcodingConfig.width,
          height: config.transcodingConfig.height,
          fps: config.transcodingConfig.fps,
          bitrateKbps: config.transcodingConfig.bitrate,
        },
        layout: config.transcodingConfig.layout,
        ...(config.transcodingConfig.maxResolutionUid ? { maxResolutionUid: config.transcodingConfig.maxResolutionUid } : {}),
        audioProfile: config.audioProfile,
        bindIp: this.#options.recorderIp,
      },
      this.#options.recorderOptions,
    );
  }

  addProducer(producer: ProducerInfo): void {
    if (!this.active || !this.#recorder || !this.#wants(producer.kind)) return;
    if ([...this.#inputs.values()].some((input) => input.producerId === producer.producerId)) return;
    const wiring = this.#wire(producer)
      .catch((error) => {
        if (this.active) this.safeEmit('recorderFailure', RecordingErrorCode.RecorderFailed, `cannot record producer of ${producer.uid}: ${(error as Error).message}`);
      })
      .finally(() => this.#wiring.delete(wiring));
    this.#wiring.add(wiring);
  }

  removeProducer(producerId: string): void {
    const input = this.#inputs.get(producerId);
    if (!input) return;
    this.#inputs.delete(producerId);
    this.#stopKeyFrames(input.inputId);
    input.media.close();
    if (input.media.kind === 'video') this.#replan();
    if (this.active) void this.#recorder?.removeInput(input.inputId).catch((error) => logger.warn(`removeInput failed: ${String(error)}`, { recordingId: this.recordingId }));
  }

  setProducerPaused(producerId: string, paused: boolean): void {
    const input = this.#inputs.get(producerId);
    if (!input || !this.active) return;
    void this.#recorder?.setInputPaused(input.inputId, paused).catch((error) => logger.warn(`setInputPaused failed: ${String(error)}`, { recordingId: this.recordingId }));
    if (!paused && input.media.kind === 'video' && input.flowing) this.#requestKeyFrames(input);
  }

  async setLayout(layout: MixedVideoLayout, maxResolutionUid?: string): Promise<void> {
    if (!this.active || !this.#recorder) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the recording is not running');
    if (this.config.recordingMode !== 'composite') throw new CodedError(RecordingErrorCode.InvalidOperation, 'layouts apply to composite recordings only');
    await this.#recorder.setLayout(layout, maxResolutionUid);
    this.config.transcodingConfig.layout = layout;
    if (maxResolutionUid) this.config.transcodingConfig.maxResolutionUid = maxResolutionUid;
    this.#layout = layout;
    this.#maxResolutionUid = maxResolutionUid;
    this.#replan();
  }

  /**
   * The size of the frames the recorder decodes of each video input now, by producerId (a composite
   * decodes; a per-participant recording does not, and has no entry). For diagnostics and tests.
   */
  async decodedSizes(): Promise<Map<string, { width: number; height: number }>> {
    const sizes = new Map<string, { width: number; height: number }>();
    for (const input of [...this.#inputs.values()]) {
      if (input.media.kind !== 'video' || !this.#recorder) continue;
      const size = await this.#recorder.decodedSize(input.inputId).catch(() => undefined);
      if (size) sizes.set(input.producerId, size);
    }
    return sizes;
  }

  /**
   * Counts users in the channel: with nobody for maxIdleTime seconds the recording stops itself.
   * The seed's codes tell why: NoUsers (onRecorderFailure) when the channel is empty — at start or
   * when the last user leaves — and RecorderExpireExit (onRecorderFailure, then onRecordingStopped)
   * when maxIdleTime ran out and the recorder exits.
   */
  updateIdle(peerCount: number): void {
    if (!this.active) return;
    if (peerCount > 0) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    } else if (!this.#idleTimer) {
      const seconds = this.config.maxIdleTime;
      this.safeEmit('recorderFailure', RecordingErrorCode.NoUsers, `no users in the channel: the recording stops in ${seconds} s unless someone joins`);
      this.#idleTimer = setTimeout(() => {
        logger.info(`nobody in the channel for ${seconds} s: stopping`, { recordingId: this.recordingId });
        this.safeEmit('recorderFailure', RecordingErrorCode.RecorderExpireExit, `nobody in the channel for maxIdleTime (${seconds} s): the recording stopped itself`);
        void this.stop('maxIdleTime');
      }, seconds * 1000);
    }
  }

  /** Stops and finalizes; never hangs (the recorder kills its child after its deadline). */
  stop(reason = 'stopped'): Promise<RecordedFile[]> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<RecordedFile[]> {
    if (this.#phase === 'failed' || this.#phase === 'stopped') return [];
    this.#phase = 'stopping';
    this.#teardownMedia();
    let files: RecordedFile[] = [];
    try {
      const spawning = this.#spawning;
      const spawned = spawning ? await spawning.catch(() => undefined) : this.#recorder;
      // A spawn that failed is start()'s to report (RecorderInitFailed); it also released the channel.
      if (spawning && !spawned) return [];
      files = (await spawned?.stop()) ?? [];
    } finally {
      this.#recorder?.close();
      this.channel.release(this.recordingId);
    }
    this.#phase = 'stopped';
    this.safeEmit('stopped', files, reason);
    return files;
  }

  async #fail(code: RecordingErrorCode, message: string): Promise<void> {
    if (!this.active) return;
    this.#phase = 'failed';
    this.#teardownMedia();
    let files: RecordedFile[] = [];
    try {
      // A failed recorder keeps what it wrote: collect the files (kills the child if still alive).
      files = (await this.#recorder?.stop()) ?? [];
    } catch (error) {
      logger.warn(`collecting files of a failed recorder: ${String(error)}`, { recordingId: this.recordingId });
    }
    this.#recorder?.close();
    this.channel.release(this.recordingId);
    this.safeEmit('fatalError', code, message, files);
  }

  #teardownMedia(): void {
    clearTimeout(this.#idleTimer);
    for (const input of this.#inputs.values()) {
      this.#stopKeyFrames(input.inputId);
      input.media.close();
    }
    this.#inputs.clear();
  }

  #wants(kind: 'audio' | 'video'): boolean {
    const types: StreamTypes = this.config.recordingStreamTypes;
    return types === 'AudioVideo' || (types === 'AudioOnly' ? kind === 'audio' : kind === 'video');
  }

  async #wire(producer: ProducerInfo): Promise<void> {
    const { producerId } = producer;
    const media = await this.channel.openInput(producerId, {
      recorderIp: this.#options.recorderIp,
      preferredSpatialLayer: this.config.videoStreamType === 'High' ? 10 : 0,
      onClose: () => this.removeProducer(producerId),
    });
    if (!this.active) {
      media.close();
      return;
    }
    const inputId = `in${++this.#inputCounter}`;
    const input: Input = { inputId, producerId, uid: producer.uid, media, connected: false, flowing: false, applying: Promise.resolve() };
    this.#inputs.set(producerId, input);
    // A new tile reshapes the others (BestFit), or takes one beyond what the layout draws.
    if (media.kind === 'video') this.#replan();
    const ports = await this.#recorder!.addInput({ inputId, uid: producer.uid, ...media.description });
    if (!this.#inputs.has(producerId)) return;
    await media.connect({ ip: this.#options.recorderIp, ...ports });
    if (producer.paused) await this.#recorder!.setInputPaused(inputId, true);
    input.connected = true;
    // Layers before the first resume: the first key frame asked for is then of the layer kept.
    await this.#apply(input);
    if (this.#inputs.has(producerId)) this.safeEmit('participantRecorded', producer.uid);
  }

  /** Every connected input follows the plan of now (membership or layout changed). */
  #replan(): void {
    for (const input of this.#inputs.values()) {
      if (!input.connected) continue;
      this.#apply(input).catch((error) => logger.warn(`re-picking the layers of ${input.inputId} failed: ${String(error)}`, { recordingId: this.recordingId }));
    }
  }

  /** Applies the current plan to one input, after any change still being applied to it. */
  #apply(input: Input): Promise<void> {
    const run = input.applying.then(() => this.#applyNow(input));
    input.applying = run.catch(() => undefined);
    return run;
  }

  async #applyNow(input: Input): Promise<void> {
    if (this.#inputs.get(input.producerId) !== input || !this.active) return;
    const plan: InputPlan = input.media.kind === 'video' ? (this.#plan().get(input.producerId) ?? { shown: true }) : { shown: true };
    const { layers } = plan;
    if (layers && (layers.spatialLayer !== input.layers?.spatialLayer || layers.temporalLayer !== input.layers?.temporalLayer)) {
      await input.media.setPreferredLayers(layers);
      input.layers = layers;
      logger.debug(`#apply() | ${input.inputId} gets layers S${layers.spatialLayer}T${layers.temporalLayer}`, { recordingId: this.recordingId });
    }
    if (plan.shown === input.flowing) return;
    input.flowing = plan.shown;
    if (plan.shown) {
      await input.media.resume();
      input.resumedAt = Date.now();
      if (input.media.kind === 'video') this.#requestKeyFrames(input);
    } else {
      this.#stopKeyFrames(input.inputId);
      await input.media.pause();
    }
  }

  #plan(): Map<string, InputPlan> {
    const { config } = this;
    const video = [...this.#inputs.values()].filter((input) => input.media.kind === 'video');
    return planVideoInputs(
      {
        mode: config.recordingMode,
        canvas: { width: config.transcodingConfig.width, height: config.transcodingConfig.height, fps: config.transcodingConfig.fps },
        layout: this.#layout,
        ...(this.#maxResolutionUid !== undefined ? { maxResolutionUid: this.#maxResolutionUid } : {}),
        videoStreamType: config.videoStreamType,
      },
      video.map((input) => ({ producerId: input.producerId, uid: input.uid, ...(input.media.layers ? { layers: input.media.layers } : {}) })),
    );
  }

  #requestKeyFrames(input: Input): void {
    clearTimeout(input.keyFrameTimer);
    let attempt = 0;
    const next = (): void => {
      if (!this.#inputs.has(input.producerId) || attempt >= KEY_FRAME_RETRY_MS.length) return;
      const delay = KEY_FRAME_RETRY_MS[attempt]! - (KEY_FRAME_RETRY_MS[attempt - 1] ?? 0);
      attempt++;
      input.keyFrameTimer = setTimeout(() => {
        input.media.requestKeyFrame().catch(() => undefined);
        next();
      }, delay);
    };
    next();
  }

  #onFirstFrame(inputId: string): void {
    this.#stopKeyFrames(inputId);
    const input = [...this.#inputs.values()].find((candidate) => candidate.inputId === inputId);
    // A key frame lost or a request unanswered shows as a first frame a second or more after the resume.
    if (input?.resumedAt !== undefined) {
      logger.debug(`firstFrame | ${inputId} (${input.media.kind} of ${input.uid}) ${Date.now() - input.resumedAt} ms after its consumer resumed`, { recordingId: this.recordingId });
    }
  }

  #stopKeyFrames(inputId: string): void {
    for (const input of this.#inputs.values()) {
      if (input.inputId === inputId) {
        clearTimeout(input.keyFrameTimer);
        input.keyFrameTimer = undefined;
      }
    }
  }
}
