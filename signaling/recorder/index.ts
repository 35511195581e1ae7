/**
 * The recorder SDK for Node: the Agora seed's CreateCloudRecorderInstance over the network.
 *
 *   const recorder = createCloudRecorderInstance('http://media:8080', {
 *     onRecordingStarted: (id) => …, onRecordingUploaded: (id, fileName) => …,
 *   });
 *   const id = await recorder.startCloudRecording(appId, channel, token, uid, recordingConfig, storageConfig);
 *   await recorder.stopCloudRecording();
 *   await recorder.release();            // stops recording and uploading (files not yet stored wait in
 *                                        // the server's backup); release(true): both go on without us
 *
 * Browsers: import from './browser' (uses the global WebSocket).
 */
import WebSocket from 'ws';
import type { WebSocketLike } from '../SignalingClient';
import { CloudRecorderObserver, CloudRecorderOptions, RemoteCloudRecorder } from './RemoteCloudRecorder';

export * from './CloudRecordingError';
export * from './RemoteCloudRecorder';
export { RECORDER_SOCKET_PATH, RECORDER_PROTOCOL_VERSION } from './protocol';
export type { RecorderEventName, RecordingEventNotification } from './protocol';
export { RecordingErrorCode, RECORDING_ERROR_NUMBERS } from '../errors';

export function createCloudRecorderInstance(serverUrl: string, observer: CloudRecorderObserver, options: CloudRecorderOptions = {}): RemoteCloudRecorder {
  return new RemoteCloudRecorder(serverUrl, observer, {
    webSocketFactory: (url) => new WebSocket(url, { maxPayload: 16 * 1024 * 1024 }) as unknown as WebSocketLike,
    ...options,
  });
}
