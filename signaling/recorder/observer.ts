import { RecordingErrorCode } from '../errors';
import type { RecordingEvent } from '../recordingEvent';

/**
 * ICloudRecorderObserver of the Agora seed; every callback names the recording. All optional.
 * Shared by the in-process recorder (plugin/recording/CloudRecorder) and the network SDK.
 */
export interface CloudRecorderObserver {
  onRecordingConnecting?(recordingId: string): void;
  onRecordingStarted?(recordingId: string): void;
  onRecordingStopped?(recordingId: string): void;
  onRecorderFailure?(recordingId: string, code: RecordingErrorCode, message: string): void;
  onRecordingUploaded?(recordingId: string, fileName: string): void;
  onRecordingBackuped?(recordingId: string, fileName: string): void;
  onRecordingUploadingProgress?(recordingId: string, progress: number): void;
  onUploaderFailure?(recordingId: string, code: RecordingErrorCode, message: string): void;
  onRecordingFatalError?(recordingId: string, code: RecordingErrorCode): void;
}

/** Calls the observer's callback for one event; a throwing observer is the caller's to catch. */
export function notifyObserver(observer: CloudRecorderObserver, event: RecordingEvent): void {
  const id = event.recordingId;
  switch (event.type) {
    case 'connecting':
      return observer.onRecordingConnecting?.(id);
    case 'started':
      return observer.onRecordingStarted?.(id);
    case 'stopped':
      return observer.onRecordingStopped?.(id);
    case 'recorderFailure':
      return observer.onRecorderFailure?.(id, event.code, event.message);
    case 'uploaded':
      return observer.onRecordingUploaded?.(id, event.fileName);
    case 'backuped':
      return observer.onRecordingBackuped?.(id, event.fileName);
    case 'uploadingProgress':
      return observer.onRecordingUploadingProgress?.(id, event.progress);
    case 'uploaderFailure':
      return observer.onUploaderFailure?.(id, event.code, event.message);
    case 'fatalError':
      return observer.onRecordingFatalError?.(id, event.code ?? RecordingErrorCode.GeneralError);
  }
}
