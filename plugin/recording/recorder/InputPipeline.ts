/**
 * The receiving pipeline of one RTP stream of a per-participant recording (composite inputs are bins
 * of one pipeline instead: CompositeRecording). Watches its sink's render count to tell when the
 * first frame (or audio buffer) came through — cheap: one property read per poll, and the poll ends
 * at the first frame.
 */
import { InputPorts, RecorderInput } from './protocol';
import { GstGraph } from './GstGraph';
import { boundInputPorts } from './inputPorts';
import { TypedEmitter } from '../../../server/TypedEmitter';

const FIRST_FRAME_POLL_MS = 50;

export type InputPipelineEvents = {
  firstFrame: [];
  error: [message: string];
};

export class InputPipeline extends TypedEmitter<InputPipelineEvents> {
  readonly input: RecorderInput;
  readonly #pipeline: GstGraph;
  readonly #sinkName: string;
  #poll?: NodeJS.Timeout;
  #firstFrameAt?: number;
  #closed = false;

  /**
   * @param launch the pipeline; its UDP source must be named `rtp`, its RTCP sender (if any) `rtcpout`.
   * @param sinkName the sink whose render count says that media came through.
   */
  constructor(input: RecorderInput, launch: string, sinkName: string) {
    super();
    this.input = input;
    this.#sinkName = sinkName;
    this.#pipeline = new GstGraph(`input-${input.inputId}`, launch);
    this.#pipeline.on('error', (message) => this.safeEmit('error', message));
  }

  /** Plays the pipeline and returns the ports its sockets got. */
  start(): InputPorts {
    this.#pipeline.play();
    const ports = boundInputPorts(this.#pipeline, this.input);
    this.#poll = setInterval(() => this.#checkFirstFrame(), FIRST_FRAME_POLL_MS);
    return ports;
  }

  /** Date.now() when media first reached the sink, if it did. */
  get firstFrameAt(): number | undefined {
    return this.#firstFrameAt;
  }

  get pipeline(): GstGraph {
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
    if (renderedCount(this.#pipeline.get(this.#sinkName, 'stats')) === 0) return;
    // The poll interval bounds the error of this timestamp (used for per-participant offsets).
    this.#firstFrameAt = Date.now() - FIRST_FRAME_POLL_MS / 2;
    clearInterval(this.#poll);
    this.safeEmit('firstFrame');
  }
}

/** basesink's "stats" structure as a string ("…, rendered=(guint64)42;"): frames rendered so far. */
function renderedCount(stats: unknown): number {
  if (typeof stats !== 'string') return 0;
  const match = /rendered=\(guint64\)(\d+)/.exec(stats);
  return match ? Number(match[1]) : 0;
}
