/** Pure parts of the Train Pack flow: request building, pack paths and the time estimate. */
import { join } from 'node:path';
import type { BackendChoice } from '../../engine/types';
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
 * Training time in seconds from a measured throughput: steps × batch × sequence length tokens
 * at `tokensPerSecond`. Model loading and preservation sampling come on top of this.
 */
export function estimateTrainingSeconds(training: Pick<TrainingDefaults, 'steps' | 'batchSize' | 'seqLen'>, tokensPerSecond: number | undefined): number | undefined {
  if (tokensPerSecond === undefined || !(tokensPerSecond > 0)) return undefined;
  return (training.steps * training.batchSize * training.seqLen) / tokensPerSecond;
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
