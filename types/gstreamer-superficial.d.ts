/**
 * Types for gstreamer-superficial 1.7.4 (the package ships none). Only what the native addon really
 * exposes: no request pads, no linking, no pad properties at runtime (see shared/notes/gstreamer.md).
 */
declare module 'gstreamer-superficial' {
  /** A bus message: `type` is GST_MESSAGE_TYPE_NAME, the structure's fields are spread on it. */
  export interface BusMessage {
    type: string;
    _src_element_name: string;
    /** Error messages only: the element path and the GError text. */
    name?: string;
    message?: string;
    [field: string]: unknown;
  }

  /**
   * A GstElement found with findChild(): every GObject property is a JS accessor. Numbers pass through
   * a gfloat on the way in; enum properties cannot be set at runtime; caps properties take strings.
   */
  export interface GstElement {
    [property: string]: unknown;
    /** appsink only. */
    pull?(callback: (buffer: Buffer | null, caps?: Record<string, unknown>) => void): void;
    /** appsrc only. */
    push?(buffer: Buffer): void;
  }

  export class Pipeline {
    /** gst_parse_launch; throws on a parse error. */
    constructor(launch: string);
    play(): void;
    pause(): void;
    /** Sets the pipeline to NULL (synchronous). */
    stop(): void;
    seek(positionSeconds: number, flags: number): boolean;
    /** Seconds, or -1. */
    queryPosition(): number;
    /** Seconds, or -1. */
    queryDuration(): number;
    /** Synchronous on the calling thread: may block forever if a udpsrc never received a packet. */
    sendEOS(): void;
    forceKeyUnit(elementName: string, count: number): boolean;
    findChild(name: string): GstElement | undefined;
    setPad(elementName: string, property: string, padName: string): void;
    /** Holds one libuv threadpool thread until the pipeline reaches NULL. */
    pollBus(callback: (message: BusMessage) => void): void;
    'auto-flush-bus': boolean;
    delay: number;
    latency: number;
  }
}
