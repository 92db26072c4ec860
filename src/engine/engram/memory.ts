import * as tf from '@tensorflow/tfjs-core';
import type { EngramShape } from '../types';
import { Rng } from '../random';
import { hashSequence } from './hashing';
import { type EngramDenseParams, denseParamNames, engramLayer } from './layer';
import { hashMultipliers } from './multipliers';
import { headOffsets, tablePrimes } from './primes';
import { ShardedTable } from './table';

/** Hash geometry of one Engram layer, stored in a pack so loading never recomputes it. */
export interface LayerHashing {
  /** 0-based decoder block. */
  layer: number;
  /** Three odd 64-bit multipliers, as decimal strings. */
  multipliers: string[];
  /** Table size of each head, [orderIndex][head]. */
  primes: number[][];
  /** Row offset of each head in the layer's table, order-2 heads first. */
  offsets: number[];
  /** Rows of the layer's table (sum of its primes). */
  rows: number;
}

/** Hashing inputs shared by all layers: the tokenizer compression and the canonical pad id. */
export interface CompressionInfo {
  canonical: Int32Array;
  size: number;
  padCanonicalId: number;
}

/** Row indices for a batch: per layer, (batch * time * heads) absolute rows into its table. */
export interface BatchLookup {
  batch: number;
  time: number;
  rows: Int32Array[];
}

export class EngramMemory {
  readonly heads: number;
  readonly memoryWidth: number;
  /** Lookups per table row during training, per layer; inspection shows them. */
  readonly rowHits: Float64Array[];
  private readonly multiplierValues: bigint[][];

  constructor(
    readonly shape: EngramShape,
    readonly hiddenSize: number,
    readonly compression: CompressionInfo,
    readonly hashing: LayerHashing[],
    readonly tables: ShardedTable[],
    readonly dense: EngramDenseParams[],
    rowHits?: Float64Array[],
  ) {
    this.rowHits = rowHits ?? hashing.map((layer) => new Float64Array(layer.rows));
    this.heads = shape.orders.length * shape.headsPerOrder;
    this.memoryWidth = this.heads * shape.headDim;
    this.multiplierValues = hashing.map((layer) => layer.multipliers.map((value) => BigInt(value)));
  }

  /** Creates a pack in its initial state, which leaves the model's output unchanged. */
  static initialise(shape: EngramShape, hiddenSize: number, compression: CompressionInfo): EngramMemory {
    const hashing = computeHashing(shape, compression.size);
    const rng = new Rng(shape.seed);
    const tables = hashing.map((layer) => {
      const table = new ShardedTable(layer.rows, shape.headDim);
      table.fill(() => 0.02 * rng.normal());
      return table;
    });
    const memoryWidth = shape.orders.length * shape.headsPerOrder * shape.headDim;
    const dense = hashing.map(() => {
      const keyValues = new Float32Array(memoryWidth * hiddenSize);
      for (let i = 0; i < keyValues.length; i++) keyValues[i] = 0.02 * rng.normal();
      return {
        valueProjection: tf.zeros([memoryWidth, hiddenSize]) as tf.Tensor2D,
        keyProjection: tf.tensor2d(keyValues, [memoryWidth, hiddenSize]),
        queryNorm: tf.ones([hiddenSize]) as tf.Tensor1D,
        keyNorm: tf.ones([hiddenSize]) as tf.Tensor1D,
        convNorm: tf.ones([hiddenSize]) as tf.Tensor1D,
        convWeights: tf.zeros([4, hiddenSize]) as tf.Tensor2D,
      };
    });
    return new EngramMemory(shape, hiddenSize, compression, hashing, tables, dense);
  }

  /** Index of `block` among the Engram layers, or -1. */
  layerIndex(block: number): number {
    return this.shape.layers.indexOf(block);
  }

  /** Canonical ids of raw token ids; ids beyond the compression table map to themselves offset past it. */
  canonicalIds(rawIds: ArrayLike<number>): Int32Array {
    const out = new Int32Array(rawIds.length);
    const table = this.compression.canonical;
    for (let i = 0; i < rawIds.length; i++) {
      const id = rawIds[i];
      out[i] = id >= 0 && id < table.length ? table[id] : this.compression.padCanonicalId;
    }
    return out;
  }

  /**
   * Hashes each sequence on its own (so right padding never changes a real position) and
   * returns absolute table rows. `sequences` must all have length `time`.
   */
  lookup(sequences: ArrayLike<number>[], time: number): BatchLookup {
    const batch = sequences.length;
    const heads = this.heads;
    const rows = this.hashing.map(() => new Int32Array(batch * time * heads));
    for (let b = 0; b < batch; b++) {
      const canonical = this.canonicalIds(sequences[b]);
      for (let l = 0; l < this.hashing.length; l++) {
        const layer = this.hashing[l];
        const indices = hashSequence(canonical, this.compression.padCanonicalId, this.multiplierValues[l], layer.primes);
        const out = rows[l];
        const base = b * time * heads;
        for (let i = 0; i < time * heads; i++) out[base + i] = indices[i] + layer.offsets[i % heads];
      }
    }
    return { batch, time, rows };
  }

  /** Copies the looked-up rows of layer `l` into a (batch * time, heads * headDim) array. */
  gatherRows(l: number, rows: Int32Array): Float32Array {
    const width = this.shape.headDim;
    const out = new Float32Array(rows.length * width);
    const table = this.tables[l];
    for (let i = 0; i < rows.length; i++) table.readRow(rows[i], out, i * width);
    return out;
  }

  /** Backend tensors (batch, time, memoryWidth) of the gathered rows, one per layer. */
  rowTensors(lookup: BatchLookup): tf.Tensor3D[] {
    return lookup.rows.map((rows, l) => tf.tensor3d(this.gatherRows(l, rows), [lookup.batch, lookup.time, this.memoryWidth]));
  }

  /**
   * Applies layer `l` to the residual stream. `dense` overrides the stored parameters (the
   * trainer passes the tensors it differentiates).
   */
  apply(l: number, hidden: tf.Tensor3D, rows: tf.Tensor3D, dense: EngramDenseParams = this.dense[l], history?: tf.Tensor3D) {
    return engramLayer(hidden, rows, dense, history);
  }

  /** Returns all dense tensors in a fixed order: layer by layer, then `denseParamNames`. */
  denseTensors(): tf.Tensor[] {
    return this.dense.flatMap((params) => denseParamNames.map((name) => params[name] as tf.Tensor));
  }

  /** Replaces the dense parameters from a flat list in `denseTensors` order, disposing the old ones. */
  setDenseTensors(tensors: tf.Tensor[]): void {
    let i = 0;
    for (const params of this.dense) {
      for (const name of denseParamNames) {
        const old = params[name];
        (params as unknown as Record<string, tf.Tensor>)[name] = tensors[i++];
        if (old !== params[name]) old.dispose();
      }
    }
  }

  get tableBytes(): number {
    return this.tables.reduce((sum, table) => sum + table.bytes, 0);
  }

  dispose(): void {
    tf.dispose(this.denseTensors());
  }
}

/** Multipliers, primes and head offsets for every Engram layer of `shape`. */
export function computeHashing(shape: EngramShape, compressedVocabSize: number): LayerHashing[] {
  const primes = tablePrimes(shape.layers, shape.orders, shape.headsPerOrder, shape.rowsPerHead);
  return shape.layers.map((layer, l) => {
    const layerPrimes = primes[l];
    const offsets = headOffsets(layerPrimes);
    const rows = layerPrimes.flat().reduce((sum, p) => sum + p, 0);
    const multipliers = hashMultipliers(shape.seed, layer, compressedVocabSize, Math.max(...shape.orders)).map((m) => m.toString());
    return { layer, multipliers, primes: layerPrimes, offsets, rows };
  });
}
