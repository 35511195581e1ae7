import { avsync } from './avsync';
import { cluster } from './cluster';
import { composite } from './composite';
import { cost } from './cost';
import { individual } from './individual';
import { recorders } from './recorders';
import { scaling } from './scaling';
import { startLatency } from './startLatency';
import type { Benchmark } from './types';
import { upload } from './upload';

/** In run order. */
export const BENCHMARKS: readonly Benchmark[] = [composite, scaling, individual, cost, startLatency, upload, avsync, cluster, recorders];
