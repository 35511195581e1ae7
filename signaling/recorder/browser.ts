/** The recorder SDK for browsers (and runtimes with a global WebSocket). See ./index.ts. */
import { CloudRecorderObserver, CloudRecorderOptions, RemoteCloudRecorder } from './RemoteCloudRecorder';

export * from './CloudRecordingError';
export * from './RemoteCloudRecorder';
export { RECORDER_SOCKET_PATH, RECORDER_PROTOCOL_VERSION } from './protocol';
export { RecordingErrorCode, RECORDING_ERROR_NUMBERS } from '../errors';

export function createCloudRecorderInstance(serverUrl: string, observer: CloudRecorderObserver, options: CloudRecorderOptions = {}): RemoteCloudRecorder {
  return new RemoteCloudRecorder(serverUrl, observer, options);
}
