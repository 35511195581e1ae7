import type { RecordingErrorCode } from '../errors';

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
