import * as tf from '@tensorflow/tfjs-core';
import type { BlockEntryHook } from '../model/llama';
import { convHistory, type EngramDenseParams, type EngramLayerOutput } from './layer';
import type { EngramMemory } from './memory';

/** Per-sequence state that incremental decoding carries between forward calls. */
export interface MemoryDecodeState {
  /** Raw token ids seen so far, per sequence (only the last two matter for hashing). */
  ids: number[][];
  /** Last `convHistory` convolution inputs per Engram layer, (batch, convHistory, d). */
  history: (tf.Tensor3D | undefined)[];
}

export interface MemoryHookOptions {
  /** Dense parameters to use instead of the stored ones (the trainer differentiates these). */
  dense?: EngramDenseParams[];
  state?: MemoryDecodeState;
  /** Receives each Engram layer's output, for inspection. */
  capture?: (layerIndex: number, output: EngramLayerOutput) => void;
}

/** A block-entry hook that adds Engram memory at the pack's layers, given gathered rows per layer. */
export function memoryHook(memory: EngramMemory, rowTensors: tf.Tensor3D[], options: MemoryHookOptions = {}): BlockEntryHook {
  return (block, hidden) => {
    const l = memory.layerIndex(block);
    if (l < 0) return hidden;
    const state = options.state;
    const output = memory.apply(l, hidden, rowTensors[l], options.dense?.[l], state?.history[l]);
    options.capture?.(l, output);
    if (state) {
      const [batch, , d] = hidden.shape;
      const previous = state.history[l] ?? tf.zeros([batch, convHistory, d]);
      const joined = tf.concat([previous, output.convInputs], 1);
      const next = tf.keep(tf.slice(joined, [0, joined.shape[1] - convHistory, 0], [batch, convHistory, d]));
      state.history[l]?.dispose();
      state.history[l] = next as tf.Tensor3D;
    }
    return output.hidden;
  };
}

export function newDecodeState(memory: EngramMemory, batch: number): MemoryDecodeState {
  return { ids: Array.from({ length: batch }, () => []), history: memory.hashing.map(() => undefined) };
}

export function disposeDecodeState(state: MemoryDecodeState): void {
  state.history.forEach((tensor) => tensor?.dispose());
  state.history.fill(undefined);
}

/**
 * Gathered rows (one tensor per layer, (batch, time, memoryWidth)) for `newIds`, which continue
 * the sequences in `state`; the state's ids are extended. Hashing reads the two previous ids, so
 * a decode step gives the same rows as hashing the whole sequence.
 */
export function decodeRowTensors(memory: EngramMemory, state: MemoryDecodeState, newIds: number[][]): tf.Tensor3D[] {
  const time = newIds[0].length;
  const windows = newIds.map((ids, b) => {
    const previous = state.ids[b].slice(-2);
    state.ids[b].push(...ids);
    return { context: [...previous, ...ids], skip: previous.length };
  });
  const width = memory.memoryWidth;
  return memory.hashing.map((_, l) => {
    const values = new Float32Array(newIds.length * time * width);
    windows.forEach((window, b) => {
      const lookup = memory.lookup([window.context], window.context.length);
      const rows = lookup.rows[l].subarray(window.skip * memory.heads);
      values.set(memory.gatherRows(l, rows), b * time * width);
    });
    return tf.tensor3d(values, [newIds.length, time, width]);
  });
}
