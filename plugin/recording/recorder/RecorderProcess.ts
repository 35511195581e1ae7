/**
 * Parent-side handle of one recorder child process. Typed methods over the IPC protocol, a deadline on
 * everything, and a stop() that never hangs: past its deadline the child is SIGKILLed and the files
 * already on disk (robust MP4 / Matroska, readable after a kill) are returned anyway.
 */
import { recordedFilesOnDisk } from './filesOnDisk';
import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { MixedVideoLayout } from '../layout';
import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { LOG_BINDINGS_ENV, Logger } from '../../../server/logger';
import { TypedEmitter } from '../../../server/TypedEmitter';
import {
  ChildMessage,
  InputPorts,
  parseChildMessage,
  RecordedFile,
  RecorderInput,
  RecorderJob,
  RequestMap,
  RequestMethod,
} from './protocol';

const logger = new Logger('RecorderProcess');

export interface RecorderProcessOptions {
  /** Child start-up (GStreamer load) + start request. Default 15000. */
  startTimeoutMs?: number;
  /** Any other request. Default 10000. */
  requestTimeoutMs?: number;
  /** What the child gets to finalize its files; the parent kills it this long plus killGraceMs later. Default 10000. */
  stopDeadlineMs?: number;
  killGraceMs?: number;
}

export interface DiedInfo {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export type RecorderProcessEvents = {
  /** A video input decoded its first frame (audio: first sample): stop requesting key frames. */
  firstFrame: [inputId: string];
  /** A failure reported by the child. fatal: the file is no longer being written; stop or kill. */
  failure: [error: CodedError, fatal: boolean, inputId?: string];
  /** The child ended without being asked to. The files written so far are on disk. */
  died: [code: RecordingErrorCode, info: DiedInfo];
};

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: CodedError) => void;
  timer: NodeJS.Timeout;
}

/** The child entry sits beside this file in whatever directory tsc emitted to. */
const CHILD_ENTRY = path.join(__dirname, 'main.js');

export class RecorderProcess extends TypedEmitter<RecorderProcessEvents> {
  readonly job: RecorderJob;
  readonly #child: ChildProcess;
  readonly #log: Logger;
  readonly #options: Required<RecorderProcessOptions>;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<DiedInfo>;
  #nextId = 1;
  #startedAt = 0;
  #stopping?: Promise<RecordedFile[]>;
  #killedByUs = false;
  #closed = false;

  /** Forks the child, waits for it to load GStreamer and start the job. Rejects with RecorderInitFailed. */
  static async spawn(job: RecorderJob, options: RecorderProcessOptions = {}): Promise<RecorderProcess> {
    // The child checks the job at its IPC entry (InvalidParameter naming the field); the types hold it here.
    const recorder = new RecorderProcess(job, options);
    try {
      await recorder.#ready(recorder.#options.startTimeoutMs);
      const { startedAt } = await recorder.#request('start', { job }, recorder.#options.startTimeoutMs);
      recorder.#startedAt = startedAt;
      return recorder;
    } catch (error) {
      recorder.close();
      const coded = error instanceof CodedError ? error : new CodedError(RecordingErrorCode.RecorderInitFailed, String(error));
      throw coded.code === RecordingErrorCode.InvalidParameter ? coded : new CodedError(RecordingErrorCode.RecorderInitFailed, coded.message);
    }
  }

  private constructor(job: RecorderJob, options: RecorderProcessOptions) {
    super();
    this.job = job;
    this.#log = logger.child({ recordingId: job.recordingId });
    this.#options = {
      startTimeoutMs: options.startTimeoutMs ?? 15000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10000,
      stopDeadlineMs: options.stopDeadlineMs ?? 10000,
      killGraceMs: options.killGraceMs ?? 3000,
    };
    this.#child = fork(CHILD_ENTRY, [], {
      // The child writes its own log lines to the inherited stderr; each carries the recording's id.
      env: {
        ...process.env,
        [LOG_BINDINGS_ENV]: JSON.stringify({ recordingId: job.recordingId }),
      },
      // The parent's loader flags (test runners, inspectors) are not the child's business.
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.#child.on('message', (raw) => this.#onMessage(raw));
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
    });
    void this.#exited.then((info) => this.#onExit(info));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Date.now() in the child when the recording started (offset 0 of every file). */
  get startedAt(): number {
    return this.#startedAt;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async addInput(input: RecorderInput): Promise<InputPorts> {
    return this.#request('addInput', { input });
  }

  async removeInput(inputId: string): Promise<void> {
    await this.#request('removeInput', { inputId });
  }

  async setInputPaused(inputId: string, paused: boolean): Promise<void> {
    await this.#request('setInputPaused', { inputId, paused });
  }

  async setLayout(layout: MixedVideoLayout, maxResolutionUid?: string): Promise<void> {
    await this.#request('setLayout', maxResolutionUid === undefined ? { layout } : { layout, maxResolutionUid });
  }

  /** The size of the last frame a video input decoded (undefined: none yet, or not decoded at all). */
  async decodedSize(inputId: string): Promise<{ width: number; height: number } | undefined> {
    const { width, height } = await this.#request('decodedSize', { inputId });
    return width && height ? { width, height } : undefined;
  }

  /**
   * Finalizes and returns the files. Never hangs: after stopDeadlineMs + killGraceMs the child is
   * killed and whatever is on disk is returned. Idempotent (a second call gets the same promise).
   */
  stop(): Promise<RecordedFile[]> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** SIGKILL now (no finalization; robust muxing keeps the file readable). */
  kill(): void {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#killedByUs = true;
    this.#child.kill('SIGKILL');
  }

  /** Idempotent: kills a live child, rejects pending requests. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.kill();
    this.#rejectAll(new CodedError(RecordingErrorCode.InvalidOperation, 'recorder closed'));
  }

  async #stop(): Promise<RecordedFile[]> {
    const deadline = this.#options.stopDeadlineMs;
    try {
      const { files } = await this.#request('stop', { deadlineMs: deadline }, deadline + this.#options.killGraceMs);
      await this.#waitExit(this.#options.killGraceMs);
      return files;
    } catch (error) {
      this.#log.warn(`stop() | ${(error as Error).message}; killing the child and keeping the files on disk`);
      this.kill();
      await this.#exited;
      return this.#filesOnDisk();
    } finally {
      this.#closed = true;
    }
  }

  async #waitExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.kill();
      await this.#exited;
    }
  }

  /** What a killed child leaves: the files its job names, whether finalized or not. */
  #filesOnDisk(): RecordedFile[] {
    return recordedFilesOnDisk(this.job);
  }

  #ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new CodedError(RecordingErrorCode.RecorderInitFailed, `child not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (raw: unknown): void => {
        if ((raw as { type?: string; event?: string })?.event === 'ready') {
          cleanup();
          resolve();
        }
      };
      const onExit = (): void => {
        cleanup();
        reject(new CodedError(RecordingErrorCode.RecorderInitFailed, 'child exited during start-up'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        this.#child.off('exit', onExit);
      };
      this.#child.on('message', onMessage);
      this.#child.once('exit', onExit);
    });
  }

  #request<M extends RequestMethod>(method: M, params: RequestMap[M][0], timeoutMs = this.#options.requestTimeoutMs): Promise<RequestMap[M][1]> {
    if (this.#closed || !this.#child.connected) {
      return Promise.reject(new CodedError(RecordingErrorCode.InvalidOperation, `${method}: recorder is closed`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CodedError(RecordingErrorCode.RecorderFailed, `${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (result: unknown) => void, reject, timer });
      this.#child.send({ id, method, params });
    });
  }

  #onMessage(raw: unknown): void {
    let message: ChildMessage;
    try {
      message = parseChildMessage(raw);
    } catch (error) {
      this.#log.error(`#onMessage() | malformed message from child: ${(error as Error).message}`);
      return;
    }
    if (message.type === 'response') {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new CodedError(message.error.code, message.error.message));
      return;
    }
    switch (message.event) {
      case 'ready':
        break;
      case 'firstFrame':
        this.safeEmit('firstFrame', message.data.inputId);
        break;
      case 'error':
        this.safeEmit('failure', new CodedError(message.data.code, message.data.message), message.data.fatal, message.data.inputId);
        break;
    }
  }

  #onExit(info: DiedInfo): void {
    this.#rejectAll(new CodedError(RecordingErrorCode.RecorderFailed, `recorder exited (code ${info.exitCode}, signal ${info.signal})`));
    const expected = this.#killedByUs || this.#stopping !== undefined;
    if (!expected && this.#startedAt > 0) {
      this.#log.error(`#onExit() | recorder died (code ${info.exitCode}, signal ${info.signal})`);
      this.safeEmit('died', RecordingErrorCode.RecorderFailed, info);
    }
    this.#closed = true;
  }

  #rejectAll(error: CodedError): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }
}
