import type { RecordingErrorCode } from './errors';

/**
 * One recording's lifecycle, as one discriminated union: the nine observer callbacks of the Agora
 * seed. The engine emits each event once into the recording's event log, which numbers it (`seq`,
 * consecutive from 1 per recording) and stamps it (`at`); every consumer — in-process CloudRecorders,
 * the recorder SDK, webhooks, the in-channel `recordingEvent` — reads that one stream. Browser-safe.
 */
export type RecordingEvent = RecordingEventBody & {
  /** Consecutive from 1 per recording. */
  seq: number;
  /** ISO time the log took the event in. */
  at: string;
};

/** An event as the engine emits it, before the log numbers it. */
export type RecordingEventBody =
  | (Common & { type: 'connecting' })
  | (Common & { type: 'started' })
  /** `message`: why it stopped (who stopped it, idle, shutdown). */
  | (Common & { type: 'stopped'; message: string })
  | (Common & { type: 'recorderFailure'; code: RecordingErrorCode; message: string })
  | (Common & { type: 'uploaded'; fileName: string })
  | (Common & { type: 'backuped'; fileName: string })
  /** `progress`: the recording's upload percent (mean over its files, never lower than before). */
  | (Common & { type: 'uploadingProgress'; progress: number; fileName: string })
  | (Common & { type: 'uploaderFailure'; code: RecordingErrorCode; message: string })
  | (Common & { type: 'fatalError'; code: RecordingErrorCode; message?: string });

interface Common {
  recordingId: string;
  /** The recording's channel; the log fills it in for events that do not know it (uploads). */
  channelId?: string;
}

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
