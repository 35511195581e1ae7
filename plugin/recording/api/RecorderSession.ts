import crypto from 'node:crypto';
import type { BackendStartArguments } from '../backendStart';
import type { RecordingEngine, StartRecordingRequest } from '../RecordingEngine';
import type { RecordingPhase } from '../ChannelRecording';
import type { RecordingEventEntry } from '../RecordingEventLog';
import type { RecordingEventFeed } from './RecordingEventFeed';
import { CodedError, RecordingErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import {
  isRecorderMethod,
  RecorderNotifications,
  recorderRequestSchemas,
  RecorderRequestData,
  RecorderResponses,
} from '../../../signaling/recorder/protocol';
import { isFinalRecordingEvent, toWireEvent } from '../../../signaling/recordingEvent';
import { SchemaError } from '../../../signaling/schemas/validate';
import { redirectUrlOf } from '../../../server/cluster/redirect';
import { Logger } from '../../../server/logger';

const logger = new Logger('RecorderSession');

export interface RecorderSessionContext {
  engine: RecordingEngine;
  /** This node's events and, in a cluster, the other nodes'. */
  events: RecordingEventFeed;
  /** The boundary of a backend's start (validation, endpoint policy, token check, channel): see backendStart.ts. */
  resolveStart(args: BackendStartArguments, options?: { placed?: boolean }): Promise<StartRecordingRequest>;
  /** Checks a record token for a channel (rejects with CodedError). */
  authorizeRecord(appId: string, channelId: string, token: string): Promise<void>;
  /** Secret the resume keys are derived from. */
  resumeSecret: string;
  /** Cluster mode: what concerns another node's channel or recording is done there. */
  remote?: RemoteRecorder;
}

/** The recorder methods a session has run on the node that owns the channel or recording (cluster mode). */
export interface RemoteRecorder {
  /** startCloudRecording on the channel's node (its publicUrl, as the REDIRECT named it). */
  start(url: string, data: RecorderRequestData<'startCloudRecording'>): Promise<RecorderResponses['startCloudRecording']>;
  /** stopCloudRecording or release on the recording's node; CodedError when it is unknown or its node is down. */
  control(recordingId: string, method: 'stopCloudRecording' | 'release', data: RecorderRequestData<'stopCloudRecording' | 'release'>): Promise<void>;
  /** Another node's recording as the cluster knows it (undefined: unknown). */
  describe(recordingId: string): Promise<{ channelId: string; phase: RecordingPhase } | undefined>;
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
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(context: RecorderSessionContext, notify: Notify) {
    this.#context = context;
    this.#notify = notify;
    this.#unsubscribe = context.events.subscribe((entry) => this.#forward(entry));
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
    this.#unsubscribe();
    this.#following.clear();
  }

  async #start(request: RecorderRequestData<'startCloudRecording'>): Promise<RecorderResponses['startCloudRecording']> {
    const running = [...this.#following.keys()].find((id) => this.#isActive(id));
    if (running) throw new CodedError(RecordingErrorCode.InvalidOperation, `this recorder is already recording (${running}); stop it first`);
    let start;
    try {
      start = await this.#context.resolveStart(request);
    } catch (error) {
      const url = redirectUrlOf(error);
      if (!url || !this.#context.remote) throw error;
      // The channel lives on another node: the recording runs there, its events come back through the cluster.
      const answer = await this.#context.remote.start(url, request);
      this.#follow(answer.recordingId, 0);
      return answer;
    }
    const { recordingId, started } = this.#context.engine.start(start);
    // Followed from seq 0 before its first event is appended, so 'connecting' is sent too.
    this.#follow(recordingId, 0);
    await started;
    return { recordingId, resumeKey: resumeKeyFor(this.#context.resumeSecret, recordingId) };
  }

  /** Still recording: running here, or another node's whose last event so far was not its end. */
  #isActive(recordingId: string): boolean {
    const local = this.#context.engine.get(recordingId);
    if (local) return local.active;
    const last = this.#context.events.last(recordingId);
    return last !== undefined && !isFinalRecordingEvent(last);
  }

  /** Whether a recording this session controls lives on another node (so stop and release go there). */
  #isRemote(recordingId: string): boolean {
    return this.#context.remote !== undefined && !this.#context.engine.known(recordingId);
  }

  async #stop({ recordingId }: RecorderRequestData<'stopCloudRecording'>): Promise<RecorderResponses['stopCloudRecording']> {
    if (!this.#following.has(recordingId)) throw new CodedError(RecordingErrorCode.InvalidOperation, `this recorder does not control ${recordingId}`);
    if (this.#isRemote(recordingId)) await this.#context.remote!.control(recordingId, 'stopCloudRecording', { recordingId });
    else await this.#context.engine.stop(recordingId, 'stopped by backend');
    return {};
  }

  async #resume({ recordingId, resumeKey, afterSeq }: RecorderRequestData<'resume'>): Promise<RecorderResponses['resume']> {
    if (!sameKey(resumeKey, resumeKeyFor(this.#context.resumeSecret, recordingId))) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, 'data.resumeKey does not match the recording');
    }
    const known = await this.#describe(recordingId);
    if (!this.#context.events.has(recordingId) && !known) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} is known to this server`);
    }
    const complete = this.#follow(recordingId, afterSeq, false);
    return { recordingId, phase: known?.phase ?? null, lastSeq: this.#context.events.lastSeq(recordingId), complete };
  }

  async #attachRequest({ appId, recordingId, token, afterSeq }: RecorderRequestData<'attach'>): Promise<RecorderResponses['attach']> {
    const known = await this.#describe(recordingId);
    const channelId = known?.channelId ?? this.#context.events.channelOf(recordingId);
    if (!channelId) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} is known to this server`);
    await this.#context.authorizeRecord(appId, channelId, token);
    this.#follow(recordingId, afterSeq ?? this.#context.events.lastSeq(recordingId));
    return {
      recordingId,
      resumeKey: resumeKeyFor(this.#context.resumeSecret, recordingId),
      channelId,
      phase: (await this.#describe(recordingId))?.phase ?? null,
      lastSeq: this.#context.events.lastSeq(recordingId),
    };
  }

  /** A recording's channel and phase: this node's, or another node's as the cluster knows it. */
  async #describe(recordingId: string): Promise<{ channelId: string; phase: RecordingPhase } | undefined> {
    const status = this.#context.engine.status(recordingId);
    if (status) return status;
    return this.#context.remote?.describe(recordingId);
  }

  async #release({ keepRecordingInBackground, recordingId }: RecorderRequestData<'release'>): Promise<RecorderResponses['release']> {
    if (!keepRecordingInBackground && recordingId) {
      if (!this.#following.has(recordingId)) throw new CodedError(RecordingErrorCode.InvalidOperation, `this recorder does not control ${recordingId}`);
      // Stops recording and uploading (files not yet stored stay in backup): the seed's Release(false).
      if (this.#isRemote(recordingId)) await this.#context.remote!.control(recordingId, 'release', { keepRecordingInBackground, recordingId });
      else await this.#context.engine.release(recordingId);
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
      const channelId = this.#context.events.channelOf(recordingId);
      this.#notify('recordingAttached', { recordingId, resumeKey: resumeKeyFor(this.#context.resumeSecret, recordingId), ...(channelId ? { channelId } : {}) });
    }
    const { entries, complete } = this.#context.events.since(recordingId, afterSeq);
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
