import type { Figure } from '../lib/report';
import type { RecorderCluster } from '../lib/recorderCluster';
import type { BenchOptions } from './types';

/**
 * One measurement the `recorders` benchmark takes in its cluster. The measurements share one cluster
 * and run one after another, so each must leave it as it found it (recordings stopped, nodes up).
 */
export interface RecorderMeasurement {
  /** Names its params in the benchmark's JSON. */
  name: string;
  run(cluster: RecorderCluster, options: BenchOptions): Promise<{ params: Record<string, unknown>; figures: Figure[]; notes: string[] }>;
}
