import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import type { CloudRecorderObserver } from '../../signaling/recorder/observer';

export type { CloudRecorderObserver };
import { Logger } from '../../server/logger';
import type { PluginContext } from '../../server/plugins/contract';
import { CloudStorageConfig, cloudStorageConfigToTarget } from '../storage/cloudStorageConfig';
import { RecordingConfig, resolveRecordingConfig } from './recordingConfig';
import type { RecordingEngine, RecordingEngineEvents } from './RecordingEngine';

const logger = new Logger('CloudRecorder');

/**
 * ICloudRecorder of the Agora seed, in process: one instance drives at most one recording at a
 * time. Release(true) leaves the recording running on the server (its files still upload);
 * release(false) stops it and its uploads. After release the instance refuses every call.
 */
export class CloudRecorder {
  readonly #engine: RecordingEngine;
  readonly #context: PluginContext;
  readonly #unsubscribe: Array<() => void> = [];
  #recordingId: string | undefined;
  /** Callbacks of a recording arrive only for the recordings this instance started. */
  readonly #mine = new Set<string>();
  #released = false;

  constructor(engine: RecordingEngine, context: PluginContext, observer: CloudRecorderObserver) {
    this.#engine = engine;
    this.#context = context;
    const forward = <E extends keyof RecordingEngineEvents>(event: E, call: (...args: RecordingEngineEvents[E]) => void): void => {
      const listener = (...args: RecordingEngineEvents[E]): void => {
        if (!this.#mine.has(args[0] as string)) return;
        try {
          call(...args);
        } catch (error) {
          logger.warn(`observer threw in ${event}: ${String(error)}`);
        }
      };
      engine.on(event, listener);
      this.#unsubscribe.push(() => engine.off(event, listener));
    };
    forward('connecting', (id) => observer.onRecordingConnecting?.(id));
    forward('started', (id) => observer.onRecordingStarted?.(id));
    forward('stopped', (id) => observer.onRecordingStopped?.(id));
    forward('recorderFailure', (id, code, message) => observer.onRecorderFailure?.(id, code, message));
    forward('uploaded', (id, fileName) => observer.onRecordingUploaded?.(id, fileName));
    forward('backuped', (id, fileName) => observer.onRecordingBackuped?.(id, fileName));
    forward('uploadingProgress', (id, progress) => observer.onRecordingUploadingProgress?.(id, progress));
    forward('uploaderFailure', (id, code, message) => observer.onUploaderFailure?.(id, code, message));
    forward('fatalError', (id, _channelId, code) => observer.onRecordingFatalError?.(id, code));
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
    if (typeof appId !== 'string' || !appId) throw new CodedError(RecordingErrorCode.InvalidParameter, 'appId must be a non-empty string');
    if (typeof channelName !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(channelName)) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, 'channelName must be 1-64 characters of [A-Za-z0-9_.:-]');
    }
    if (typeof uid !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(uid)) throw new CodedError(RecordingErrorCode.InvalidParameter, 'uid must be 1-64 characters of [A-Za-z0-9_.:-]');
    const config = resolveRecordingConfig(recordingConfig);
    const target = cloudStorageConfigToTarget(storageConfig);
    let grant;
    try {
      grant = await this.#context.authorize(appId, channelName, typeof token === 'string' ? token : '');
    } catch (error) {
      throw new CodedError(RecordingErrorCode.ConnectError, `token refused: ${(error as Error).message}`);
    }
    if (!grant.privileges.record) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the token does not grant the record privilege');
    const channel = await this.#context.getOrCreateChannel(channelName, config.channelType);
    // Callbacks for this recording must reach the observer from 'connecting' on; the id is minted
    // inside start(), so claim it from the first event naming this channel.
    const claim = (recordingId: string, channelId: string): void => {
      if (channelId === channelName && !this.#recordingId) {
        this.#recordingId = recordingId;
        this.#mine.add(recordingId);
      }
    };
    this.#recordingId = undefined;
    this.#engine.prependListener('connecting', claim);
    try {
      const recording = await this.#engine.start({ channel, config, target, startedBy: `backend:${uid}` });
      return recording.recordingId;
    } finally {
      this.#engine.off('connecting', claim);
    }
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
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    if (!keepRecordingInBackground && this.#recordingId) await this.#engine.release(this.#recordingId);
  }

  #assertUsable(): void {
    if (this.#released) throw new CodedError(RecordingErrorCode.InvalidOperation, 'this recorder was released');
  }
}
