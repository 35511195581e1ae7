/**
 * One GStreamer pipeline that can change while it plays: bins added and removed, request pads, pad
 * properties (our addon in ./gst, built by scripts/setup.sh). The recorder keeps one of these per
 * composite recording for its whole life, and one per stream of a per-participant recording. Bus
 * messages are popped on the JavaScript thread when the addon reports that some wait (a GStreamer
 * thread only queues that call), so no GStreamer thread runs JavaScript, no libuv thread is held
 * waiting and a quiet pipeline costs nothing. Used in the recorder child only.
 */
import { Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import { awaitEos, WarningLog } from './busHelpers';
import { GstAddon, Handle, loadGstAddon } from './gstAddon';

export type GstGraphEvents = {
  /** path: the element's path in the pipeline (which bin it belongs to). */
  error: [message: string, element: string, path: string];
  eos: [];
};

export class GstGraph extends TypedEmitter<GstGraphEvents> {
  readonly name: string;
  readonly #addon: GstAddon;
  readonly #handle: Handle;
  readonly #logger: Logger;
  readonly #warnings: WarningLog;
  #closed = false;
  #eosSeen = false;

  /** Throws (with GStreamer's parse error) when the description is invalid. */
  constructor(name: string, description: string) {
    super();
    this.name = name;
    this.#logger = new Logger(`GstGraph:${name}`);
    this.#warnings = new WarningLog(this.#logger);
    this.#logger.debug(`constructor() | ${description}`);
    this.#addon = loadGstAddon();
    this.#handle = this.#addon.create(description, () => this.#drainBus());
  }

  get closed(): boolean {
    return this.#closed;
  }

  play(): void {
    if (this.#closed) return;
    if (this.#addon.setState(this.#handle, '', 'playing') === 'FAILURE') throw new Error(`${this.name}: could not play`);
  }

  /**
   * Adds a bin whose element named `link.output` ends it (its src pad becomes the bin's), links that
   * to `link.sink`'s pad `link.sinkPad` and starts it. Element names are global to the pipeline.
   */
  addBin(name: string, description: string, link?: { output: string; sink: string; sinkPad: string }): void {
    this.#logger.debug(`addBin() | ${name}: ${description}`);
    this.#addon.addBin(this.#handle, description, name, link?.output ?? '');
    try {
      if (link) this.#addon.link(this.#handle, name, 'src', link.sink, link.sinkPad);
      this.#addon.syncState(this.#handle, name);
    } catch (error) {
      this.#addon.removeElement(this.#handle, name);
      throw error;
    }
  }

  /** Stops the bin (joins its threads) and takes it out; its links go with it. */
  removeElement(name: string): void {
    if (!this.#closed) this.#addon.removeElement(this.#handle, name);
  }

  requestPad(element: string, template: string): string {
    return this.#addon.requestPad(this.#handle, element, template);
  }

  releasePad(element: string, pad: string): void {
    if (!this.#closed) this.#addon.releasePad(this.#handle, element, pad);
  }

  set(element: string, property: string, value: string | number | boolean): void {
    if (!this.#closed) this.#addon.setProperty(this.#handle, element, property, String(value));
  }

  /**
   * For a property the element applies to the caps it has at that moment: set here, on the streaming
   * thread before the element's next buffer, it cannot meet a caps event halfway.
   */
  setInStream(element: string, property: string, value: string | number | boolean): void {
    if (!this.#closed) this.#addon.setPropertyInStream(this.#handle, element, property, String(value));
  }

  setPad(element: string, pad: string, property: string, value: string | number | boolean): void {
    if (!this.#closed) this.#addon.setPadProperty(this.#handle, element, pad, property, String(value));
  }

  get(element: string, property: string): string | number | boolean | null {
    return this.#closed ? null : this.#addon.getProperty(this.#handle, element, property);
  }

  /** The port a udpsink bound (its used-socket), 0 before it has a socket. */
  boundPort(element: string): number {
    return this.#closed ? 0 : this.#addon.socketPort(this.#handle, element, 'used-socket');
  }

  /** Drops buffers without PTS leaving `element`'s src pad (mp4mux fails a file on one). */
  dropUntimestamped(element: string): void {
    if (!this.#closed) this.#addon.dropUntimestampedBuffers(this.#handle, element);
  }

  /** The pad's negotiated caps as a string, or null before negotiation. */
  caps(element: string, pad: string): string | null {
    return this.#closed ? null : this.#addon.padCaps(this.#handle, element, pad);
  }

  /** Seconds of running time, or -1. */
  position(): number {
    return this.#closed ? -1 : this.#addon.position(this.#handle);
  }

  /**
   * Sends EOS into the pipeline's sources and resolves true when it reached the bus, false after
   * timeoutMs. Only for pipelines whose sources all forward EOS: a udpsrc that never got a packet does
   * not (confrecudpsrc does).
   */
  eos(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#eosSeen) return Promise.resolve(true);
    return awaitEos(this, () => this.#addon.sendEos(this.#handle, ''), timeoutMs, this.#logger);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.destroy(this.#handle);
    this.removeAllListeners();
  }

  #drainBus(): void {
    if (this.#closed) return;
    for (const message of this.#addon.popMessages(this.#handle)) {
      if (this.#closed) return;
      if (message.type === 'eos') {
        this.#eosSeen = true;
        this.safeEmit('eos');
      } else if (message.type === 'error') {
        this.#logger.error(`bus | ${message.source}: ${message.message ?? 'unknown error'} (${message.debug ?? 'no details'})`);
        this.safeEmit('error', message.message ?? 'unknown error', message.source, message.path ?? '');
      } else {
        this.#warnings.note(message.source, message.message ?? '');
      }
    }
  }
}
