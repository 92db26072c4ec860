import * as tf from '@tensorflow/tfjs-core';
import { memoryHook } from './engram/hook';
import type { EngramMemory } from './engram/memory';
import type { LlamaModel } from './model/llama';

export interface HeadStatistics {
  order: number;
  head: number;
  tableRows: number;
  /** Lookups of this head during training (one per position per batch). */
  lookups: number;
  /** Rows looked up at least once during training. */
  uniqueRows: number;
  /** uniqueRows / tableRows. */
  coverage: number;
  /** Most-hit rows, as [row within the head's table, hits]. */
  topRows: [number, number][];
}

export interface GateStatistics {
  positions: number;
  mean: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  /** Share of positions where the gate is below 0.01 (memory nearly shut). */
  closedShare: number;
}

export interface LayerStatistics {
  layer: number;
  heads: HeadStatistics[];
  gate?: GateStatistics;
}

/** Training hit statistics of every head of every Engram layer. */
export function tableStatistics(memory: EngramMemory, topCount = 5): LayerStatistics[] {
  return memory.hashing.map((layer, l) => {
    const hits = memory.rowHits[l];
    let head = 0;
    const heads: HeadStatistics[] = [];
    memory.shape.orders.forEach((order, o) => {
      layer.primes[o].forEach((prime, k) => {
        const offset = layer.offsets[head];
        let lookups = 0;
        let uniqueRows = 0;
        const top: [number, number][] = [];
        for (let row = 0; row < prime; row++) {
          const count = hits[offset + row];
          if (count === 0) continue;
          lookups += count;
          uniqueRows++;
          if (top.length < topCount || count > top[top.length - 1][1]) {
            top.push([row, count]);
            top.sort((a, b) => b[1] - a[1]);
            if (top.length > topCount) top.pop();
          }
        }
        heads.push({ order, head: k, tableRows: prime, lookups, uniqueRows, coverage: uniqueRows / prime, topRows: top });
        head++;
      });
    });
    return { layer: layer.layer, heads };
  });
}

function percentile(sorted: Float32Array, share: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
}

/** Gate values (one Float32Array per Engram layer, one value per position) for a token sequence. */
export async function gateValues(model: LlamaModel, memory: EngramMemory, ids: number[]): Promise<Float32Array[]> {
  const gates: tf.Tensor[] = [];
  const logits = tf.tidy(() => {
    const rows = memory.rowTensors(memory.lookup([ids], ids.length));
    const hook = memoryHook(memory, rows, { capture: (l, output) => (gates[l] = tf.keep(output.gate)) });
    return model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { hook });
  });
  logits.dispose();
  const values = await Promise.all(gates.map(async (gate) => (await gate.data()) as Float32Array));
  tf.dispose(gates);
  return values;
}

export function gateStatistics(values: Float32Array): GateStatistics {
  const sorted = Float32Array.from(values).sort();
  let sum = 0;
  let closed = 0;
  for (const value of sorted) {
    sum += value;
    if (value < 0.01) closed++;
  }
  return {
    positions: sorted.length,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    p5: percentile(sorted, 0.05),
    p25: percentile(sorted, 0.25),
    p50: percentile(sorted, 0.5),
    p75: percentile(sorted, 0.75),
    p95: percentile(sorted, 0.95),
    closedShare: sorted.length > 0 ? closed / sorted.length : Number.NaN,
  };
}
