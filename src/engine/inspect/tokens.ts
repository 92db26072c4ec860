import * as tf from '@tensorflow/tfjs-core';
import { memoryHook } from '../engram/hook';
import type { EngramMemory } from '../engram/memory';
import { EngramError } from '../errors';
import type { EngramRuntime } from '../runtime';
import type { ModelTokenizer } from '../tokenizer';
import { type TextRange, tokenRanges } from './offsets';

export interface InspectTextOptions {
  /** Maximum number of tokens to inspect, BOS included. The model's context length also limits them. */
  maxTokens: number;
  /** Next-token predictions to list per position (default 3). */
  topPredictions?: number;
}

/** An n-gram ending at a position, as the pack hashes it. */
export interface InspectedNGram {
  order: number;
  /** Canonical ids, oldest first. Positions before the start contain the canonical pad id. */
  canonicalIds: number[];
  /** Decoded text of the n-gram's tokens in the sequence, special tokens kept. */
  text: string;
  /** Leading positions that lie before the start of the sequence (filled with the pad id). */
  padPositions: number;
}

/** The table row one hash head of one layer looked up. */
export interface HeadHit {
  order: number;
  head: number;
  /** Row within this head's table (0 to tableRows − 1). */
  row: number;
  /** Lookups of this row during training (`EngramMemory.rowHits`). 0 means the row never trained. */
  trainingHits: number;
}

/** Gate, contribution and table rows of one Engram layer at one position. */
export interface LayerInspection {
  /** 0-based decoder block. */
  layer: number;
  /** Context gate in (0, 1). */
  gate: number;
  /** L2 norm of the memory's contribution y_t that the layer adds to the residual stream. */
  contributionNorm: number;
  heads: HeadHit[];
}

export interface Prediction {
  id: number;
  /** Vocabulary string of the token, such as "▁the" or "<0x0A>". */
  token: string;
  /** Text the token adds after this position's context. */
  text: string;
  probability: number;
}

export interface InspectedToken {
  position: number;
  /** Range in the inspected text, or null for special tokens that have no text (BOS). */
  range: TextRange | null;
  id: number;
  /** Vocabulary string of the token. */
  token: string;
  canonicalId: number;
  /** The 2-gram and 3-gram ending here, lowest order first. */
  ngrams: InspectedNGram[];
  layers: LayerInspection[];
  /** Most likely next tokens with the pack, most likely first. */
  withPack: Prediction[];
  /** Most likely next tokens of the base model alone. */
  withoutPack: Prediction[];
  /** Probability of the token that actually follows, or null at the last position. */
  next: { id: number; probabilityWithPack: number; probabilityWithoutPack: number } | null;
}

export interface TokenInspection {
  pack: string;
  /** 0-based decoder blocks with memory, in the order of each token's `layers`. */
  layers: number[];
  /** Text length in UTF-16 code units. */
  textLength: number;
  /** Tokens the whole text encodes to, BOS included. */
  totalTokens: number;
  /** true when the text had more tokens than were inspected. */
  truncated: boolean;
  tokens: InspectedToken[];
}

/** Tokens of context before a prediction used to decode its text. */
const predictionContext = 4;

/**
 * Runs the model on `text` once with the attached pack and once without it. For each token the
 * result lists its text range, ids and n-grams, and the row each hash head looked up with that
 * row's training hits. It also lists each layer's gate and contribution norm, and the top
 * next-token predictions of both runs. The result contains only JSON-safe values.
 *
 * Throws an EngramError when no pack is attached, the text is empty, or `maxTokens` or
 * `topPredictions` is not a positive integer.
 */
export async function inspectText(runtime: EngramRuntime, text: string, options: InspectTextOptions): Promise<TokenInspection> {
  const memory = runtime.memory;
  const pack = runtime.attachedPack;
  if (!memory || !pack) {
    throw new EngramError('invalid-argument', 'No pack is attached, so there are no memory hits to inspect. Attach a pack first, then inspect again.');
  }
  const { maxTokens } = options;
  const topCount = options.topPredictions ?? 3;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new EngramError('invalid-argument', `maxTokens must be a positive integer, got ${maxTokens}.`);
  }
  if (!Number.isInteger(topCount) || topCount < 1) {
    throw new EngramError('invalid-argument', `topPredictions must be a positive integer, got ${topCount}.`);
  }
  if (text.length === 0) {
    throw new EngramError('invalid-argument', 'The text to inspect is empty. Enter or select some text.');
  }

  const tokenizer = runtime.tokenizer;
  const allIds = tokenizer.encode(text, true);
  const limit = Math.min(maxTokens, runtime.config.maxPositionEmbeddings);
  const ids = allIds.slice(0, limit);
  const truncated = ids.length < allIds.length;
  const vocabularySize = runtime.config.vocabSize;
  const topK = Math.min(topCount, vocabularySize);

  const lookup = memory.lookup([ids], ids.length);
  const withPack = await runWithPack(runtime, memory, ids, lookup.rows, topK);
  const withoutPack = await runBase(runtime, ids, topK);

  const ranges = tokenRanges(tokenizer, ids, text, !truncated);
  const canonical = memory.canonicalIds(ids);
  const predictionText = predictionTextFunction(tokenizer, ids);
  const predictions = (run: RunResult, t: number): Prediction[] => {
    const list: Prediction[] = [];
    for (let k = 0; k < topK; k++) {
      const id = run.topIds[t * topK + k];
      list.push({ id, token: tokenizer.tokenString(id), text: predictionText(t, id), probability: run.topProbabilities[t * topK + k] });
    }
    return list;
  };

  const tokens: InspectedToken[] = ids.map((id, t) => ({
    position: t,
    range: ranges[t],
    id,
    token: tokenizer.tokenString(id),
    canonicalId: canonical[t],
    ngrams: memory.shape.orders.map((order) => ngramAt(tokenizer, memory, ids, canonical, t, order)),
    layers: memory.hashing.map((layer, l) => ({
      layer: layer.layer,
      gate: withPack.gates[l][t],
      contributionNorm: withPack.contributionNorms[l][t],
      heads: headHits(memory, l, lookup.rows[l], t),
    })),
    withPack: predictions(withPack, t),
    withoutPack: predictions(withoutPack, t),
    next:
      t + 1 < ids.length
        ? { id: ids[t + 1], probabilityWithPack: withPack.nextProbabilities[t], probabilityWithoutPack: withoutPack.nextProbabilities[t] }
        : null,
  }));

  return {
    pack: pack.name,
    layers: memory.hashing.map((layer) => layer.layer),
    textLength: text.length,
    totalTokens: allIds.length,
    truncated,
    tokens,
  };
}

/** Values read back from one forward pass, (time · topK) arrays position-major. */
interface RunResult {
  topIds: Int32Array;
  topProbabilities: Float32Array;
  /** Probability of ids[t + 1] at each position t < time − 1. */
  nextProbabilities: Float32Array;
}

interface PackRunResult extends RunResult {
  /** Per layer, one gate per position. */
  gates: Float32Array[];
  /** Per layer, the L2 norm of the memory contribution per position. */
  contributionNorms: Float32Array[];
}

/** Top-k probabilities of each position and the probability of each actual next token. */
function predictionTensors(logits: tf.Tensor3D, ids: number[], topK: number): tf.Tensor[] {
  const [, time, vocabularySize] = logits.shape;
  const probabilities = tf.softmax(tf.reshape(logits, [time, vocabularySize]));
  const top = tf.topk(probabilities, topK);
  const nextIndices = ids.slice(1).map((id, t) => t * vocabularySize + id);
  const next = nextIndices.length > 0 ? tf.gather(tf.reshape(probabilities, [-1]), tf.tensor1d(nextIndices, 'int32')) : tf.zeros([0]);
  return [top.indices, top.values, next];
}

async function readRun(tensors: tf.Tensor[]): Promise<RunResult> {
  const [indices, values, next] = tensors;
  return {
    topIds: (await indices.data()) as Int32Array,
    topProbabilities: (await values.data()) as Float32Array,
    nextProbabilities: (await next.data()) as Float32Array,
  };
}

async function runWithPack(runtime: EngramRuntime, memory: EngramMemory, ids: number[], rows: Int32Array[], topK: number): Promise<PackRunResult> {
  const model = runtime.model;
  const time = ids.length;
  const tensors = tf.tidy(() => {
    const gates: tf.Tensor[] = [];
    const norms: tf.Tensor[] = [];
    const rowTensors = memory.rowTensors({ batch: 1, time, rows });
    const hook = memoryHook(memory, rowTensors, {
      capture: (l, output) => {
        gates[l] = output.gate;
        norms[l] = tf.sqrt(tf.sum(tf.square(output.memory), -1));
      },
    });
    // hiddenStates is not wrapped in its own tidy, so the captured tensors belong to this one.
    const logits = model.logitsFromHidden(model.hiddenStates(tf.tensor2d([ids], [1, time], 'int32'), { hook }));
    return { predictions: predictionTensors(logits, ids, topK), gates, norms };
  });
  try {
    const run = await readRun(tensors.predictions);
    const gates = await Promise.all(tensors.gates.map(async (gate) => (await gate.data()) as Float32Array));
    const contributionNorms = await Promise.all(tensors.norms.map(async (norm) => (await norm.data()) as Float32Array));
    return { ...run, gates, contributionNorms };
  } finally {
    tf.dispose([...tensors.predictions, ...tensors.gates, ...tensors.norms]);
  }
}

async function runBase(runtime: EngramRuntime, ids: number[], topK: number): Promise<RunResult> {
  const tensors = tf.tidy(() => predictionTensors(runtime.model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')), ids, topK));
  try {
    return await readRun(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

function headHits(memory: EngramMemory, l: number, rows: Int32Array, t: number): HeadHit[] {
  const layer = memory.hashing[l];
  const hits: HeadHit[] = [];
  let head = 0;
  memory.shape.orders.forEach((order, o) => {
    layer.primes[o].forEach((_, k) => {
      const absolute = rows[t * memory.heads + head];
      hits.push({ order, head: k, row: absolute - layer.offsets[head], trainingHits: memory.rowHits[l][absolute] });
      head++;
    });
  });
  return hits;
}

function ngramAt(tokenizer: ModelTokenizer, memory: EngramMemory, ids: number[], canonical: Int32Array, t: number, order: number): InspectedNGram {
  const first = t - order + 1;
  const canonicalIds: number[] = [];
  for (let position = first; position <= t; position++) {
    canonicalIds.push(position >= 0 ? canonical[position] : memory.compression.padCanonicalId);
  }
  return {
    order,
    canonicalIds,
    text: tokenizer.decode(ids.slice(Math.max(0, first), t + 1), false),
    padPositions: Math.max(0, -first),
  };
}

/**
 * Returns a function giving the text that token `id` adds after position t: the difference
 * between decoding a few context tokens with and without it. Decoding with context keeps the
 * space that a SentencePiece decoder strips from a lone word-start piece.
 */
function predictionTextFunction(tokenizer: ModelTokenizer, ids: number[]): (t: number, id: number) => string {
  const contextText = new Map<number, string>();
  return (t, id) => {
    const context = ids.slice(Math.max(0, t + 1 - predictionContext), t + 1);
    let before = contextText.get(t);
    if (before === undefined) {
      before = tokenizer.decode(context, true);
      contextText.set(t, before);
    }
    const after = tokenizer.decode([...context, id], true);
    let common = 0;
    while (common < before.length && common < after.length && before.charCodeAt(common) === after.charCodeAt(common)) common++;
    return after.slice(common);
  };
}
