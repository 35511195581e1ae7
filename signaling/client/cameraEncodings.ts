import type { types as msc } from 'mediasoup-client';

/**
 * How a camera track is sent: simulcast, as mediasoup-demo does — the full picture and its half and
 * quarter, each in three temporal layers (L1T3: 7.5 / 15 / 30 fps decodable) — so the server can
 * give every receiver (and the recorder) the layer its tile needs. A 1280×720 camera sends
 * 320×180, 640×360 and 1280×720.
 */

/** No layer smaller than this many lines: below it a picture is not worth its own stream (libwebrtc agrees). */
const SMALLEST_LAYER_LINES = 180;
const SCALES_SMALLEST_FIRST = [4, 2, 1] as const;

/** Bits per second a VP8 layer gets at most, by its lines: enough for a sharp 30 fps picture, no more. */
function maxBitrateFor(lines: number): number {
  if (lines <= 180) return 200_000;
  if (lines <= 360) return 600_000;
  if (lines <= 720) return 1_500_000;
  return 3_000_000;
}

/**
 * The encodings for a camera picture of `width`×`height`, smallest first (mediasoup's spatial layer
 * order), or undefined when the picture is too small for more than one layer: it is then sent as
 * one plain stream, exactly as a single-layer publication.
 */
export function cameraEncodings(size: { width?: number; height?: number }): msc.RtpEncodingParameters[] | undefined {
  const lines = Math.min(size.width ?? 0, size.height ?? 0);
  const scales = SCALES_SMALLEST_FIRST.filter((scale) => lines / scale >= SMALLEST_LAYER_LINES);
  if (scales.length < 2) return undefined;
  return scales.map((scale) => ({ scaleResolutionDownBy: scale, maxBitrate: maxBitrateFor(lines / scale), scalabilityMode: 'L1T3' }));
}

/**
 * Whether a camera is sent as simulcast when the caller does not say (MediaChannel's and
 * publishCamera's `simulcast` option, the page's `?simulcast=`). The one switch for the default.
 */
export const SIMULCAST_BY_DEFAULT = true;

/** The camera size the SDK asks for when it captures for simulcast: the top layer of the layers above. */
export const CAMERA_CAPTURE: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

/**
 * What the SDK asks the camera for: 1280×720 for simulcast (its three layers need the lines); the
 * browser's default size (640×480) for one stream, which every receiver and the recorder then decode
 * whole.
 */
export function cameraCapture(simulcast: boolean): MediaTrackConstraints | true {
  return simulcast ? CAMERA_CAPTURE : true;
}
