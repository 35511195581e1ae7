/**
 * Composite mode: every input decoded into an inter sink; a video mixer rebuilt whenever membership,
 * pause state or layout changes; one output pipeline that encodes and writes the single file from start
 * to stop and mixes the audio itself from fixed slots (one inter hop for A/V sync; inputs beyond the
 * slots go through an overflow audio mixer). See launch.ts for the graph and why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { computeLayout, MixedVideoLayout } from '../layout';
import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import { GstPipeline } from './GstPipeline';
import { InputPipeline } from './InputPipeline';
import { reserveUdpPort } from './udpPort';
import {
  AUDIO_SLOTS,
  audioMixerLaunch,
  audioSlotChannel,
  compositeExtension,
  compositeInputLaunch,
  outputLaunch,
  videoMixerLaunch,
  VideoTileSource,
} from './launch';
import { InputPorts, RecordedFile, RecorderInput, RecorderJob } from './protocol';
import { Recording, RecordingEvents } from './Recording';

const logger = new Logger('CompositeRecording');

interface CompositeInput {
  pipeline: InputPipeline;
  paused: boolean;
  /** Audio: the output's slot this input feeds; undefined = through the overflow mixer. */
  audioSlot?: number;
}

export class CompositeRecording extends TypedEmitter<RecordingEvents> implements Recording {
  readonly #job: RecorderJob;
  readonly #bindIp: string;
  readonly #location: string;
  readonly #inputs = new Map<string, CompositeInput>();
  #layout: MixedVideoLayout;
  #maxResolutionUid?: string;
  #output?: GstPipeline;
  #videoMixer?: GstPipeline;
  #audioMixer?: GstPipeline;
  #rebuildVideo = false;
  #rebuildAudio = false;
  #rebuildScheduled = false;
  #startedAt = 0;
  #stopping = false;
  #closed = false;

  constructor(job: RecorderJob, bindIp: string) {
    super();
    this.#job = job;
    this.#bindIp = bindIp;
    this.#layout = job.layout;
    this.#maxResolutionUid = job.maxResolutionUid;
    this.#location = path.join(job.outputDir, `${job.fileBaseName}.${compositeExtension(job)}`);
  }

  get startedAt(): number {
    return this.#startedAt;
  }

  get #wantsVideo(): boolean {
    return this.#job.streamTypes !== 'AudioOnly';
  }

  get #wantsAudio(): boolean {
    return this.#job.streamTypes !== 'VideoOnly';
  }

  start(): void {
    fs.mkdirSync(this.#job.outputDir, { recursive: true });
    this.#output = new GstPipeline('output', outputLaunch(this.#job, this.#location));
    this.#output.on('error', (message) => this.safeEmit('error', `output: ${message}`, true));
    // Mixer first, so the output's very first frames are the canvas rather than inter "no signal".
    // Audio needs no mixer until more than AUDIO_SLOTS audio inputs exist.
    if (this.#wantsVideo) this.#buildVideoMixer();
    this.#output.start();
    this.#startedAt = Date.now();
  }

  async addInput(input: RecorderInput): Promise<InputPorts> {
    // Checked again after the await: the recording may have stopped or the id been taken meanwhile.
    const check = (): void => {
      this.#assertRunning();
      if (this.#inputs.has(input.inputId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `input ${input.inputId} exists`);
    };
    check();
    if ((input.kind === 'video' && !this.#wantsVideo) || (input.kind === 'audio' && !this.#wantsAudio)) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `streamTypes ${this.#job.streamTypes} records no ${input.kind}`);
    }
    const rtcpPort = input.rtcp ? await reserveUdpPort(this.#bindIp) : undefined;
    check();
    const audioSlot = input.kind === 'audio' ? this.#freeAudioSlot() : undefined;
    const audioChannel = audioSlot === undefined ? undefined : audioSlotChannel(this.#job, audioSlot);
    const pipeline = new InputPipeline(input, compositeInputLaunch(this.#job, input, this.#bindIp, rtcpPort, audioChannel), 'out');
    const ports: InputPorts = { ...pipeline.start(), ...(rtcpPort ? { rtcpPort } : {}) };
    pipeline.on('firstFrame', () => this.safeEmit('firstFrame', input.inputId));
    // A broken input must not end the recording: its tile goes black, the rest carries on.
    pipeline.on('error', (message) => this.safeEmit('error', `input ${input.inputId}: ${message}`, false, input.inputId));
    this.#inputs.set(input.inputId, { pipeline, paused: false, audioSlot });
    // A slotted audio input is mixed by the output as soon as it sends: nothing to rebuild.
    if (input.kind === 'video' || audioSlot === undefined) this.#scheduleRebuild(input.kind);
    logger.debug(`addInput() | ${input.inputId} ${input.codec.mimeType} on port ${ports.rtpPort}`);
    return ports;
  }

  removeInput(inputId: string): void {
    this.#assertRunning();
    const entry = this.#requireInput(inputId);
    this.#inputs.delete(inputId);
    // Synchronous (state NULL): the slot's interaudiosink is stopped and its channel emptied before
    // another input can take the slot.
    entry.pipeline.close();
    if (entry.pipeline.input.kind === 'video' || entry.audioSlot === undefined) this.#scheduleRebuild(entry.pipeline.input.kind);
  }

  setInputPaused(inputId: string, paused: boolean): void {
    this.#assertRunning();
    const entry = this.#requireInput(inputId);
    if (entry.paused === paused) return;
    entry.paused = paused;
    if (entry.pipeline.input.kind === 'audio') {
      // Element properties can be set while playing (shared/notes/gstreamer.md).
      const volume = entry.pipeline.pipeline.element('vol');
      if (volume) volume.mute = paused;
      return;
    }
    this.#scheduleRebuild('video');
  }

  setLayout(layout: MixedVideoLayout, maxResolutionUid?: string): void {
    this.#assertRunning();
    this.#layout = layout;
    this.#maxResolutionUid = maxResolutionUid;
    if (this.#wantsVideo) this.#scheduleRebuild('video');
  }

  decodedSize(inputId: string): { width: number; height: number } | undefined {
    const entry = this.#requireInput(inputId);
    if (entry.pipeline.input.kind !== 'video') return undefined;
    // basesink keeps its last buffer (enable-last-sample); the binding hands it over with its caps.
    // A frame's copy, once per call: for diagnostics and tests, not a per-frame path.
    const sample = entry.pipeline.pipeline.element('out')?.['last-sample'] as { caps?: { width?: unknown; height?: unknown } } | null | undefined;
    const { width, height } = sample?.caps ?? {};
    return typeof width === 'number' && typeof height === 'number' ? { width, height } : undefined;
  }

  async stop(deadlineMs: number): Promise<RecordedFile[]> {
    if (this.#closed || this.#stopping || !this.#output) return [];
    this.#stopping = true;
    const durationS = this.#output.position();
    // The output's sources are inter* elements that always produce, so its EOS does not wait for the
    // network; inputs and mixers are simply set to NULL afterwards (no EOS on an idle udpsrc).
    const finalized = await this.#output.eos(Math.max(500, deadlineMs));
    if (!finalized) logger.warn('stop() | output did not reach EOS; file relies on robust muxing');
    this.close();
    const file: RecordedFile = {
      path: this.#location,
      kind: 'composite',
      codec: [this.#wantsVideo ? 'h264' : undefined, this.#wantsAudio ? 'aac' : undefined].filter(Boolean).join('+'),
      startOffsetMs: 0,
    };
    if (durationS > 0) file.durationMs = Math.round(durationS * 1000);
    return fs.existsSync(this.#location) ? [file] : [];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#output?.close();
    this.#videoMixer?.close();
    this.#audioMixer?.close();
    for (const { pipeline } of this.#inputs.values()) pipeline.close();
    this.#inputs.clear();
    this.removeAllListeners();
  }

  #assertRunning(): void {
    if (this.#closed || this.#stopping || !this.#output) throw new CodedError(RecordingErrorCode.InvalidOperation, 'recording is not running');
  }

  #requireInput(inputId: string): CompositeInput {
    const entry = this.#inputs.get(inputId);
    if (!entry) throw new CodedError(RecordingErrorCode.InvalidParameter, `no input ${inputId}`);
    return entry;
  }

  /** Coalesces the audio + video inputs of one user joining into one rebuild per mixer. */
  #scheduleRebuild(kind: 'audio' | 'video'): void {
    if (kind === 'video') this.#rebuildVideo = true;
    else this.#rebuildAudio = true;
    if (this.#rebuildScheduled) return;
    this.#rebuildScheduled = true;
    setImmediate(() => {
      this.#rebuildScheduled = false;
      if (this.#closed || this.#stopping) return;
      if (this.#rebuildVideo && this.#wantsVideo) this.#buildVideoMixer();
      if (this.#rebuildAudio && this.#wantsAudio) this.#buildAudioMixer();
      this.#rebuildVideo = this.#rebuildAudio = false;
    });
  }

  #videoTiles(): VideoTileSource[] {
    // Users in order of their first video input; a user's first video input is their tile.
    const byUid = new Map<string, CompositeInput>();
    for (const entry of this.#inputs.values()) {
      const { input } = entry.pipeline;
      if (input.kind === 'video' && !byUid.has(input.uid)) byUid.set(input.uid, entry);
    }
    const tiles = computeLayout(this.#job.canvas, this.#layout, [...byUid.keys()], this.#maxResolutionUid);
    return tiles.map((tile) => {
      const entry = byUid.get(tile.uid)!;
      return { tile, inputId: entry.pipeline.input.inputId, paused: entry.paused };
    });
  }

  #buildVideoMixer(): void {
    // Two intervideosinks on one channel would interleave frames: the old mixer goes first.
    this.#videoMixer?.close();
    this.#videoMixer = this.#startMixer('video-mixer', videoMixerLaunch(this.#job, this.#videoTiles()));
  }

  #freeAudioSlot(): number | undefined {
    const taken = new Set([...this.#inputs.values()].map((entry) => entry.audioSlot));
    for (let slot = 0; slot < AUDIO_SLOTS; slot++) if (!taken.has(slot)) return slot;
    return undefined;
  }

  /** The overflow mixer: audio inputs without a slot (paused ones are muted at their input). */
  #buildAudioMixer(): void {
    this.#audioMixer?.close();
    this.#audioMixer = undefined;
    const ids = [...this.#inputs.values()]
      .filter(({ pipeline, audioSlot }) => pipeline.input.kind === 'audio' && audioSlot === undefined)
      .map(({ pipeline }) => pipeline.input.inputId);
    if (ids.length > 0) this.#audioMixer = this.#startMixer('audio-mixer', audioMixerLaunch(this.#job, ids));
  }

  #startMixer(name: string, launch: string): GstPipeline {
    const mixer = new GstPipeline(name, launch);
    mixer.on('error', (message) => this.safeEmit('error', `${name}: ${message}`, true));
    mixer.start();
    return mixer;
  }
}
