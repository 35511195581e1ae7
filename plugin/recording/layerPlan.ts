/**
 * What each video input of a recording should receive, from what the canvas shows: a composite
 * decodes only the layer that fills its tile, at the canvas's frame rate, and nothing of a tile the
 * layout does not draw. Pure (the same tiles as the recorder's CompositeRecording: users in the order
 * of their first video input, that input is their tile), so it is unit-tested alone.
 */
import { computeLayout, type MixedVideoLayout } from './layout';
import type { RecordingMode } from './recorder/protocol';
import type { VideoStreamType } from './recordingConfig';
import { pickLayers, type PreferredLayers, type VideoLayers } from './media/videoLayers';

export interface PlannedVideoInput {
  producerId: string;
  uid: string;
  /** The producer's layers; undefined: one layer, nothing to pick. */
  layers?: VideoLayers;
}

export interface LayerPlanSettings {
  mode: RecordingMode;
  canvas: { width: number; height: number; fps: number };
  layout: MixedVideoLayout;
  maxResolutionUid?: string;
  /** The seed's videoStreamType: Low = the small stream; High = fitted to the tile. */
  videoStreamType: VideoStreamType;
}

export interface InputPlan {
  /** false: the layout does not draw it, so it is not sent at all. */
  shown: boolean;
  /** undefined: leave the layers as opened (no layers, or a per-participant recording). */
  layers?: PreferredLayers;
}

/** The plan of every video input, by producerId, in the order given (the order they were wired in). */
export function planVideoInputs(settings: LayerPlanSettings, inputs: readonly PlannedVideoInput[]): Map<string, InputPlan> {
  const plans = new Map<string, InputPlan>();
  // Per-participant files keep what was sent: the layer openInput asked for, every frame of it.
  if (settings.mode !== 'composite') {
    for (const input of inputs) plans.set(input.producerId, { shown: true });
    return plans;
  }
  const firstOfUid = new Map<string, string>();
  for (const input of inputs) if (!firstOfUid.has(input.uid)) firstOfUid.set(input.uid, input.producerId);
  const tiles = new Map(computeLayout(settings.canvas, settings.layout, [...firstOfUid.keys()], settings.maxResolutionUid).map((tile) => [tile.uid, tile]));
  for (const input of inputs) {
    const tile = firstOfUid.get(input.uid) === input.producerId ? tiles.get(input.uid) : undefined;
    if (!tile) {
      plans.set(input.producerId, { shown: false });
      continue;
    }
    const fitted = settings.videoStreamType === 'High' ? tile : undefined;
    plans.set(input.producerId, { shown: true, ...(input.layers ? { layers: pickLayers(input.layers, fitted, settings.canvas.fps) } : {}) });
  }
  return plans;
}
