/**
 * Camera, microphone and screen capture with errors a person can act on. Browsers report these as
 * DOMExceptions whose names differ subtly; they are mapped to one small set of codes here.
 */

export const MediaAccessErrorCode = {
  /** The user (or a policy) refused access. */
  PermissionDenied: 'PERMISSION_DENIED',
  /** No such device (no camera plugged in). */
  DeviceNotFound: 'DEVICE_NOT_FOUND',
  /** The device exists but another application holds it. */
  DeviceBusy: 'DEVICE_BUSY',
  /** No capture API here: not a browser, or a page served over plain http from another host. */
  NotSupported: 'NOT_SUPPORTED',
} as const;
export type MediaAccessErrorCode = (typeof MediaAccessErrorCode)[keyof typeof MediaAccessErrorCode];

export class MediaAccessError extends Error {
  readonly code: MediaAccessErrorCode;
  readonly device: 'camera' | 'microphone' | 'camera and microphone' | 'screen';

  constructor(code: MediaAccessErrorCode, device: MediaAccessError['device'], message: string) {
    super(message);
    this.name = 'MediaAccessError';
    this.code = code;
    this.device = device;
  }
}

function toMediaAccessError(error: unknown, device: MediaAccessError['device']): MediaAccessError {
  const name = (error as { name?: string })?.name ?? '';
  const detail = (error as Error)?.message ?? String(error);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return new MediaAccessError(MediaAccessErrorCode.PermissionDenied, device, `access to the ${device} was denied (${detail})`);
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return new MediaAccessError(MediaAccessErrorCode.DeviceNotFound, device, `no ${device} was found (${detail})`);
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new MediaAccessError(MediaAccessErrorCode.DeviceBusy, device, `the ${device} could not be started; another application may be using it (${detail})`);
    default:
      return new MediaAccessError(MediaAccessErrorCode.NotSupported, device, `cannot capture the ${device}: ${detail}`);
  }
}

function mediaDevices(device: MediaAccessError['device']): MediaDevices {
  const devices = (globalThis as { navigator?: Navigator }).navigator?.mediaDevices;
  if (!devices) {
    // Browsers hide mediaDevices outside secure contexts (https, or http on localhost).
    throw new MediaAccessError(MediaAccessErrorCode.NotSupported, device, 'capture is only available on https:// or http://localhost pages');
  }
  return devices;
}

/** Camera and/or microphone tracks; rejects with a MediaAccessError. */
export async function getUserTracks(options: { audio?: boolean | MediaTrackConstraints; video?: boolean | MediaTrackConstraints }): Promise<MediaStreamTrack[]> {
  const device = options.audio && options.video ? 'camera and microphone' : options.video ? 'camera' : 'microphone';
  const devices = mediaDevices(device);
  try {
    const stream = await devices.getUserMedia({ audio: options.audio ?? false, video: options.video ?? false });
    return stream.getTracks();
  } catch (error) {
    throw toMediaAccessError(error, device);
  }
}

/** A screen (or window, or tab) track chosen by the user; rejects with a MediaAccessError. */
export async function getScreenTrack(): Promise<MediaStreamTrack> {
  const devices = mediaDevices('screen');
  if (typeof devices.getDisplayMedia !== 'function') {
    throw new MediaAccessError(MediaAccessErrorCode.NotSupported, 'screen', 'this browser cannot share a screen');
  }
  try {
    const stream = await devices.getDisplayMedia({ video: true, audio: false });
    return stream.getVideoTracks()[0]!;
  } catch (error) {
    throw toMediaAccessError(error, 'screen');
  }
}
