import * as tf from '@tensorflow/tfjs-core';
import { memoryHook } from '../engram/hook';
import type { EngramMemory } from '../engram/memory';
import { EngramError } from '../errors';
import type { LlamaModel } from '../model/llama';

/** Gate below this value counts as closed: the memory adds almost nothing at that position. */
export const closedGateThreshold = 0.01;
/** Number of equal-width histogram bins over [0, 1]. */
export const gateHistogramBins = 20;

export interface GateHistogram {
  /** Number of bins. Bin k counts gates in [k / bins, (k + 1) / bins), and the last bin also counts 1. */
  bins: number;
  /** Positions per bin, summing to the number of positions. */
  counts: number[];
}

export interface GateStatistics {
  positions: number;
  mean: number;
  /** Percentiles by linear interpolation between the two nearest sorted values. */
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  /** Share of positions where the gate is below 0.01 (memory nearly shut). */
  closedShare: number;
  histogram: GateHistogram;
}

/**
 * Gate values of a token sequence, one Float32Array per Engram layer with one value per
 * position. A sequence longer than `windowLength` (default: the model's context length) runs as
 * consecutive windows, each hashed and convolved from its own start, as a training window is.
 */
export async function gateValues(model: LlamaModel, memory: EngramMemory, ids: number[], windowLength = model.config.maxPositionEmbeddings): Promise<Float32Array[]> {
  if (!Number.isInteger(windowLength) || windowLength < 1) {
    throw new EngramError('invalid-argument', `Gate window length must be a positive integer, got ${windowLength}.`);
  }
  const values = memory.hashing.map(() => new Float32Array(ids.length));
  for (let start = 0; start < ids.length; start += windowLength) {
    const window = ids.slice(start, start + windowLength);
    const gates = tf.tidy(() => {
      const captured: tf.Tensor2D[] = [];
      const rows = memory.rowTensors(memory.lookup([window], window.length));
      const hook = memoryHook(memory, rows, { capture: (l, output) => (captured[l] = output.gate) });
      // hiddenStates is not wrapped in its own tidy, so the captured gates belong to this one.
      model.hiddenStates(tf.tensor2d([window], [1, window.length], 'int32'), { hook });
      return captured;
    });
    try {
      for (let l = 0; l < gates.length; l++) values[l].set((await gates[l].data()) as Float32Array, start);
    } finally {
      tf.dispose(gates);
    }
  }
  return values;
}

/** Value at `share` (0 to 1) of ascending `sorted`, interpolating linearly between neighbours. */
export function percentile(sorted: ArrayLike<number>, share: number): number {
  const position = share * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** Counts `values` (expected in [0, 1]) into `bins` equal-width bins. Values outside go into the end bins. */
export function gateHistogram(values: ArrayLike<number>, bins = gateHistogramBins): GateHistogram {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(values[i] * bins)));
    counts[bin]++;
  }
  return { bins, counts };
}

/** Mean, percentiles, closed share and histogram of one layer's gate values. */
export function gateStatistics(values: Float32Array): GateStatistics {
  if (values.length === 0) {
    throw new EngramError('invalid-argument', 'Gate statistics need at least one position. Inspect a text that contains at least one token.');
  }
  const sorted = Float32Array.from(values).sort();
  let sum = 0;
  let closed = 0;
  for (const value of sorted) {
    sum += value;
    if (value < closedGateThreshold) closed++;
  }
  return {
    positions: sorted.length,
    mean: sum / sorted.length,
    p5: percentile(sorted, 0.05),
    p25: percentile(sorted, 0.25),
    p50: percentile(sorted, 0.5),
    p75: percentile(sorted, 0.75),
    p95: percentile(sorted, 0.95),
    closedShare: closed / sorted.length,
    histogram: gateHistogram(sorted),
  };
}
