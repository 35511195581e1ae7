import { composite } from './composite';
import type { Benchmark } from './types';

/** In run order. */
export const BENCHMARKS: readonly Benchmark[] = [composite];
