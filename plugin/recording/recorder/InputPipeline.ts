/**
 * The receiving pipeline of one RTP stream of a per-participant recording (composite inputs are bins
 * of one pipeline instead: CompositeRecording). Binds its socket (confrecudpsrc) to port 0 and reads the
 * port GStreamer got back (race-free: the OS picks it), and watches its sink's render count to tell
 * when the first frame (or audio buffer) came through — cheap: one property read per poll, and the
 * poll ends at the first frame.
 */
import { InputPorts, RecorderInput } from './protocol';
import { GstPipeline, renderedCount } from './GstPipeline';
import { TypedEmitter } from '../../../server/TypedEmitter';

const FIRST_FRAME_POLL_MS = 50;

export type InputPipelineEvents = {
  firstFrame: [];
  error: [message: string];
};

export class InputPipeline extends TypedEmitter<InputPipelineEvents> {
  readonly input: RecorderInput;
  readonly #pipeline: GstPipeline;
  readonly #sinkName: string;
  #poll?: NodeJS.Timeout;
  #firstFrameAt?: number;
  #closed = false;

  /**
   * @param launch the pipeline; its UDP source must be named `rtp`.
   * @param sinkName the sink whose render count says that media came through.
   */
  constructor(input: RecorderInput, launch: string, sinkName: string) {
    super();
    this.input = input;
    this.#sinkName = sinkName;
    this.#pipeline = new GstPipeline(`input-${input.inputId}`, launch);
    this.#pipeline.on('error', (message) => this.safeEmit('error', message));
  }

  /** Plays the pipeline; the socket binds during NULL→READY, synchronously, so the port is known now. */
  start(): InputPorts {
    this.#pipeline.start();
    const port = Number(this.#pipeline.element('rtp')?.port ?? 0);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`the input's socket did not bind (port ${String(port)})`);
    this.#poll = setInterval(() => this.#checkFirstFrame(), FIRST_FRAME_POLL_MS);
    return { rtpPort: port };
  }

  /** Date.now() when media first reached the sink, if it did. */
  get firstFrameAt(): number | undefined {
    return this.#firstFrameAt;
  }

  get pipeline(): GstPipeline {
    return this.#pipeline;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    this.#pipeline.close();
    this.removeAllListeners();
  }

  #checkFirstFrame(): void {
    if (this.#closed || this.#firstFrameAt !== undefined) return;
    if (renderedCount(this.#pipeline.element(this.#sinkName)) === 0) return;
    // The poll interval bounds the error of this timestamp (used for per-participant offsets).
    this.#firstFrameAt = Date.now() - FIRST_FRAME_POLL_MS / 2;
    clearInterval(this.#poll);
    this.safeEmit('firstFrame');
  }
}
