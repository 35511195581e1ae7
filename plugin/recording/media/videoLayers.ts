/**
 * The layers a simulcast or SVC video producer sends, and which of them a composite tile needs.
 * Pure: no mediasoup objects here (the producer's parameters come in as plain data), so the choice is
 * unit-tested alone.
 *
 * What the RTP parameters do not say, and what is assumed instead:
 * - the top layer's size: the producer's appData `{ width, height }` when its publisher says so,
 *   else DEFAULT_TOP_LAYER (what browsers send a camera at: mediasoup-demo's 1280×720 ladder);
 * - each lower simulcast layer's size: top ÷ its encoding's scaleResolutionDownBy, else ÷ 2 per
 *   step down (the browsers' default ladder); SVC spatial layers halve per step (L3T3, S3T3);
 * - the top temporal layer's frame rate: the appData's `frameRate`, else DEFAULT_TOP_FPS; each
 *   temporal layer below it halves the rate (the L1T2/L1T3 patterns WebRTC uses).
 * A wrong guess costs quality (a layer a little small) or CPU (one too large), never the tile.
 */

export interface LayerSize {
  width: number;
  height: number;
}

export interface VideoLayers {
  /** Each spatial layer's size, lowest first (index = mediasoup's spatialLayer). */
  spatial: LayerSize[];
  /** Temporal layers in each spatial layer (1: none). */
  temporalLayers: number;
  /** Frame rate of the top temporal layer. */
  topFps: number;
}

export interface PreferredLayers {
  spatialLayer: number;
  temporalLayer: number;
}

/** What a producer's parameters say of its layers (mediasoup's RtpEncodingParameters, in part). */
export interface LayeredEncoding {
  scaleResolutionDownBy?: number;
  scalabilityMode?: string;
}

export const DEFAULT_TOP_LAYER: Readonly<LayerSize> = Object.freeze({ width: 1280, height: 720 });
export const DEFAULT_TOP_FPS = 30;

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** `L1T3` → { spatial: 1, temporal: 3 }; `S3T3_KEY` → { spatial: 3, temporal: 3 }; absent → 1, 1. */
export function parseScalabilityMode(mode: string | undefined): { spatial: number; temporal: number } {
  const match = /^[LS]([1-9]\d?)T([1-9]\d?)/.exec(mode ?? '');
  return match ? { spatial: Number(match[1]), temporal: Number(match[2]) } : { spatial: 1, temporal: 1 };
}

/**
 * The layers of a video producer with these encodings, or undefined when it has one layer only (then
 * there is nothing to choose). `top`: `width`, `height` (and `frameRate`) of its full-size picture,
 * when its publisher declared them (produce's videoSize).
 */
export function describeLayers(encodings: readonly LayeredEncoding[], declared: { width?: unknown; height?: unknown; frameRate?: unknown } = {}): VideoLayers | undefined {
  if (encodings.length === 0) return undefined;
  const width = positive(declared.width);
  const height = positive(declared.height);
  const top = width && height ? { width, height } : DEFAULT_TOP_LAYER;
  const topFps = positive(declared.frameRate) ?? DEFAULT_TOP_FPS;
  const mode = parseScalabilityMode(encodings[0]!.scalabilityMode);
  const scaled = (factor: number): LayerSize => ({ width: Math.round(top.width / factor), height: Math.round(top.height / factor) });
  let spatial: LayerSize[];
  if (encodings.length > 1) {
    const steps = encodings.length - 1;
    // Scale factors are relative to the full source; the top encoding's own factor is usually 1.
    const factors = encodings.map((encoding, index) => positive(encoding.scaleResolutionDownBy) ?? 2 ** (steps - index));
    const topFactor = factors[steps]!;
    spatial = factors.map((factor) => scaled(factor / topFactor));
  } else {
    spatial = Array.from({ length: mode.spatial }, (_, index) => scaled(2 ** (mode.spatial - 1 - index)));
  }
  if (spatial.length === 1 && mode.temporal === 1) return undefined;
  return { spatial, temporalLayers: mode.temporal, topFps };
}

/**
 * The smallest spatial layer at least as large as `tile` in both dimensions (the recorder crops a
 * layer to the tile's shape, then scales, so a layer that covers the tile either way is never
 * scaled up); the top layer when none is. `tile` undefined: the lowest layer (the seed's Low stream).
 * Temporal: the lowest layer whose frame rate reaches `fps`; the top one when none does.
 */
export function pickLayers(layers: VideoLayers, tile: LayerSize | undefined, fps: number): PreferredLayers {
  const top = layers.spatial.length - 1;
  const fits = tile ? layers.spatial.findIndex((size) => size.width >= tile.width && size.height >= tile.height) : 0;
  const spatialLayer = fits < 0 ? top : fits;
  let temporalLayer = layers.temporalLayers - 1;
  for (let layer = 0; layer < layers.temporalLayers; layer++) {
    const rate = layers.topFps / 2 ** (layers.temporalLayers - 1 - layer);
    // A little slack: 29.97 fps cameras still serve a 30 fps canvas from their top layer.
    if (rate >= fps * 0.98) {
      temporalLayer = layer;
      break;
    }
  }
  return { spatialLayer, temporalLayer };
}
