/**
 * The recorder SDK for Node: the Agora seed's CreateCloudRecorderInstance over the network.
 *
 *   const recorder = createCloudRecorderInstance('https://media:8080', {
 *     onRecordingStarted: (id) => …, onRecordingUploaded: (id, fileName) => …,
 *   }, { tls: { ca: fs.readFileSync('server-cert.pem') } });   // only for a self-signed server
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
export type { RecordingEvent, RecordingEventType } from '../recordingEvent';
export { RecordingErrorCode, RECORDING_ERROR_NUMBERS } from '../errors';

export interface NodeCloudRecorderOptions extends CloudRecorderOptions {
  /**
   * For https:// / wss:// servers: `ca` trusts a certificate the system does not (a server's
   * self-signed `var/tls/self-signed-cert.pem`). Verification stays on unless
   * `rejectUnauthorized: false` is given explicitly.
   */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
}

export function createCloudRecorderInstance(serverUrl: string, observer: CloudRecorderObserver, options: NodeCloudRecorderOptions = {}): RemoteCloudRecorder {
  const { tls, ...rest } = options;
  return new RemoteCloudRecorder(serverUrl, observer, {
    webSocketFactory: (url) => new WebSocket(url, { maxPayload: 16 * 1024 * 1024, ...tls }) as unknown as WebSocketLike,
    ...rest,
  });
}
