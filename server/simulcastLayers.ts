import type { types as ms } from 'mediasoup';

export interface VideoSize {
  width: number;
  height: number;
}

/** What a producer that did not say its size is taken to send at full size (the SDK's camera). */
export const ASSUMED_VIDEO_SIZE: Readonly<VideoSize> = { width: 1280, height: 720 };

/**
 * How much smaller than the box a layer may be and still count as filling it: drawing a 320×180
 * layer in a 340-pixel box looks the same, and the next layer costs three times the bits.
 */
const UPSCALE_TOLERANCE = 1.1;

/**
 * The picture size of each spatial layer of a simulcast producer, in encoding order (mediasoup's
 * spatial layer index). An encoding without scaleResolutionDownBy is taken to halve per layer
 * below the last, as browsers do by default.
 */
export function layerSizes(encodings: readonly ms.RtpEncodingParameters[], fullSize: VideoSize): VideoSize[] {
  return encodings.map((encoding, index) => {
    const scale = encoding.scaleResolutionDownBy !== undefined && encoding.scaleResolutionDownBy >= 1 ? encoding.scaleResolutionDownBy : 2 ** (encodings.length - 1 - index);
    return { width: Math.round(fullSize.width / scale), height: Math.round(fullSize.height / scale) };
  });
}

/**
 * The smallest layer that fills a box of `box` pixels without upscaling (within the tolerance) in
 * both dimensions — what object-fit: cover needs, and more than enough for contain; the largest
 * layer when none is that big.
 */
export function fitSpatialLayer(layers: readonly VideoSize[], box: VideoSize): number {
  const fits = layers.findIndex((layer) => layer.width * UPSCALE_TOLERANCE >= box.width && layer.height * UPSCALE_TOLERANCE >= box.height);
  return fits === -1 ? Math.max(layers.length - 1, 0) : fits;
}

/** The full-size picture a producer declared at produce (PeerSession keeps it in its appData), or the assumed one. */
export function producerVideoSize(producer: ms.Producer): VideoSize {
  const declared = (producer.appData as { videoSize?: VideoSize }).videoSize;
  return declared ?? ASSUMED_VIDEO_SIZE;
}
