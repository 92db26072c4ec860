import * as tf from '@tensorflow/tfjs-core';
import { sampleToken } from '../generate';
import type { LlamaModel } from '../model/llama';
import type { Rng } from '../random';

/**
 * Samples `count` sequences of `length` tokens from the base model (temperature 1, no memory),
 * each starting with `bosId`. The preservation term keeps the pack's predictions close to the
 * base model's on these, so it needs no data besides the model itself.
 */
export async function sampleFromBase(
  model: LlamaModel,
  bosId: number,
  count: number,
  length: number,
  rng: Rng,
  onProgress?: (done: number) => void,
  batchSize = 50,
): Promise<number[][]> {
  const samples: number[][] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = Math.min(batchSize, count - start);
    const sequences = Array.from({ length: batch }, () => [bosId]);
    const cache = model.newCache();
    let input = tf.tensor2d(sequences.map((sequence) => [sequence[0]]), [batch, 1], 'int32');
    try {
      for (let t = 1; t < length; t++) {
        const logits = tf.tidy(() => {
          const all = model.forward(input, { cache });
          return tf.squeeze(tf.slice(all, [0, all.shape[1] - 1, 0], [batch, 1, all.shape[2]]), [1]);
        });
        const values = (await logits.data()) as Float32Array;
        logits.dispose();
        const vocab = values.length / batch;
        const next = sequences.map((sequence, b) => {
          const id = sampleToken(values.subarray(b * vocab, (b + 1) * vocab), { temperature: 1, topP: 1 }, rng);
          sequence.push(id);
          return [id];
        });
        input.dispose();
        input = tf.tensor2d(next, [batch, 1], 'int32');
      }
    } finally {
      input.dispose();
      tf.dispose([...cache.keys.filter(Boolean), ...cache.values.filter(Boolean)] as tf.Tensor[]);
    }
    samples.push(...sequences);
    onProgress?.(samples.length);
  }
  return samples;
}
