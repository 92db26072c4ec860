import * as tf from '@tensorflow/tfjs-core';
import { memoryHook } from '../engram/hook';
import { denseParamNames, type EngramDenseParams } from '../engram/layer';
import type { BatchLookup, EngramMemory } from '../engram/memory';
import { SparseAdam } from '../engram/table';
import type { LlamaModel } from '../model/llama';
import { adamBeta1, adamBeta2, adamEpsilon, type DenseAdam } from './adam';

/** Tables learn faster than the dense parameters, because each row is updated only by the batches that hit it. */
export const tableLearningRateMultiplier = 5;

export interface StepInput {
  /** Corpus sequences, each `time` tokens. */
  corpus: number[][];
  /** Base-model samples for the preservation term, each `time` tokens (may be empty). */
  samples: number[][];
  preservationWeight: number;
  learningRate: number;
}

export interface StepResult {
  loss: number;
  preservationLoss?: number;
  /** Unique rows updated, per layer. */
  rowsTouched: number[];
  lookup: BatchLookup;
}

/** Mean next-token cross-entropy of logits (batch, time, vocab) against `ids` (batch, time). */
export function nextTokenLoss(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Scalar {
  const [batch, time, vocab] = logits.shape;
  const predictions = tf.slice(logits, [0, 0, 0], [batch, time - 1, vocab]);
  const targets = tf.slice(ids, [0, 1], [batch, time - 1]);
  // NOTE: the one-hot target is (batch, time, vocab); fine for small vocabularies, wasteful for 100k+.
  const logProbabilities = tf.logSoftmax(predictions);
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbabilities, tf.oneHot(targets, vocab)), -1))) as tf.Scalar;
}

/** Mean over positions of KL(base ‖ pack), from log-probabilities of the same shape. */
export function klToBase(baseLogProbabilities: tf.Tensor3D, packLogits: tf.Tensor3D): tf.Scalar {
  const packLogProbabilities = tf.logSoftmax(packLogits);
  return tf.mean(tf.sum(tf.mul(tf.exp(baseLogProbabilities), tf.sub(baseLogProbabilities, packLogProbabilities)), -1)) as tf.Scalar;
}

export class TrainStepper {
  readonly tableOptimizers: SparseAdam[];
  private readonly slotScratch: (Int32Array | undefined)[] = [];

  constructor(
    readonly model: LlamaModel,
    readonly memory: EngramMemory,
    readonly denseOptimizer: DenseAdam,
    tableOptimizers?: SparseAdam[],
  ) {
    this.tableOptimizers = tableOptimizers ?? memory.tables.map((table) => new SparseAdam(table));
  }

  /** Runs one optimisation step; returns the losses measured before the update. Non-finite losses skip the update. */
  step(input: StepInput): StepResult {
    const { memory, model } = this;
    const corpusCount = input.corpus.length;
    const sequences = [...input.corpus, ...input.samples];
    const time = sequences[0].length;
    const lookup = memory.lookup(sequences, time);
    const layers = memory.hashing.length;

    const ids = tf.tensor2d(sequences.flat(), [sequences.length, time], 'int32');
    const rowTensors = memory.rowTensors(lookup);
    const baseLogProbabilities =
      input.samples.length > 0
        ? tf.tidy(() => tf.logSoftmax(model.forward(tf.slice(ids, [corpusCount, 0], [input.samples.length, time]))) as tf.Tensor3D)
        : undefined;

    const denseNow = memory.denseTensors();
    let corpusLoss: tf.Scalar | undefined;
    let preservationLoss: tf.Scalar | undefined;
    const objective = (...args: tf.Tensor[]): tf.Scalar => {
      const rows = args.slice(0, layers) as tf.Tensor3D[];
      const dense = unflattenDense(args.slice(layers), layers);
      const logits = model.logitsFromHidden(model.hiddenStates(ids, { hook: memoryHook(memory, rows, { dense }) }));
      const corpusLogits = tf.slice(logits, [0, 0, 0], [corpusCount, time, logits.shape[2]]);
      const corpusIds = tf.slice(ids, [0, 0], [corpusCount, time]);
      const ce = nextTokenLoss(corpusLogits, corpusIds);
      corpusLoss = tf.keep(tf.clone(ce));
      if (!baseLogProbabilities) return ce;
      const sampleLogits = tf.slice(logits, [corpusCount, 0, 0], [input.samples.length, time, logits.shape[2]]);
      const kl = klToBase(baseLogProbabilities, sampleLogits);
      preservationLoss = tf.keep(tf.clone(kl));
      return tf.add(ce, tf.mul(kl, input.preservationWeight));
    };
    const { value, grads } = tf.valueAndGrads(objective)([...rowTensors, ...denseNow]);

    const loss = corpusLoss!.dataSync()[0];
    const preservation = preservationLoss?.dataSync()[0];
    const total = value.dataSync()[0];
    const rowsTouched: number[] = [];
    if (Number.isFinite(total)) {
      for (let l = 0; l < layers; l++) {
        rowsTouched.push(this.updateTable(l, lookup.rows[l], grads[l].dataSync() as Float32Array, input.learningRate * tableLearningRateMultiplier));
      }
      const updated = this.denseOptimizer.apply(denseNow, grads.slice(layers), input.learningRate);
      memory.setDenseTensors(updated);
    }
    tf.dispose([ids, value, ...grads, ...rowTensors, corpusLoss!]);
    if (preservationLoss) tf.dispose(preservationLoss);
    baseLogProbabilities?.dispose();
    return { loss: Number.isFinite(total) ? loss : total, preservationLoss: preservation, rowsTouched, lookup };
  }

  /**
   * Sums the per-position gradients (positions × heads rows, each headDim wide) into one
   * gradient per unique row, counts the hits, and applies the sparse Adam update.
   */
  private updateTable(l: number, rows: Int32Array, gradients: Float32Array, learningRate: number): number {
    const width = this.memory.shape.headDim;
    // slotOfRow[row] is the row's index among this batch's unique rows, or -1; reset before returning.
    const slotOfRow = (this.slotScratch[l] ??= new Int32Array(this.memory.hashing[l].rows).fill(-1));
    const unique: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (slotOfRow[rows[i]] < 0) {
        slotOfRow[rows[i]] = unique.length;
        unique.push(rows[i]);
      }
    }
    const summed = new Float32Array(unique.length * width);
    const hits = this.memory.rowHits[l];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      hits[row]++;
      const source = i * width;
      const target = slotOfRow[row] * width;
      for (let j = 0; j < width; j++) summed[target + j] += gradients[source + j];
    }
    for (const row of unique) slotOfRow[row] = -1;
    this.tableOptimizers[l].update(Int32Array.from(unique), summed, { learningRate, beta1: adamBeta1, beta2: adamBeta2, epsilon: adamEpsilon });
    return unique.length;
  }
}

function unflattenDense(flat: tf.Tensor[], layers: number): EngramDenseParams[] {
  const out: EngramDenseParams[] = [];
  for (let l = 0; l < layers; l++) {
    const entries = denseParamNames.map((name, i) => [name, flat[l * denseParamNames.length + i]]);
    out.push(Object.fromEntries(entries) as EngramDenseParams);
  }
  return out;
}
