import * as tf from '@tensorflow/tfjs-core';
import { EngramError } from '../errors';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { ModelConfig } from './config';
import { readModelConfig } from './config';
import { ropeInverseFrequencies, ropeTables } from './rope';
import { openModelWeights, type ModelWeights } from './safetensors';

/** Linear weights are stored transposed, (in, out), so a projection is one matMul. */
interface BlockWeights {
  inputNorm: tf.Tensor1D;
  postAttentionNorm: tf.Tensor1D;
  wq: tf.Tensor2D;
  wk: tf.Tensor2D;
  wv: tf.Tensor2D;
  wo: tf.Tensor2D;
  bq?: tf.Tensor1D;
  bk?: tf.Tensor1D;
  bv?: tf.Tensor1D;
  wGate: tf.Tensor2D;
  wUp: tf.Tensor2D;
  wDown: tf.Tensor2D;
}

/** Keys and values of past positions, per block, each (batch, kvHeads, pastLength, headDim). */
export interface KvCache {
  keys: (tf.Tensor4D | undefined)[];
  values: (tf.Tensor4D | undefined)[];
  length: number;
}

/**
 * Called at the entry of every decoder block with the residual stream (batch, time, hidden);
 * returns the stream the block should see. Engram memory attaches here.
 */
export type BlockEntryHook = (layer: number, hidden: tf.Tensor3D) => tf.Tensor3D;

export interface ForwardOptions {
  hook?: BlockEntryHook;
  /** Extended in place with this call's keys and values; its old tensors are disposed. */
  cache?: KvCache;
}

/** A frozen Llama-family decoder (Llama, Mistral, Qwen2) evaluated with TensorFlow.js. */
export class LlamaModel {
  private readonly inverseFrequencies: Float64Array;

  private constructor(
    readonly config: ModelConfig,
    private readonly embedding: tf.Tensor2D,
    private readonly blocks: BlockWeights[],
    private readonly finalNorm: tf.Tensor1D,
    private readonly lmHead: tf.Tensor2D,
  ) {
    this.inverseFrequencies = ropeInverseFrequencies(config);
  }

  /** Reads config.json and the safetensors weights of `modelDir` into backend tensors. */
  static load(modelDir: string, log: Logger = silentLogger): LlamaModel {
    const config = readModelConfig(modelDir);
    const weights = openModelWeights(modelDir);
    try {
      return LlamaModel.fromWeights(config, weights, log);
    } finally {
      weights.close();
    }
  }

  static fromWeights(config: ModelConfig, weights: ModelWeights, log: Logger = silentLogger): LlamaModel {
    const created: tf.Tensor[] = [];
    const read = (name: string, shape: number[]): Float32Array => {
      if (!weights.has(name)) {
        throw new EngramError('invalid-model', `Weight "${name}" is missing from the model files. The model folder may be incomplete or not a ${config.architecture}.`);
      }
      const found = weights.shape(name);
      if (found.length !== shape.length || found.some((size, i) => size !== shape[i])) {
        throw new EngramError('invalid-model', `Weight "${name}" has shape [${found.join(', ')}], expected [${shape.join(', ')}] from config.json.`);
      }
      return weights.readFloat32(name);
    };
    const vector = (name: string, size: number): tf.Tensor1D => keep(tf.tensor1d(read(name, [size])));
    // Hugging Face stores Linear weights as (out, in); transpose once here.
    const linear = (name: string, outSize: number, inSize: number): tf.Tensor2D =>
      keep(tf.tidy(() => tf.transpose(tf.tensor2d(read(name, [outSize, inSize]), [outSize, inSize]))));
    function keep<T extends tf.Tensor>(tensor: T): T {
      created.push(tensor);
      return tensor;
    }

    try {
      const { hiddenSize: d, intermediateSize: ffn, numHeads, numKeyValueHeads, headDim, vocabSize } = config;
      const embedding = keep(tf.tensor2d(read('model.embed_tokens.weight', [vocabSize, d]), [vocabSize, d]));
      const blocks: BlockWeights[] = [];
      for (let i = 0; i < config.numLayers; i++) {
        const prefix = `model.layers.${i}`;
        const attention = `${prefix}.self_attn`;
        const block: BlockWeights = {
          inputNorm: vector(`${prefix}.input_layernorm.weight`, d),
          postAttentionNorm: vector(`${prefix}.post_attention_layernorm.weight`, d),
          wq: linear(`${attention}.q_proj.weight`, numHeads * headDim, d),
          wk: linear(`${attention}.k_proj.weight`, numKeyValueHeads * headDim, d),
          wv: linear(`${attention}.v_proj.weight`, numKeyValueHeads * headDim, d),
          wo: linear(`${attention}.o_proj.weight`, d, numHeads * headDim),
          wGate: linear(`${prefix}.mlp.gate_proj.weight`, ffn, d),
          wUp: linear(`${prefix}.mlp.up_proj.weight`, ffn, d),
          wDown: linear(`${prefix}.mlp.down_proj.weight`, d, ffn),
        };
        if (config.attentionBias) {
          block.bq = vector(`${attention}.q_proj.bias`, numHeads * headDim);
          block.bk = vector(`${attention}.k_proj.bias`, numKeyValueHeads * headDim);
          block.bv = vector(`${attention}.v_proj.bias`, numKeyValueHeads * headDim);
        }
        blocks.push(block);
      }
      const finalNorm = vector('model.norm.weight', d);
      const separateHead = weights.has('lm_head.weight') && !config.tieWordEmbeddings;
      if (!config.tieWordEmbeddings && !weights.has('lm_head.weight')) {
        throw new EngramError('invalid-model', 'Weight "lm_head.weight" is missing and config.json does not set tie_word_embeddings. The model files are incomplete.');
      }
      const lmHead = separateHead ? linear('lm_head.weight', vocabSize, d) : keep(tf.transpose(embedding));
      log.debug(`Loaded ${config.architecture}: ${config.numLayers} layers, hidden ${d}, vocab ${vocabSize}, ${separateHead ? 'separate' : 'tied'} output head`);
      return new LlamaModel(config, embedding, blocks, finalNorm, lmHead);
    } catch (error) {
      created.forEach((tensor) => tensor.dispose());
      throw error;
    }
  }

  newCache(): KvCache {
    return { keys: this.blocks.map(() => undefined), values: this.blocks.map(() => undefined), length: 0 };
  }

  /** Returns the final hidden states (batch, time, hidden), before the output head. */
  hiddenStates(inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
    const time = inputIds.shape[1];
    const offset = options.cache?.length ?? 0;
    const { cos, sin } = ropeTables(this.inverseFrequencies, offset, time);
    const cosTable = tf.tensor2d(cos, [time, this.config.headDim]);
    const sinTable = tf.tensor2d(sin, [time, this.config.headDim]);
    const mask = this.causalMask(time, offset);

    let hidden = tf.gather(this.embedding, inputIds) as unknown as tf.Tensor3D;
    for (let layer = 0; layer < this.blocks.length; layer++) {
      if (options.hook) hidden = options.hook(layer, hidden);
      hidden = this.block(layer, hidden, cosTable, sinTable, mask, options.cache);
    }
    if (options.cache) options.cache.length += time;
    const normed = rmsNorm(hidden, this.finalNorm, this.config.rmsNormEps);
    tf.dispose([cosTable, sinTable, mask]);
    return normed;
  }

  /** Projects hidden states (batch, time, hidden) to logits (batch, time, vocab). */
  logitsFromHidden(hidden: tf.Tensor3D): tf.Tensor3D {
    const [batch, time, d] = hidden.shape;
    return tf.reshape(tf.matMul(tf.reshape(hidden, [batch * time, d]), this.lmHead), [batch, time, this.config.vocabSize]);
  }

  /** Logits (batch, time, vocab) for token ids (batch, time). */
  forward(inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.logitsFromHidden(this.hiddenStates(inputIds, options)));
  }

  /** Additive mask (time, pastLength + time): 0 where a query may attend, -1e9 elsewhere. */
  private causalMask(time: number, offset: number): tf.Tensor2D {
    const total = offset + time;
    const values = new Float32Array(time * total);
    for (let t = 0; t < time; t++) {
      for (let s = offset + t + 1; s < total; s++) values[t * total + s] = -1e9;
    }
    return tf.tensor2d(values, [time, total]);
  }

  private block(layer: number, hidden: tf.Tensor3D, cos: tf.Tensor2D, sin: tf.Tensor2D, mask: tf.Tensor2D, cache?: KvCache): tf.Tensor3D {
    const weights = this.blocks[layer];
    const { numHeads, numKeyValueHeads, headDim, hiddenSize, rmsNormEps } = this.config;
    const [batch, time] = hidden.shape;
    const repeats = numHeads / numKeyValueHeads;

    const x = tf.reshape(rmsNorm(hidden, weights.inputNorm, rmsNormEps), [batch * time, hiddenSize]);
    const project = (w: tf.Tensor2D, bias: tf.Tensor1D | undefined): tf.Tensor2D => (bias ? tf.add(tf.matMul(x, w), bias) : tf.matMul(x, w));
    // (batch, time, heads, headDim) -> (batch, heads, time, headDim)
    const heads = (flat: tf.Tensor2D, count: number) => tf.transpose(tf.reshape(flat, [batch, time, count, headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
    const q = applyRope(heads(project(weights.wq, weights.bq), numHeads), cos, sin);
    let k = applyRope(heads(project(weights.wk, weights.bk), numKeyValueHeads), cos, sin);
    let v = heads(project(weights.wv, weights.bv), numKeyValueHeads);

    if (cache) {
      const pastKeys = cache.keys[layer];
      const pastValues = cache.values[layer];
      if (pastKeys && pastValues) {
        k = tf.concat([pastKeys, k], 2);
        v = tf.concat([pastValues, v], 2);
      }
      // The cache outlives this call's tidy scope, so its tensors are kept and the old ones freed.
      cache.keys[layer] = tf.keep(k);
      cache.values[layer] = tf.keep(v);
      pastKeys?.dispose();
      pastValues?.dispose();
    }

    // Grouped-query attention: query heads that share a key/value head are stacked along time,
    // (batch, kvHeads, repeats * time, headDim), so one batched matMul serves the whole group.
    const grouped = tf.reshape(q, [batch, numKeyValueHeads, repeats * time, headDim]);
    const scores = tf.mul(tf.matMul(grouped, k, false, true), 1 / Math.sqrt(headDim));
    const total = k.shape[2];
    const masked = tf.add(tf.reshape(scores, [batch, numKeyValueHeads, repeats, time, total]), mask);
    const probabilities = tf.softmax(masked);
    const context = tf.matMul(tf.reshape(probabilities, [batch, numKeyValueHeads, repeats * time, total]), v);
    // (batch, heads, time, headDim) -> (batch * time, heads * headDim)
    const merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, numHeads, time, headDim]), [0, 2, 1, 3]), [batch * time, numHeads * headDim]);
    const attended = tf.add(hidden, tf.reshape(tf.matMul(merged, weights.wo), [batch, time, hiddenSize])) as tf.Tensor3D;

    const y = tf.reshape(rmsNorm(attended, weights.postAttentionNorm, rmsNormEps), [batch * time, hiddenSize]);
    const gate = tf.matMul(y, weights.wGate);
    const gated = tf.mul(gate, tf.sigmoid(gate));
    const mlp = tf.matMul(tf.mul(gated, tf.matMul(y, weights.wUp)), weights.wDown);
    return tf.add(attended, tf.reshape(mlp, [batch, time, hiddenSize])) as tf.Tensor3D;
  }

  dispose(): void {
    const tensors: tf.Tensor[] = [this.embedding, this.finalNorm, this.lmHead];
    for (const block of this.blocks) tensors.push(...(Object.values(block).filter(Boolean) as tf.Tensor[]));
    tf.dispose(tensors);
  }
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · gain. */
export function rmsNorm<T extends tf.Tensor>(x: T, gain: tf.Tensor1D, eps: number): T {
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), gain) as T;
  });
}

/** Rotary embedding, half-rotation layout: x·cos + rotateHalf(x)·sin with x (batch, heads, time, headDim). */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [first, second] = tf.split(x, [half, half], 3);
  const rotated = tf.concat([tf.neg(second), first], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
}
