/**
 * The child's request loop: validates each parent message, drives one Recording, answers every
 * request exactly once and forwards the recording's events. Exits after a stop has been answered, or
 * when the parent goes away (the file survives thanks to robust MP4 muxing / Matroska).
 */
import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { Logger, routeProcessWarnings } from '../../../server/logger';
import { CompositeRecording } from './CompositeRecording';
import { armExitWatchdog } from './exitWatchdog';
import { IndividualRecording } from './IndividualRecording';
import { ChildEventMap, ChildEventName, ChildMessage, DEFAULT_BIND_IP, ParentMessage, parseParentMessage, WireError } from './protocol';
import { Recording } from './Recording';

const logger = new Logger('RecorderChild');

function toWireError(error: unknown, fallback: RecordingErrorCode): WireError {
  if (error instanceof CodedError && (Object.values(RecordingErrorCode) as string[]).includes(error.code)) {
    return { code: error.code as RecordingErrorCode, message: error.message };
  }
  if (error instanceof TypeError) return { code: RecordingErrorCode.InvalidParameter, message: error.message };
  return { code: fallback, message: error instanceof Error ? error.message : String(error) };
}

/** How long an orphaned recorder may take to finalize its files. */
const ORPHAN_STOP_DEADLINE_MS = 5000;
/** Beyond its deadline, an orphan still gets this long to close its pipelines before it is killed. */
const ORPHAN_KILL_GRACE_MS = 4000;
/** How long closing the pipelines may take once the recorder decided to exit. */
const EXIT_KILL_AFTER_MS = 3000;

export class RecorderChild {
  #recording?: Recording;
  #exiting = false;

  run(): void {
    if (!process.send) throw new Error('the recorder child must be forked with an ipc channel');
    routeProcessWarnings();
    process.on('message', (raw) => void this.#onMessage(raw));
    process.on('disconnect', () => {
      // The server died: finalize the files it can no longer ask for (a restarted server uploads
      // them from its manifest), within a bound so an orphan never lingers.
      logger.warn('run() | parent went away: finalizing the recording, then exiting');
      armExitWatchdog(ORPHAN_STOP_DEADLINE_MS + ORPHAN_KILL_GRACE_MS);
      const finalized = this.#recording?.stop(ORPHAN_STOP_DEADLINE_MS) ?? Promise.resolve([]);
      const bound = new Promise((resolve) => setTimeout(resolve, ORPHAN_STOP_DEADLINE_MS + 2000));
      // No parent waits for this exit, and process.exit() can hang for good in a library's exit
      // handlers while a streaming thread holds a lock — it also ends the watchdog's thread first.
      // The files are finalized: nothing is left to clean up that SIGKILL would skip.
      void Promise.race([finalized, bound]).finally(() => {
        this.#recording?.close();
        process.kill(process.pid, 'SIGKILL');
      });
    });
    this.#emit('ready', { pid: process.pid });
  }

  async #onMessage(raw: unknown): Promise<void> {
    let message: ParentMessage;
    try {
      message = parseParentMessage(raw);
    } catch (error) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
      this.#send({ type: 'response', id, ok: false, error: toWireError(error, RecordingErrorCode.InvalidParameter) });
      return;
    }
    try {
      const result = await this.#handle(message);
      this.#send({ type: 'response', id: message.id, ok: true, result }, message.method === 'stop' ? () => this.#exit(0) : undefined);
    } catch (error) {
      const fallback = message.method === 'start' ? RecordingErrorCode.RecorderInitFailed : RecordingErrorCode.RecorderFailed;
      this.#send({ type: 'response', id: message.id, ok: false, error: toWireError(error, fallback) }, message.method === 'stop' ? () => this.#exit(1) : undefined);
    }
  }

  async #handle(message: ParentMessage): Promise<unknown> {
    if (message.method === 'start') {
      if (this.#recording) throw new CodedError(RecordingErrorCode.InvalidOperation, 'already started');
      const { job } = message.params;
      const bindIp = job.bindIp ?? DEFAULT_BIND_IP;
      const recording: Recording = job.mode === 'composite' ? new CompositeRecording(job, bindIp) : new IndividualRecording(job, bindIp);
      recording.on('firstFrame', (inputId) => this.#emit('firstFrame', { inputId }));
      recording.on('error', (text, fatal, inputId) => {
        const data: ChildEventMap['error'] = { code: RecordingErrorCode.RecorderFailed, message: text, fatal };
        if (inputId !== undefined) data.inputId = inputId;
        this.#emit('error', data);
      });
      this.#recording = recording;
      recording.start();
      logger.info(`start() | ${job.mode} recording of ${job.streamTypes} started`);
      return { startedAt: recording.startedAt };
    }
    const recording = this.#recording;
    if (!recording) throw new CodedError(RecordingErrorCode.InvalidOperation, `${message.method} before start`);
    switch (message.method) {
      case 'addInput':
        return recording.addInput(message.params.input);
      case 'removeInput':
        recording.removeInput(message.params.inputId);
        return {};
      case 'setInputPaused':
        recording.setInputPaused(message.params.inputId, message.params.paused);
        return {};
      case 'decodedSize':
        return recording.decodedSize(message.params.inputId) ?? {};
      case 'setLayout':
        recording.setLayout(message.params.layout, message.params.maxResolutionUid);
        return {};
      case 'stop': {
        const files = await recording.stop(message.params.deadlineMs);
        logger.info(`stop() | ${files.length} file(s) finalized`);
        return { files };
      }
    }
  }

  #emit<E extends ChildEventName>(event: E, data: ChildEventMap[E]): void {
    this.#send({ type: 'event', event, data } as ChildMessage);
  }

  /** then: runs once the message is handed to the OS (or at once when the parent is gone). */
  #send(message: ChildMessage, then?: () => void): void {
    if (!process.connected) {
      then?.();
      return;
    }
    process.send!(message, undefined, undefined, () => then?.());
  }

  /** Pipelines go to NULL first: a playing pipeline's bus poll would keep the process alive. */
  #exit(code: number): void {
    if (this.#exiting) return;
    this.#exiting = true;
    armExitWatchdog(EXIT_KILL_AFTER_MS);
    this.#recording?.close();
    if (process.connected) process.disconnect();
    process.exit(code);
  }
}
