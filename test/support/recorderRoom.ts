import { recordingCost } from '../../plugin/recording/cluster/recordingCost';
import { DEFAULT_RECORDING_CONFIG } from '../../plugin/recording/recordingConfig';

/** What a default composite (audio and video) of `publishers` costs, in the units of recordingCost.ts. */
export function defaultCompositeCost(publishers: number): number {
  return recordingCost({
    recordingMode: 'composite',
    recordingStreamTypes: 'AudioVideo',
    canvas: DEFAULT_RECORDING_CONFIG.transcodingConfig,
    inputs: { audio: publishers, video: publishers },
  });
}

/**
 * recording.capacityUnits with room for one default composite of `publishers`, not for two of them
 * (nor for two of nobody: an empty recording counts as one publisher).
 */
export function roomForOneComposite(publishers: number): number {
  const one = defaultCompositeCost(publishers);
  const capacity = Math.floor(one * 1.5);
  if (2 * defaultCompositeCost(0) <= capacity) throw new Error(`capacity ${capacity} would hold two empty composites`);
  return capacity;
}
