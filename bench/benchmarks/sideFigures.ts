/** The figures of one side (ours or FFmpeg) of a composite run. */
import { figure, Figure } from '../lib/report';
import type { SideFigures } from './compositeRun';

export function sideFigures(prefix: string, who: string, side: SideFigures, perCoreTarget?: number): Figure[] {
  return [
    figure(`${prefix}.cpuPerRecordingSecond`, `${who}: recorder CPU per recording-second`, side.cpuPerRecordingSecond, 'cpu-s/s'),
    figure(`${prefix}.recordingsPerCore`, `${who}: recordings per core`, 1 / side.cpuPerRecordingSecond, 'recordings/core', perCoreTarget ? { op: '>=', value: perCoreTarget } : undefined),
    figure(`${prefix}.peakRss`, `${who}: peak RSS per recorder process`, side.peakRssMb, 'MB'),
    figure(`${prefix}.realtimeRatio`, `${who}: output duration / wall time`, side.realtimeRatio, 'ratio'),
    figure(`${prefix}.framesDropped`, `${who}: frames dropped (expected − in file)`, side.framesDropped, `frames of ${side.framesExpected}`),
    figure(`${prefix}.tileRepeatShare`, `${who}: tile frames repeated (input late/lost)`, side.tileRepeatShare * 100, '%'),
  ];
}
