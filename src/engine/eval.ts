import * as tf from '@tensorflow/tfjs-core';
import { memoryHook } from './engram/hook';
import type { EngramMemory } from './engram/memory';
import type { LlamaModel } from './model/llama';
import type { ModelTokenizer } from './tokenizer';

/** Logits (batch, time, vocab) with the pack's memory when `memory` is given, else of the base model. */
export function forwardLogits(model: LlamaModel, memory: EngramMemory | undefined, sequences: number[][]): tf.Tensor3D {
  const time = sequences[0].length;
  return tf.tidy(() => {
    const ids = tf.tensor2d(sequences.flat(), [sequences.length, time], 'int32');
    if (!memory) return model.forward(ids);
    const rows = memory.rowTensors(memory.lookup(sequences, time));
    return model.forward(ids, { hook: memoryHook(memory, rows) });
  });
}

/** Right-pads sequences to a common length with `padId`. */
function padRight(sequences: number[][], padId: number): number[][] {
  const time = Math.max(...sequences.map((sequence) => sequence.length));
  return sequences.map((sequence) => [...sequence, ...new Array(time - sequence.length).fill(padId)]);
}

/**
 * Mean next-token negative log-likelihood (nats per token) over every real position of
 * `sequences`, which may differ in length (right padding never changes a real position).
 */
export async function meanNextTokenLoss(model: LlamaModel, memory: EngramMemory | undefined, sequences: number[][], batchSize = 16): Promise<{ loss: number; tokens: number }> {
  let total = 0;
  let tokens = 0;
  for (let start = 0; start < sequences.length; start += batchSize) {
    const batch = sequences.slice(start, start + batchSize).filter((sequence) => sequence.length >= 2);
    if (batch.length === 0) continue;
    const padded = padRight(batch, 0);
    const time = padded[0].length;
    const nll = tf.tidy(() => {
      const logits = forwardLogits(model, memory, padded);
      const vocab = logits.shape[2];
      const logProbabilities = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [padded.length, time - 1, vocab]));
      const targets = tf.slice(tf.tensor2d(padded.flat(), [padded.length, time], 'int32'), [0, 1], [padded.length, time - 1]);
      return tf.neg(tf.sum(tf.mul(logProbabilities, tf.oneHot(targets, vocab)), -1));
    });
    const values = (await nll.data()) as Float32Array;
    nll.dispose();
    batch.forEach((sequence, b) => {
      for (let t = 0; t < sequence.length - 1; t++) total += values[b * (time - 1) + t];
      tokens += sequence.length - 1;
    });
  }
  return { loss: tokens > 0 ? total / tokens : Number.NaN, tokens };
}

export interface Probe {
  prompt: string;
  answer: string;
  relation: string;
}

export interface ProbeResult extends Probe {
  passed: boolean;
  /**
   * Greedy continuation of the prompt: the whole answer when the probe passes, otherwise the
   * text up to and including the first token that differs from the answer.
   */
  predicted: string;
}

/**
 * Scores probes by teacher forcing: a probe passes when, at every answer token, the most likely
 * next token is that answer token, which is exactly when greedy decoding from the prompt
 * reproduces the whole answer.
 */
export async function scoreProbes(model: LlamaModel, memory: EngramMemory | undefined, tokenizer: ModelTokenizer, probes: Probe[], batchSize = 64): Promise<ProbeResult[]> {
  const encoded = probes.map((probe) => {
    const promptIds = tokenizer.encode(probe.prompt, true);
    const fullIds = tokenizer.encode(`${probe.prompt} ${probe.answer}`, true);
    const sharesPrefix = promptIds.every((id, i) => fullIds[i] === id);
    const answerIds = sharesPrefix ? fullIds.slice(promptIds.length) : tokenizer.encode(` ${probe.answer}`, false);
    return { promptIds, answerIds };
  });
  const results: ProbeResult[] = [];
  for (let start = 0; start < probes.length; start += batchSize) {
    const slice = encoded.slice(start, start + batchSize);
    const sequences = padRight(slice.map(({ promptIds, answerIds }) => [...promptIds, ...answerIds]), 0);
    const time = sequences[0].length;
    const predictedIds = tf.tidy(() => tf.argMax(forwardLogits(model, memory, sequences), -1));
    const values = (await predictedIds.data()) as Int32Array;
    predictedIds.dispose();
    slice.forEach(({ promptIds, answerIds }, b) => {
      // Teacher forcing equals greedy decoding only up to the first wrong token: after it, the
      // model would continue from its own token, not from the answer's.
      const predicted: number[] = [];
      for (let j = 0; j < answerIds.length; j++) {
        const id = values[b * time + promptIds.length - 1 + j];
        predicted.push(id);
        if (id !== answerIds[j]) break;
      }
      const probe = probes[start + b];
      const passed = predicted.length === answerIds.length && predicted.every((id, j) => id === answerIds[j]);
      results.push({ ...probe, passed, predicted: tokenizer.decode(predicted) });
    });
  }
  return results;
}

/** Pass counts per relation, in order of first appearance. */
export function summariseProbes(results: ProbeResult[]): { relation: string; passed: number; total: number }[] {
  const byRelation = new Map<string, { passed: number; total: number }>();
  for (const result of results) {
    const entry = byRelation.get(result.relation) ?? { passed: 0, total: 0 };
    entry.total++;
    if (result.passed) entry.passed++;
    byRelation.set(result.relation, entry);
  }
  return [...byRelation].map(([relation, counts]) => ({ relation, ...counts }));
}
