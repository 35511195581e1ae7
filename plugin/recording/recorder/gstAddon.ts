/**
 * Our GStreamer addon (./gst, built by scripts/setup.sh): the calls GstGraph needs and the elements it
 * adds to GStreamer. Used in the recorder child only.
 */
import path from 'node:path';
import { findProjectRoot } from '../../../server/projectRoot';

export type Handle = { readonly __brand: 'GstGraphHandle' };

export interface BusMessage {
  type: 'eos' | 'error' | 'warning';
  source: string;
  /** The source's path in the pipeline, e.g. /pipeline0/i3/i3_rs. */
  path?: string;
  message?: string;
  debug?: string;
}

export interface GstAddon {
  /** onMessage: called on the JavaScript thread when messages wait on the bus (popMessages them). */
  create(description: string, onMessage?: () => void): Handle;
  destroy(handle: Handle): void;
  /** GStreamer's name of the state change's result: 'SUCCESS', 'ASYNC', 'NO_PREROLL' or 'FAILURE'. */
  setState(handle: Handle, element: string, state: 'null' | 'ready' | 'paused' | 'playing'): string;
  syncState(handle: Handle, element: string): void;
  setProperty(handle: Handle, element: string, property: string, value: string): void;
  /** Set from the element's streaming thread, just before its next buffer. */
  setPropertyInStream(handle: Handle, element: string, property: string, value: string): void;
  setPadProperty(handle: Handle, element: string, pad: string, property: string, value: string): void;
  getProperty(handle: Handle, element: string, property: string): string | number | boolean | null;
  /** The local port of the GSocket in the element's `property`, 0 while it holds none. */
  socketPort(handle: Handle, element: string, property: string): number;
  padCaps(handle: Handle, element: string, pad: string): string | null;
  requestPad(handle: Handle, element: string, template: string): string;
  releasePad(handle: Handle, element: string, pad: string): void;
  addBin(handle: Handle, description: string, name: string, output: string): void;
  link(handle: Handle, source: string, sourcePad: string | null, sink: string, sinkPad: string | null): void;
  removeElement(handle: Handle, element: string): void;
  sendEos(handle: Handle, element: string): boolean;
  position(handle: Handle): number;
  popMessages(handle: Handle): BusMessage[];
  dropUntimestampedBuffers(handle: Handle, element: string): void;
  registerElements(): void;
  /** SCHED_BATCH for the calling thread and every thread it starts later (gst/gstGraph.c says why). */
  useBatchScheduling(): void;
}

export const GST_ADDON_PATH = path.join(findProjectRoot(), 'plugin/recording/recorder/gst/build/Release/confrec_gst.node');

let addon: GstAddon | undefined;
/**
 * The addon, loaded once per process with its own elements (confrecrtporder) registered, so every
 * launch string parsed in this process can use them, gstreamer-superficial's included.
 */
export function loadGstAddon(): GstAddon {
  if (!addon) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(GST_ADDON_PATH) as GstAddon;
    // Before any pipeline exists, so that every streaming thread inherits it.
    loaded.useBatchScheduling();
    loaded.registerElements();
    addon = loaded;
  }
  return addon;
}
