/**
 * The client SDK: what an app needs to join a channel, publish and receive media, and drive the
 * channel's recording. Also bundled for browsers as dist/web/assets/confrec-client.js (global
 * `ConfrecClient`) by scripts/build-web.js.
 */
export { MediaChannel } from './MediaChannel';
export type {
  ConnectionChange,
  ConnectionState,
  LocalPublication,
  MediaChannelEvents,
  MediaChannelJoinParam,
  MediaChannelOptions,
  PropChangeParam,
  ReconnectOptions,
  RecordState,
  MediaSource,
} from './MediaChannel';
export { RemotePeer } from './RemotePeer';
export type { RemoteTrack } from './RemotePeer';
export { CAMERA_CAPTURE, cameraCapture, SIMULCAST_BY_DEFAULT } from './cameraEncodings';
export { MediaAccessError, MediaAccessErrorCode, getScreenTrack, getUserTracks } from './localMedia';
export { CodedError, SignalingErrorCode, RecordingErrorCode } from '../errors';
export type { ErrorCode } from '../errors';
export { buildLocalRecordParam, buildQiniuRecordParam, buildS3RecordParam } from '../recordParam';
