import crypto from 'node:crypto';
import type { BackendStartArguments } from '../backendStart';
import type { RecordingEngine, StartRecordingRequest } from '../RecordingEngine';
import type { RecordingEventEntry, RecordingEventLog } from '../RecordingEventLog';
import { CodedError, RecordingErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import {
  isRecorderMethod,
  RecorderNotifications,
  recorderRequestSchemas,
  RecorderRequestData,
  RecorderResponses,
} from '../../../signaling/recorder/protocol';
import { toWireEvent } from '../../../signaling/recordingEvent';
import { SchemaError } from '../../../signaling/schemas/validate';
import { Logger } from '../../../server/logger';

const logger = new Logger('RecorderSession');

export interface RecorderSessionContext {
  engine: RecordingEngine;
  log: RecordingEventLog;
  /** The boundary of a backend's start (validation, endpoint policy, token check, channel): see backendStart.ts. */
  resolveStart(args: BackendStartArguments): Promise<StartRecordingRequest>;
  /** Checks a record token for a channel (rejects with CodedError). */
  authorizeRecord(appId: string, channelId: string, token: string): Promise<void>;
  /** Secret the resume keys are derived from. */
  resumeSecret: string;
}

type Notify = <N extends keyof RecorderNotifications>(notification: N, data: RecorderNotifications[N]) => void;

/** The key that lets a reconnecting SDK follow its recording again: HMAC of the id, never stored. */
export function resumeKeyFor(secret: string, recordingId: string): string {
  return crypto.createHmac('sha256', secret).update(`confrec-recorder-resume:${recordingId}`).digest('base64url').slice(0, 32);
}

/** Errors inside the two configs name them as the seed's API does (recordingConfig.x, cloudStorageConfig.x). */
function seedFieldNames(message: string): string {
  return message.replace(/^data\.recordingConfig\b/, 'recordingConfig').replace(/^data\.storageConfig\b/, 'cloudStorageConfig');
}

function sameKey(a: string, b: string): boolean {
  const left = crypto.createHash('sha256').update(a).digest();
  const right = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(left, right);
}

/**
 * One recorder SDK connection, server side: starts recordings on the engine,
 * forwards the events of the recordings it follows (from the event log, so nothing is skipped and a
 * resume replays exactly what was missed) and stops them on request. Closing the session never
 * stops a recording: recordings outlive their controllers.
 */
export class RecorderSession {
  readonly #context: RecorderSessionContext;
  readonly #notify: Notify;
  /** recordingId → last seq sent on this connection. */
  readonly #following = new Map<string, number>();
  readonly #onEntry: (entry: RecordingEventEntry) => void;
  #closed = false;

  constructor(context: RecorderSessionContext, notify: Notify) {
    this.#context = context;
    this.#notify = notify;
    this.#onEntry = (entry) => this.#forward(entry);
    context.log.on('appended', this.#onEntry);
  }

  async handle(method: string, data: unknown): Promise<unknown> {
    if (this.#closed) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the session is closed');
    if (!isRecorderMethod(method)) throw new CodedError(SignalingErrorCode.UnknownMethod, `unknown method ${JSON.stringify(method.slice(0, 64))}`);
    let parsed: unknown;
    try {
      parsed = recorderRequestSchemas[method].parse(data, 'data');
    } catch (error) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, error instanceof SchemaError ? seedFieldNames(error.message) : String(error));
    }
    switch (method) {
      case 'startCloudRecording':
        return this.#start(parsed as RecorderRequestData<'startCloudRecording'>);
      case 'stopCloudRecording':
        return this.#stop(parsed as RecorderRequestData<'stopCloudRecording'>);
      case 'resume':
        return this.#resume(parsed as RecorderRequestData<'resume'>);
      case 'attach':
        return this.#attachRequest(parsed as RecorderRequestData<'attach'>);
      case 'release':
        return this.#release(parsed as RecorderRequestData<'release'>);
    }
  }

  /** Follows a recording: started, attached to or resumed one (a socket that does not gets closed after signaling.joinTimeoutMs). */
  get established(): boolean {
    return this.#following.size > 0;
  }

  /** Stops following; the recordings go on. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#context.log.off('appended', this.#onEntry);
    this.#following.clear();
  }

  async #start(request: RecorderRequestData<'startCloudRecording'>): Promise<RecorderResponses['startCloudRecording']> {
    const running = [...this.#following.keys()].find((id) => this.#context.engine.get(id)?.active);
    if (running) throw new CodedError(RecordingErrorCode.InvalidOperation, `this recorder is already recording (${running}); stop it first`);
    const { recordingId, started } = this.#context.engine.start(await this.#context.resolveStart(request));
    // Followed from seq 0 before its first event is appended, so 'connecting' is sent too.
    this.#follow(recordingId, 0);
    await started;
    return { recordingId, resumeKey: resumeKeyFor(this.#context.resumeSecret, recordingId) };
  }

  async #stop({ recordingId }: RecorderRequestData<'stopCloudRecording'>): Promise<RecorderResponses['stopCloudRecording']> {
    if (!this.#following.has(recordingId)) throw new CodedError(RecordingErrorCode.InvalidOperation, `this recorder does not control ${recordingId}`);
    await this.#context.engine.stop(recordingId, 'stopped by backend');
    return {};
  }

  #resume({ recordingId, resumeKey, afterSeq }: RecorderRequestData<'resume'>): RecorderResponses['resume'] {
    if (!sameKey(resumeKey, resumeKeyFor(this.#context.resumeSecret, recordingId))) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, 'data.resumeKey does not match the recording');
    }
    const status = this.#context.engine.status(recordingId);
    if (!this.#context.log.has(recordingId) && !status) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} is known to this server`);
    }
    const complete = this.#follow(recordingId, afterSeq, false);
    return { recordingId, phase: status?.phase ?? null, lastSeq: this.#context.log.lastSeq(recordingId), complete };
  }

  async #attachRequest({ appId, recordingId, token, afterSeq }: RecorderRequestData<'attach'>): Promise<RecorderResponses['attach']> {
    const status = this.#context.engine.status(recordingId);
    const channelId = status?.channelId ?? this.#context.log.channelOf(recordingId);
    if (!channelId) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} is known to this server`);
    await this.#context.authorizeRecord(appId, channelId, token);
    this.#follow(recordingId, afterSeq ?? this.#context.log.lastSeq(recordingId));
    return {
      recordingId,
      resumeKey: resumeKeyFor(this.#context.resumeSecret, recordingId),
      channelId,
      phase: this.#context.engine.status(recordingId)?.phase ?? null,
      lastSeq: this.#context.log.lastSeq(recordingId),
    };
  }

  async #release({ keepRecordingInBackground, recordingId }: RecorderRequestData<'release'>): Promise<RecorderResponses['release']> {
    if (!keepRecordingInBackground && recordingId) {
      if (!this.#following.has(recordingId)) throw new CodedError(RecordingErrorCode.InvalidOperation, `this recorder does not control ${recordingId}`);
      // Stops recording and uploading (files not yet stored stay in backup): the seed's Release(false).
      await this.#context.engine.release(recordingId);
    }
    this.close();
    return {};
  }

  /** Follows a recording from afterSeq: announces it, replays what the log holds, then goes live. */
  #follow(recordingId: string, afterSeq: number, announce = true): boolean {
    if (this.#closed) return false;
    const known = this.#following.get(recordingId);
    if (known !== undefined && known >= afterSeq) return true;
    this.#following.set(recordingId, afterSeq);
    if (announce || known === undefined) {
      const channelId = this.#context.log.channelOf(recordingId);
      this.#notify('recordingAttached', { recordingId, resumeKey: resumeKeyFor(this.#context.resumeSecret, recordingId), ...(channelId ? { channelId } : {}) });
    }
    const { entries, complete } = this.#context.log.since(recordingId, afterSeq);
    for (const entry of entries) this.#forward(entry);
    if (!complete && afterSeq > 0) logger.warn(`follow() | events after ${afterSeq} were partly dropped from the log`, { recordingId });
    return complete;
  }

  #forward(entry: RecordingEventEntry): void {
    const last = this.#following.get(entry.recordingId);
    if (last === undefined || entry.seq <= last) return;
    this.#following.set(entry.recordingId, entry.seq);
    this.#notify('recordingEvent', toWireEvent(entry));
  }
}
