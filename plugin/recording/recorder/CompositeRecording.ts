/**
 * Composite mode: one pipeline (compositeGraph.ts) for the whole recording. An input joining adds a
 * bin and a mixer pad; leaving removes them; a layout change or a pause only sets pad properties.
 */
import fs from 'node:fs';
import path from 'node:path';
import { computeLayout, MixedVideoLayout, Tile } from '../layout';
import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import { GstGraph } from './GstGraph';
import { boundInputPorts } from './inputPorts';
import {
  AUDIO_MIXER,
  compositeBaseLaunch,
  compositeExtension,
  compositeInputBin,
  inputElement,
  inputPrefix,
  pausedPlaceholderBin,
  videoPadOffsetNs,
  tileCaps,
  TileSize,
  VIDEO_MIXER,
  VIDEO_TO_MUX,
} from './compositeGraph';
import { InputPorts, RecordedFile, RecorderInput, RecorderJob } from './protocol';
import { Recording, RecordingEvents } from './Recording';

const logger = new Logger('CompositeRecording');

const FIRST_FRAME_POLL_MS = 50;
/** A video input not on the canvas (no tile yet, or hidden by the layout): its pad draws nothing. */
const OFF_CANVAS: Tile = { uid: '', x: 0, y: 0, width: 16, height: 16, zorder: 1 };

interface CompositeInput {
  input: RecorderInput;
  /** The bin's name, also the prefix of its elements' names. */
  bin: string;
  /** The mixer's request pad the bin feeds. */
  pad: string;
  paused: boolean;
  /** The bin failed and was removed: the tile stays, black. */
  broken: boolean;
  firstFrameAt?: number;
  /** A paused video's placeholder: its bin (named `${bin}_ph`) and compositor pad. */
  placeholderPad?: string;
  /** The size its bin scales to now (video). */
  size: TileSize;
}

export class CompositeRecording extends TypedEmitter<RecordingEvents> implements Recording {
  readonly #job: RecorderJob;
  readonly #bindIp: string;
  readonly #location: string;
  readonly #inputs = new Map<string, CompositeInput>();
  #graph?: GstGraph;
  #layout: MixedVideoLayout;
  #maxResolutionUid?: string;
  #nextBin = 0;
  #firstFramePoll?: NodeJS.Timeout;
  #layoutScheduled = false;
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
    this.#graph = new GstGraph('composite', compositeBaseLaunch(this.#job, this.#location));
    this.#graph.on('error', (message, element, elementPath) => this.#onError(message, element, elementPath));
    if (this.#wantsVideo) this.#graph.dropUntimestamped(VIDEO_TO_MUX);
    this.#graph.play();
    this.#startedAt = Date.now();
  }

  addInput(input: RecorderInput): InputPorts {
    const graph = this.#assertRunning();
    if (this.#inputs.has(input.inputId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `input ${input.inputId} exists`);
    if ((input.kind === 'video' && !this.#wantsVideo) || (input.kind === 'audio' && !this.#wantsAudio)) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `streamTypes ${this.#job.streamTypes} records no ${input.kind}`);
    }
    const bin = `i${this.#nextBin++}`;
    const mixer = input.kind === 'video' ? VIDEO_MIXER : AUDIO_MIXER;
    const pad = graph.requestPad(mixer, 'sink_%u');
    if (input.kind === 'video') graph.setPad(mixer, pad, 'offset', videoPadOffsetNs(this.#job.canvas.fps));
    const entry: CompositeInput = { input, bin, pad, paused: false, broken: false, size: OFF_CANVAS };
    if (input.kind === 'video') this.#placeVideo(entry, OFF_CANVAS, false);
    try {
      graph.addBin(bin, compositeInputBin(input, bin, this.#bindIp, entry.size), { output: inputElement(bin, 'out'), sink: mixer, sinkPad: pad });
    } catch (error) {
      graph.releasePad(mixer, pad);
      throw error;
    }
    let ports: InputPorts;
    try {
      ports = boundInputPorts(graph, input, inputPrefix(bin));
    } catch (error) {
      this.#dropBin(entry);
      throw error;
    }
    this.#inputs.set(input.inputId, entry);
    this.#watchFirstFrames();
    if (input.kind === 'video') this.#scheduleLayout();
    logger.debug(`addInput() | ${input.inputId} ${input.codec.mimeType} on port ${ports.rtpPort} (${bin})`);
    return ports;
  }

  removeInput(inputId: string): void {
    this.#assertRunning();
    const entry = this.#requireInput(inputId);
    this.#inputs.delete(inputId);
    this.#dropBin(entry);
    if (entry.input.kind === 'video') this.#scheduleLayout();
  }

  setInputPaused(inputId: string, paused: boolean): void {
    const graph = this.#assertRunning();
    const entry = this.#requireInput(inputId);
    if (entry.paused === paused) return;
    entry.paused = paused;
    if (entry.input.kind === 'audio') graph.setPad(AUDIO_MIXER, entry.pad, 'mute', paused);
    else this.#applyLayout();
  }

  setLayout(layout: MixedVideoLayout, maxResolutionUid?: string): void {
    this.#assertRunning();
    this.#layout = layout;
    this.#maxResolutionUid = maxResolutionUid;
    if (this.#wantsVideo) this.#applyLayout();
  }

  decodedSize(inputId: string): { width: number; height: number } | undefined {
    const entry = this.#requireInput(inputId);
    if (entry.input.kind !== 'video' || entry.broken) return undefined;
    const caps = this.#graph?.caps(inputElement(entry.bin, 'dec'), 'src');
    const width = /width=\(int\)(\d+)/.exec(caps ?? '')?.[1];
    const height = /height=\(int\)(\d+)/.exec(caps ?? '')?.[1];
    return width && height ? { width: Number(width), height: Number(height) } : undefined;
  }

  async stop(deadlineMs: number): Promise<RecordedFile[]> {
    const graph = this.#graph;
    if (this.#closed || this.#stopping || !graph) return [];
    this.#stopping = true;
    const durationS = graph.position();
    // The inputs go first, so the file ends at the stop with no input's tail waited for; then EOS from
    // the filler sources, which always produce, finalizes the file.
    for (const entry of this.#inputs.values()) this.#dropBin(entry);
    this.#inputs.clear();
    const finalized = await graph.eos(Math.max(500, deadlineMs));
    if (!finalized) logger.warn('stop() | no EOS; the file relies on robust muxing');
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
    clearInterval(this.#firstFramePoll);
    this.#graph?.close();
    this.#inputs.clear();
    this.removeAllListeners();
  }

  #assertRunning(): GstGraph {
    if (this.#closed || this.#stopping || !this.#graph) throw new CodedError(RecordingErrorCode.InvalidOperation, 'recording is not running');
    return this.#graph;
  }

  #requireInput(inputId: string): CompositeInput {
    const entry = this.#inputs.get(inputId);
    if (!entry) throw new CodedError(RecordingErrorCode.InvalidParameter, `no input ${inputId}`);
    return entry;
  }

  /** Stops and removes an input's bin (its threads joined) and gives its mixer pads back. */
  #dropBin(entry: CompositeInput): void {
    const graph = this.#graph;
    if (!graph) return;
    const mixer = entry.input.kind === 'video' ? VIDEO_MIXER : AUDIO_MIXER;
    if (!entry.broken) graph.removeElement(entry.bin);
    graph.releasePad(mixer, entry.pad);
    this.#dropPlaceholder(entry);
  }

  /** A broken input's tile stays, black; the other inputs and the file carry on. */
  #onError(message: string, element: string, elementPath: string): void {
    // "/GstPipeline:pipeline0/GstBin:i3/…": the second level is the input's bin.
    const bin = elementPath.split('/')[2]?.split(':').pop();
    const entry = [...this.#inputs.values()].find((candidate) => candidate.bin === bin);
    if (!entry) {
      this.safeEmit('error', `${element}: ${message}`, true);
      return;
    }
    this.safeEmit('error', `input ${entry.input.inputId}: ${message}`, false, entry.input.inputId);
    if (entry.broken || this.#closed || this.#stopping) return;
    entry.broken = true;
    this.#graph?.removeElement(entry.bin);
  }

  #watchFirstFrames(): void {
    this.#firstFramePoll ??= setInterval(() => this.#checkFirstFrames(), FIRST_FRAME_POLL_MS);
  }

  /** The decoder's caps are set with its first output: one pad read per waiting input per poll. */
  #checkFirstFrames(): void {
    let waiting = false;
    for (const entry of this.#inputs.values()) {
      if (entry.firstFrameAt !== undefined || entry.broken) continue;
      if (this.#graph?.caps(inputElement(entry.bin, 'dec'), 'src') == null) {
        waiting = true;
        continue;
      }
      entry.firstFrameAt = Date.now() - FIRST_FRAME_POLL_MS / 2;
      this.safeEmit('firstFrame', entry.input.inputId);
    }
    if (!waiting) {
      clearInterval(this.#firstFramePoll);
      this.#firstFramePoll = undefined;
    }
  }

  /** Coalesces the video inputs of several users joining at once into one layout pass. */
  #scheduleLayout(): void {
    if (this.#layoutScheduled) return;
    this.#layoutScheduled = true;
    setImmediate(() => {
      this.#layoutScheduled = false;
      if (!this.#closed && !this.#stopping) this.#applyLayout();
    });
  }

  #applyLayout(): void {
    // Users in order of their first video input; a user's first video input is their tile.
    const byUid = new Map<string, CompositeInput>();
    for (const entry of this.#inputs.values()) {
      if (entry.input.kind === 'video' && !byUid.has(entry.input.uid)) byUid.set(entry.input.uid, entry);
    }
    const tiles = new Map(computeLayout(this.#job.canvas, this.#layout, [...byUid.keys()], this.#maxResolutionUid).map((tile) => [tile.uid, tile]));
    for (const entry of this.#inputs.values()) {
      if (entry.input.kind !== 'video') continue;
      const tile = byUid.get(entry.input.uid) === entry ? tiles.get(entry.input.uid) : undefined;
      this.#placeVideo(entry, tile ?? OFF_CANVAS, tile !== undefined);
    }
  }

  /** Sets the input's scaling and compositor pad (and paused placeholder) to its tile. */
  #placeVideo(entry: CompositeInput, tile: Tile, visible: boolean): void {
    const graph = this.#graph!;
    // A hidden input keeps its last size: it is not shown, and its consumer is paused anyway.
    if (visible && (tile.width !== entry.size.width || tile.height !== entry.size.height) && !entry.broken) {
      entry.size = { width: tile.width, height: tile.height };
      if (this.#inputs.has(entry.input.inputId)) {
        graph.set(inputElement(entry.bin, 'out'), 'caps', tileCaps(entry.size));
        graph.setInStream(inputElement(entry.bin, 'crop'), 'aspect-ratio', `${tile.width}/${tile.height}`);
      }
    }
    this.#setGeometry(entry.pad, tile, visible && !entry.paused);
    if (visible && entry.paused) {
      entry.placeholderPad ??= this.#addPlaceholder(entry);
      this.#setGeometry(entry.placeholderPad, tile, true);
    } else {
      this.#dropPlaceholder(entry);
    }
  }

  #setGeometry(pad: string, tile: Tile, visible: boolean): void {
    const graph = this.#graph!;
    graph.setPad(VIDEO_MIXER, pad, 'xpos', tile.x);
    graph.setPad(VIDEO_MIXER, pad, 'ypos', tile.y);
    graph.setPad(VIDEO_MIXER, pad, 'width', tile.width);
    graph.setPad(VIDEO_MIXER, pad, 'height', tile.height);
    graph.setPad(VIDEO_MIXER, pad, 'zorder', tile.zorder);
    graph.setPad(VIDEO_MIXER, pad, 'alpha', visible ? 1 : 0);
  }

  #addPlaceholder(entry: CompositeInput): string {
    const graph = this.#graph!;
    const pad = graph.requestPad(VIDEO_MIXER, 'sink_%u');
    const bin = `${entry.bin}_ph`;
    graph.addBin(bin, pausedPlaceholderBin(this.#job, bin), { output: inputElement(bin, 'out'), sink: VIDEO_MIXER, sinkPad: pad });
    return pad;
  }

  #dropPlaceholder(entry: CompositeInput): void {
    if (!entry.placeholderPad) return;
    this.#graph?.removeElement(`${entry.bin}_ph`);
    this.#graph?.releasePad(VIDEO_MIXER, entry.placeholderPad);
    entry.placeholderPad = undefined;
  }
}
