import WebSocket from 'ws';
import { createCloudRecorderInstance, type RecordingEventNotification, type RemoteCloudRecorder } from '../../signaling/recorder/index';
import type { WebSocketLike } from '../../signaling/SignalingClient';

/**
 * The recorder SDK connected to one server, in this process: `callbacks` are its observer's calls,
 * in order; `wire` the recordingEvent notifications its socket received, before the SDK's own
 * de-duplication by seq, so a repeat sent by the server shows.
 */
export type WatchedRecorderSdk = {
  recorder: RemoteCloudRecorder;
  callbacks: { name: string; recordingId: string; args: unknown[] }[];
  wire: RecordingEventNotification[];
};

export function connectWatchedSdk(server: { url: string }): WatchedRecorderSdk {
  const sdk: Omit<WatchedRecorderSdk, 'recorder'> = { callbacks: [], wire: [] };
  const on = (name: string) => (recordingId: string, ...args: unknown[]) => void sdk.callbacks.push({ name, recordingId, args });
  const recorder = createCloudRecorderInstance(
    server.url,
    {
      onRecordingConnecting: on('connecting'),
      onRecordingStarted: on('started'),
      onRecordingStopped: on('stopped'),
      onRecorderFailure: on('recorderFailure'),
      onRecordingUploaded: on('uploaded'),
      onRecordingBackuped: on('backuped'),
      onRecordingUploadingProgress: on('uploadingProgress'),
      onUploaderFailure: on('uploaderFailure'),
      onRecordingFatalError: on('fatalError'),
    },
    {
      webSocketFactory: (url) => {
        const socket = new WebSocket(url);
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { notification?: string; data?: RecordingEventNotification };
          if (message.notification === 'recordingEvent' && message.data) sdk.wire.push(message.data);
        });
        return socket as unknown as WebSocketLike;
      },
    },
  );
  return Object.assign(sdk, { recorder });
}
