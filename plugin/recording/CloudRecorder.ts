import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { RecordingEvent } from '../../signaling/recordingEvent';
import { notifyObserver, type CloudRecorderObserver } from '../../signaling/recorder/observer';
import { Logger } from '../../server/logger';
import type { PluginContext } from '../../server/plugins/contract';
import type { CloudStorageConfig } from '../storage/cloudStorageConfig';
import { resolveBackendStart } from './backendStart';
import type { RecordingConfig } from './recordingConfig';
import type { RecordingEngine } from './RecordingEngine';

export type { CloudRecorderObserver };

const logger = new Logger('CloudRecorder');

/**
 * ICloudRecorder of the Agora seed, in process: one instance drives at most one recording at a
 * time. Release(true) leaves the recording running on the server (its files still upload);
 * release(false) stops it and its uploads. After release the instance refuses every call.
 */
export class CloudRecorder {
  readonly #engine: RecordingEngine;
  readonly #context: PluginContext;
  readonly #onEvent: (event: RecordingEvent) => void;
  #recordingId: string | undefined;
  /** Callbacks of a recording arrive only for the recordings this instance started. */
  readonly #mine = new Set<string>();
  #released = false;

  constructor(engine: RecordingEngine, context: PluginContext, observer: CloudRecorderObserver) {
    this.#engine = engine;
    this.#context = context;
    this.#onEvent = (event) => {
      if (!this.#mine.has(event.recordingId)) return;
      try {
        notifyObserver(observer, event);
      } catch (error) {
        logger.warn(`observer threw in ${event.type}: ${String(error)}`, { recordingId: event.recordingId });
      }
    };
    engine.eventLog.on('appended', this.#onEvent);
  }

  get recordingId(): string | undefined {
    return this.#recordingId;
  }

  /** StartCloudRecording. Resolves with the recording id once it runs; rejects with the seed's codes. */
  async startCloudRecording(
    appId: string,
    channelName: string,
    token: string,
    uid: string,
    recordingConfig: RecordingConfig,
    storageConfig: CloudStorageConfig,
  ): Promise<string> {
    this.#assertUsable();
    if (this.#recordingId && this.#engine.get(this.#recordingId)?.active) {
      throw new CodedError(RecordingErrorCode.InvalidOperation, 'this recorder is already recording; stop it first');
    }
    const request = await resolveBackendStart(this.#context, this.#engine, { appId, channelName, token, uid, recordingConfig, storageConfig });
    this.#recordingId = undefined;
    const { recordingId, started } = this.#engine.start(request);
    // Ours before its first event (connecting) is appended.
    this.#recordingId = recordingId;
    this.#mine.add(recordingId);
    await started;
    return recordingId;
  }

  /** StopCloudRecording: finalizes the file; uploads follow (onRecordingUploaded). */
  async stopCloudRecording(): Promise<void> {
    this.#assertUsable();
    if (!this.#recordingId) throw new CodedError(RecordingErrorCode.InvalidOperation, 'nothing is being recorded by this recorder');
    await this.#engine.stop(this.#recordingId, 'stopped by backend');
  }

  /**
   * Release. true: the recording goes on recording and uploading on the server without this
   * instance. false (the default, the seed's 停止录制与上传): recording and uploading stop; files
   * not yet stored stay in the server's backup until resumed (RecordingEngine.resumeUploads).
   * Either way the observer hears nothing more.
   */
  async release(keepRecordingInBackground = false): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#engine.eventLog.off('appended', this.#onEvent);
    if (!keepRecordingInBackground && this.#recordingId) await this.#engine.release(this.#recordingId);
  }

  #assertUsable(): void {
    if (this.#released) throw new CodedError(RecordingErrorCode.InvalidOperation, 'this recorder was released');
  }
}
