/** Pure parts of the Train Pack flow: request building, pack paths and the time estimate. */
import { join } from 'node:path';
import type { BackendChoice, BackendName } from '../../engine/types';
import type { TrainParams } from '../../protocol/worker';
import type { TrainingDefaults } from '../config';

export interface TrainChoices {
  modelDir: string;
  /** Absolute files or folders, or globs relative to the worker's working folder. */
  corpus: string[];
  packsFolder: string;
  packName: string;
  replace: boolean;
  resume: boolean;
  backend: BackendChoice;
  training: TrainingDefaults;
}

export function packDirFor(packsFolder: string, packName: string): string {
  return join(packsFolder, `${packName.trim()}.engram`);
}

/** Returns the checkpoint folder the engine uses for `packDir` when no other folder is given. */
export function checkpointDirFor(packDir: string): string {
  return `${packDir}.checkpoint`;
}

export function buildTrainParams(choices: TrainChoices): TrainParams {
  const { training } = choices;
  const params: TrainParams = {
    modelDir: choices.modelDir,
    corpus: choices.corpus,
    packDir: packDirFor(choices.packsFolder, choices.packName),
    replace: choices.replace,
    resume: choices.resume,
    backend: choices.backend,
    steps: training.steps,
    batchSize: training.batchSize,
    seqLen: training.seqLen,
    learningRate: training.learningRate,
  };
  if (training.layers.length > 0) params.layers = training.layers;
  if (training.rowsPerHead > 0) params.rowsPerHead = training.rowsPerHead;
  return params;
}

/**
 * Preservation samples per step. The extension does not set the preservation options, so the
 * engine's default applies (`preservation.batchSize` in src/engine/defaults.ts).
 */
export const preservationBatchSize = 4;

/** Tokens one run processes: steps × (batch + preservation batch) × sequence length. */
export function trainingTokens(training: Pick<TrainingDefaults, 'steps' | 'batchSize' | 'seqLen'>): number {
  return training.steps * (training.batchSize + preservationBatchSize) * training.seqLen;
}

/**
 * Training time in seconds at `tokensPerSecond`, which counts corpus and preservation tokens as
 * the engine's step events do. Model loading and preservation sampling come on top of this.
 */
export function estimateTrainingSeconds(training: Pick<TrainingDefaults, 'steps' | 'batchSize' | 'seqLen'>, tokensPerSecond: number | undefined): number | undefined {
  if (tokensPerSecond === undefined || !(tokensPerSecond > 0)) return undefined;
  return trainingTokens(training) / tokensPerSecond;
}

/**
 * Median tokens per second of the bundled stories260K model per backend, from `npm run bench`
 * (docs/benchmarks.md: 2 EPYC cores, Node 20). Only used for that model before a run measures it.
 */
export const bundledModelThroughput: Record<BackendName, number> = { tensorflow: 6_722, wasm: 1_181, cpu: 164 };

export interface ThroughputEstimate {
  tokensPerSecond: number;
  source: 'measured' | 'reference';
}

/**
 * Picks the throughput for a time estimate: the last measured one of this model on `backend`.
 * For `auto` it takes the fastest backend measured on this model. Without a measurement it uses
 * `reference` (the bundled model's benchmark, for that model only), and otherwise returns undefined.
 */
export function pickThroughput(
  measured: Readonly<Record<string, number>>,
  modelDir: string,
  backend: BackendChoice,
  reference?: Readonly<Record<BackendName, number>>,
): ThroughputEstimate | undefined {
  const forModel = Object.entries(measured).filter(([key, value]) => key.startsWith(`${modelDir}|`) && value > 0);
  if (backend !== 'auto') {
    const exact = forModel.find(([key]) => key === `${modelDir}|${backend}`);
    if (exact) return { tokensPerSecond: exact[1], source: 'measured' };
    return reference ? { tokensPerSecond: reference[backend], source: 'reference' } : undefined;
  }
  if (forModel.length > 0) return { tokensPerSecond: Math.max(...forModel.map(([, value]) => value)), source: 'measured' };
  // NOTE: `auto` picks the native backend only when it is installed; wasm is the common case.
  return reference ? { tokensPerSecond: reference.wasm, source: 'reference' } : undefined;
}

/** Model limits that the Train Pack options are checked against. */
export interface ModelLimits {
  numLayers: number;
  /** `max_position_embeddings`; undefined when config.json does not give it. */
  maxPositions: number | undefined;
}

export const minSeqLen = 8;

export type OptionProblem =
  | { kind: 'seq-len'; min: number; max: number | undefined }
  | { kind: 'layer-range'; layer: number; max: number }
  | { kind: 'layer-duplicate'; layer: number };

/** Checks a sequence length against the model's context length. */
export function checkSeqLen(value: number, model: ModelLimits): OptionProblem | undefined {
  const max = model.maxPositions;
  if (!Number.isSafeInteger(value) || value < minSeqLen || (max !== undefined && value > max)) return { kind: 'seq-len', min: minSeqLen, max };
  return undefined;
}

/** Checks Engram layer block numbers: each within [0, num_hidden_layers − 1], no repeats. */
export function checkLayers(layers: readonly number[], model: ModelLimits): OptionProblem | undefined {
  const seen = new Set<number>();
  for (const layer of layers) {
    if (layer < 0 || layer > model.numLayers - 1) return { kind: 'layer-range', layer, max: model.numLayers - 1 };
    if (seen.has(layer)) return { kind: 'layer-duplicate', layer };
    seen.add(layer);
  }
  return undefined;
}

/** Pack name proposed from the corpus: the first file or folder name, without extension. */
export function suggestPackName(corpus: readonly string[], existingNames: readonly string[]): string {
  const first = corpus[0] ?? 'pack';
  const base = (first.split(/[\\/]/).filter((part) => part.length > 0 && !/[*?]/.test(part)).pop() ?? 'pack').replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '-') || 'pack';
  const taken = new Set(existingNames.map((name) => name.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let index = 2; ; index++) {
    const candidate = `${base}-${index}`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}
