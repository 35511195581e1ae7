import type { RecordingEvent, RecordingEventEntry, RecordingEventType } from './schemas/recordingEvent';

/**
 * Helpers around the one recording event model, RecordingEvent (defined once, as a schema, in
 * schemas/recordingEvent.ts): the engine emits each event once into the recording's event log, which
 * numbers it (`seq`) and stamps it (`at`); every consumer — in-process CloudRecorders, the recorder
 * SDK, webhooks, the in-channel `recordingEvent` — reads that one stream. Browser-safe.
 */
export type { RecordingEvent, RecordingEventType };

/** An event as the engine emits it, before the log numbers it; the log fills in a channelId it knows. */
export type RecordingEventBody = RecordingEvent extends infer E ? (E extends RecordingEvent ? Omit<E, 'seq' | 'at'> : never) : never;

/** The events after which a recording records no more. */
export const isFinalRecordingEvent = (event: { type: RecordingEventType }): boolean => event.type === 'stopped' || event.type === 'fatalError';

/**
 * A recording event on the wire (recorder SDK, HTTP `/events`, webhooks, in-channel
 * `recordingEvent`): the union plus `event`, the same name as `type`, which clients of the first
 * protocol version read. Its schema is RecordingEventEntrySchema.
 */
export type WireRecordingEvent = RecordingEvent extends infer E ? (E extends RecordingEvent ? E & { event: E['type'] } : never) : never;

export function toWireEvent(event: RecordingEvent): WireRecordingEvent {
  return { ...event, event: event.type } as WireRecordingEvent;
}

/** Reads a wire event; a server of the first protocol version sent only `event`. */
export function fromWireEvent(wire: Partial<RecordingEventEntry>): RecordingEvent | undefined {
  const { event, ...rest } = wire;
  const type = rest.type ?? event;
  if (typeof type !== 'string' || typeof rest.recordingId !== 'string' || typeof rest.seq !== 'number') return undefined;
  return { ...rest, type } as RecordingEvent;
}
