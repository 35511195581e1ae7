import type { RecordingErrorCode } from './errors';

/**
 * One recording's lifecycle, as one discriminated union: the nine observer callbacks of the Agora
 * seed. The engine emits each event once into the recording's event log, which numbers it (`seq`,
 * consecutive from 1 per recording) and stamps it (`at`); every consumer — in-process CloudRecorders,
 * the recorder SDK, webhooks, the in-channel `recordingEvent` — reads that one stream. Browser-safe.
 */
export type RecordingEvent =
  | (Numbered & { type: 'connecting'; channelId: string })
  | (Numbered & { type: 'started'; channelId: string })
  /** `message`: why it stopped (who stopped it, idle, shutdown). */
  | (Numbered & { type: 'stopped'; channelId: string; message?: string })
  | (Numbered & { type: 'recorderFailure'; channelId?: string; code: RecordingErrorCode; message: string })
  | (Numbered & { type: 'uploaded'; channelId?: string; fileName: string })
  | (Numbered & { type: 'backuped'; channelId?: string; fileName: string })
  /** `progress`: the recording's upload percent (mean over its files, never lower than before). */
  | (Numbered & { type: 'uploadingProgress'; channelId?: string; progress: number; fileName?: string })
  | (Numbered & { type: 'uploaderFailure'; channelId?: string; code: RecordingErrorCode; message: string })
  | (Numbered & { type: 'fatalError'; channelId: string; code: RecordingErrorCode; message?: string });

interface Numbered {
  recordingId: string;
  /** Consecutive from 1 per recording. */
  seq: number;
  /** ISO time the log took the event in. */
  at: string;
}

/** An event as the engine emits it, before the log numbers it; the log fills in a channelId it knows. */
export type RecordingEventBody = RecordingEvent extends infer E ? (E extends RecordingEvent ? Omit<E, 'seq' | 'at'> : never) : never;

export type RecordingEventType = RecordingEvent['type'];

/** The events after which a recording records no more. */
export const isFinalRecordingEvent = (event: { type: RecordingEventType }): boolean => event.type === 'stopped' || event.type === 'fatalError';

/**
 * A recording event on the wire (recorder SDK, HTTP `/events`, webhooks, in-channel
 * `recordingEvent`): the union plus `event`, the same name as `type`, which clients of the first
 * protocol version read.
 */
export type WireRecordingEvent = RecordingEvent extends infer E ? (E extends RecordingEvent ? E & { event: E['type'] } : never) : never;

export function toWireEvent(event: RecordingEvent): WireRecordingEvent {
  return { ...event, event: event.type } as WireRecordingEvent;
}

/** Reads a wire event; a server of the first protocol version sent only `event`. */
export function fromWireEvent(wire: Partial<WireRecordingEvent>): RecordingEvent | undefined {
  const { event, ...rest } = wire;
  const type = rest.type ?? event;
  if (typeof type !== 'string' || typeof rest.recordingId !== 'string' || typeof rest.seq !== 'number') return undefined;
  return { ...rest, type } as RecordingEvent;
}
