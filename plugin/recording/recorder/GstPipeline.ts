/**
 * One GStreamer pipeline with a lifecycle the recorder can rely on: start() plays and polls the bus,
 * eos() waits for end-of-stream with a timeout, close() sets NULL exactly once. Used in the child only.
 */
import { BusMessage, GstElement, Pipeline } from 'gstreamer-superficial';
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import { awaitEos, WarningLog } from './busHelpers';
import { loadGstAddon } from './gstAddon';

export type GstPipelineEvents = {
  error: [message: string, element: string];
  eos: [];
};


export class GstPipeline extends TypedEmitter<GstPipelineEvents> {
  readonly name: string;
  readonly #pipeline: Pipeline;
  readonly #logger: Logger;
  readonly #warnings: WarningLog;
  #started = false;
  #closed = false;
  #eosSeen = false;

  /** Throws (with GStreamer's parse error) when the launch string is invalid. */
  constructor(name: string, launch: string) {
    super();
    this.name = name;
    this.#logger = new Logger(`GstPipeline:${name}`);
    this.#warnings = new WarningLog(this.#logger);
    this.#logger.debug(`constructor() | ${launch}`);
    loadGstAddon(); // our elements (confrecrtporder) in the launch string
    this.#pipeline = new Pipeline(launch);
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    if (this.#closed || this.#started) return;
    this.#started = true;
    this.#pipeline.play();
    // Each poll holds a libuv threadpool thread until the next message; it ends when the state is NULL.
    this.#pipeline.pollBus((message) => this.#onBusMessage(message));
  }

  element(name: string): GstElement | undefined {
    return this.#pipeline.findChild(name);
  }

  /** Seconds of running time, or -1. */
  position(): number {
    return this.#closed ? -1 : this.#pipeline.queryPosition();
  }

  /**
   * Sends EOS and resolves true when it reached the bus, false after timeoutMs. sendEOS() is
   * synchronous: call it only on pipelines whose sources all forward EOS (a udpsrc that never got a
   * packet blocks it forever; confrecudpsrc forwards it at once).
   */
  eos(timeoutMs: number): Promise<boolean> {
    if (this.#closed || !this.#started) return Promise.resolve(false);
    if (this.#eosSeen) return Promise.resolve(true);
    return awaitEos(this, () => this.#pipeline.sendEOS(), timeoutMs, this.#logger);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pipeline.stop();
    this.removeAllListeners();
  }

  #onBusMessage(message: BusMessage): void {
    if (this.#closed) return;
    if (message.type === 'eos') {
      this.#eosSeen = true;
      this.safeEmit('eos');
    } else if (message.type === 'error') {
      const text = String(message.message ?? 'unknown error');
      this.#logger.error(`bus | ${message.name ?? message._src_element_name}: ${text}`);
      this.safeEmit('error', text, String(message._src_element_name));
    } else if (message.type === 'warning') {
      this.#warnings.note(String(message._src_element_name));
    }
  }
}

/** basesink's "stats" structure as a string ("…, rendered=(guint64)42;"): frames rendered so far. */
export function renderedCount(sink: GstElement | undefined): number {
  const stats = sink?.stats;
  if (typeof stats !== 'string') return 0;
  const match = /rendered=\(guint64\)(\d+)/.exec(stats);
  return match ? Number(match[1]) : 0;
}
