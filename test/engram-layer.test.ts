import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { convHistory, type EngramDenseParams, engramLayer } from '../src/engine/engram/layer';
import { EngramMemory } from '../src/engine/engram/memory';
import { decodeRowTensors, memoryHook, newDecodeState } from '../src/engine/engram/hook';
import { silentLogger } from '../src/engine/log';
import { LlamaModel } from '../src/engine/model/llama';
import { Rng } from '../src/engine/random';
import { storiesModelDir } from './helpers/paths';

const batch = 2;
const time = 13;
const d = 6;
const dMem = 8;

function randomArray(rng: Rng, length: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => scale * rng.normal());
}

/** Computes the layer with plain loops from its definition, in float64. */
function referenceLayer(hidden: Float32Array, rows: Float32Array, p: Record<keyof EngramDenseParams, Float32Array>): Float64Array {
  const out = new Float64Array(batch * time * d);
  const rmsNormed = (x: number[], gain: Float32Array, eps: number) => {
    const meanSquare = x.reduce((sum, value) => sum + value * value, 0) / x.length;
    return x.map((value, i) => (value / Math.sqrt(meanSquare + eps)) * gain[i]);
  };
  for (let b = 0; b < batch; b++) {
    const gated: number[][] = [];
    for (let t = 0; t < time; t++) {
      const e = Array.from(rows.subarray((b * time + t) * dMem, (b * time + t + 1) * dMem));
      const v = Array.from({ length: d }, (_, j) => e.reduce((sum, value, i) => sum + value * p.valueProjection[i * d + j], 0));
      const k = Array.from({ length: d }, (_, j) => e.reduce((sum, value, i) => sum + value * p.keyProjection[i * d + j], 0));
      const h = Array.from(hidden.subarray((b * time + t) * d, (b * time + t + 1) * d));
      const q = rmsNormed(h, p.queryNorm, 1.1920928955078125e-7);
      const kn = rmsNormed(k, p.keyNorm, 1.1920928955078125e-7);
      let score = q.reduce((sum, value, i) => sum + value * kn[i], 0) / Math.sqrt(d);
      score = Math.sign(score) * Math.sqrt(Math.max(Math.abs(score), 1e-6));
      const gate = 1 / (1 + Math.exp(-score));
      gated.push(v.map((value) => gate * value));
    }
    const convInputs = gated.map((u) => rmsNormed(u, p.convNorm, 1e-5));
    for (let t = 0; t < time; t++) {
      for (let j = 0; j < d; j++) {
        let sum = 0;
        for (let tap = 0; tap < 4; tap++) {
          const source = t - (3 - tap) * 3;
          if (source >= 0) sum += p.convWeights[tap * d + j] * convInputs[source][j];
        }
        const silu = sum / (1 + Math.exp(-sum));
        out[(b * time + t) * d + j] = hidden[(b * time + t) * d + j] + silu + gated[t][j];
      }
    }
  }
  return out;
}

describe('Engram layer', () => {
  before(async () => {
    await initBackend('auto', silentLogger);
  });

  test('matches a loop reference', async () => {
    const rng = new Rng(11);
    const values = {
      valueProjection: randomArray(rng, dMem * d, 0.5),
      keyProjection: randomArray(rng, dMem * d, 0.5),
      queryNorm: randomArray(rng, d, 0.3).map((x) => 1 + x),
      keyNorm: randomArray(rng, d, 0.3).map((x) => 1 + x),
      convNorm: randomArray(rng, d, 0.3).map((x) => 1 + x),
      convWeights: randomArray(rng, 4 * d, 0.5),
    };
    const hidden = randomArray(rng, batch * time * d);
    const rows = randomArray(rng, batch * time * dMem);
    const params: EngramDenseParams = {
      valueProjection: tf.tensor2d(values.valueProjection, [dMem, d]),
      keyProjection: tf.tensor2d(values.keyProjection, [dMem, d]),
      queryNorm: tf.tensor1d(values.queryNorm),
      keyNorm: tf.tensor1d(values.keyNorm),
      convNorm: tf.tensor1d(values.convNorm),
      convWeights: tf.tensor2d(values.convWeights, [4, d]),
    };
    const output = engramLayer(tf.tensor3d(hidden, [batch, time, d]), tf.tensor3d(rows, [batch, time, dMem]), params);
    const actual = await output.hidden.data();
    const expected = referenceLayer(hidden, rows, values);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-4, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  });

  test('untrained memory leaves logits unchanged', async () => {
    const model = LlamaModel.load(storiesModelDir);
    const canonical = Int32Array.from({ length: 512 }, (_, i) => i);
    const memory = EngramMemory.initialise({ layers: [0, 2], orders: [2, 3], headsPerOrder: 8, headDim: 4, rowsPerHead: 101, seed: 5 }, 64, { canonical, size: 512, padCanonicalId: 2 });
    const ids = [[1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315]];
    const base = await model.forward(tf.tensor2d(ids, [1, 12], 'int32')).data();
    const rows = memory.rowTensors(memory.lookup(ids, 12));
    const withMemory = await model.forward(tf.tensor2d(ids, [1, 12], 'int32'), { hook: memoryHook(memory, rows) }).data();
    assert.ok(Buffer.from(withMemory.buffer).equals(Buffer.from(base.buffer)));
    memory.dispose();
    model.dispose();
  });

  test('decoding with history equals one pass', async () => {
    const model = LlamaModel.load(storiesModelDir);
    const canonical = Int32Array.from({ length: 512 }, (_, i) => i);
    const memory = EngramMemory.initialise({ layers: [1], orders: [2, 3], headsPerOrder: 8, headDim: 4, rowsPerHead: 101, seed: 5 }, 64, { canonical, size: 512, padCanonicalId: 2 });
    // Non-zero value and convolution weights, so the memory and its history matter.
    const rng = new Rng(3);
    memory.setDenseTensors(
      memory.denseTensors().map((tensor, i) => (i === 0 || i === 5 ? tf.tensor(randomArray(rng, tensor.size, 0.3), tensor.shape) : tf.clone(tensor))),
    );
    const ids = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395];
    const full = await model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { hook: memoryHook(memory, memory.rowTensors(memory.lookup([ids], ids.length))) }).array();
    const cache = model.newCache();
    const state = newDecodeState(memory, 1);
    const steps: number[][] = [ids.slice(0, 5), ...ids.slice(5).map((id) => [id])];
    let position = 0;
    for (const chunk of steps) {
      const rows = decodeRowTensors(memory, state, [chunk]);
      const logits = await model.forward(tf.tensor2d([chunk], [1, chunk.length], 'int32'), { cache, hook: memoryHook(memory, rows, { state }) }).array();
      chunk.forEach((_, i) => {
        const difference = Math.max(...logits[0][i].map((value, v) => Math.abs(value - full[0][position + i][v])));
        assert.ok(difference < 1e-4, `position ${position + i}: ${difference}`);
      });
      position += chunk.length;
    }
    assert.equal(state.history[0]?.shape[1], convHistory);
    memory.dispose();
    model.dispose();
  });
});
