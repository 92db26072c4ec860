/**
 * Validators for the engine's training events and the pack metadata that the worker forwards.
 * Each validator is annotated with the engine's own type, so a change to those types fails the
 * build here instead of slipping through at run time.
 */
import type {
  BackendChoice,
  BackendName,
  EngramShape,
  PreservationOptions,
  RowHitsEvent,
  TrainCheckpointEvent,
  TrainDoneEvent,
  TrainEvent,
  TrainingSummary,
  TrainOptions,
  TrainPhaseEvent,
  TrainStartEvent,
  TrainStepEvent,
} from '../engine/types';
import { array, boolean, integer, literal, number, object, oneOf, optional, string, tagged, type Validator } from './validate';

export const backendNames = ['tensorflow', 'wasm', 'cpu'] as const;
export const backendChoices = ['auto', ...backendNames] as const;
export const backendName: Validator<BackendName> = oneOf(backendNames);
export const backendChoice: Validator<BackendChoice> = oneOf(backendChoices);

/** Largest array a message may carry; bounds memory use on a malformed message. */
const maxItems = 1 << 20;
const numbers = array(number, maxItems);
const integers = array(integer, maxItems);

const engramShape: Validator<EngramShape> = object({
  layers: integers,
  orders: integers,
  headsPerOrder: integer,
  headDim: integer,
  rowsPerHead: integer,
  seed: integer,
});

const preservationOptions: Validator<PreservationOptions> = object({
  enabled: boolean,
  weight: number,
  samples: integer,
  batchSize: integer,
});

export const summaryOptions: Validator<TrainingSummary['options']> = object({
  replace: boolean,
  engram: engramShape,
  steps: integer,
  batchSize: integer,
  seqLen: integer,
  learningRate: number,
  warmupSteps: integer,
  evalFraction: number,
  evalEvery: integer,
  checkpointEvery: integer,
  resume: boolean,
  preservation: preservationOptions,
  backend: backendChoice,
  stopAfterSteps: optional(integer),
});

export const trainOptions: Validator<TrainOptions> = (value, path = '$') => {
  const paths = object({ modelDir: string, corpus: array(string, maxItems), packDir: string, checkpointDir: optional(string) })(value, path);
  return { ...summaryOptions(value, path), ...paths };
};

/**
 * Loss that may be NaN, which JSON carries as null: a run cancelled before its first step
 * reports NaN as its final loss.
 */
const lossOrNaN: Validator<number> = (value, path = '$') => (value === null ? Number.NaN : number(value, path));

export const trainingSummary: Validator<TrainingSummary> = object({
  steps: integer,
  finalLoss: lossOrNaN,
  finalEvalLoss: optional(lossOrNaN),
  finalPreservationLoss: optional(lossOrNaN),
  trainTokens: integer,
  seconds: number,
  backend: backendName,
  options: summaryOptions,
});

const startEvent: Validator<TrainStartEvent> = object({
  type: literal('start'),
  backend: backendName,
  totalSteps: integer,
  startStep: integer,
  corpusFiles: integer,
  skippedFiles: array(object({ path: string, reason: string }), maxItems),
  trainTokens: integer,
  evalTokens: integer,
  tableRows: integers,
  layers: integers,
  headsPerLayer: integer,
});

const phaseEvent: Validator<TrainPhaseEvent> = object({
  type: literal('phase'),
  phase: oneOf(['loading', 'tokenizing', 'sampling', 'training', 'saving']),
  message: string,
  progress: optional(number),
});

const stepEvent: Validator<TrainStepEvent> = object({
  type: literal('step'),
  step: integer,
  totalSteps: integer,
  loss: number,
  preservationLoss: optional(number),
  evalLoss: optional(number),
  learningRate: number,
  tokensPerSecond: number,
  rowsTouched: integers,
  rowsTouchedShare: numbers,
  backendBytes: number,
  rssBytes: number,
  elapsedMs: number,
});

const rowHitsEvent: Validator<RowHitsEvent> = object({
  type: literal('row-hits'),
  step: integer,
  layers: integers,
  buckets: array(array(numbers, 4096), 4096),
});

const checkpointEvent: Validator<TrainCheckpointEvent> = object({
  type: literal('checkpoint'),
  step: integer,
  path: string,
});

export const doneEvent: Validator<TrainDoneEvent> = object({
  type: literal('done'),
  packDir: string,
  summary: trainingSummary,
  cancelled: boolean,
});

export const trainEvent: Validator<TrainEvent> = tagged('type', {
  start: startEvent,
  phase: phaseEvent,
  step: stepEvent,
  'row-hits': rowHitsEvent,
  checkpoint: checkpointEvent,
  done: doneEvent,
});

/** GPU memory read from `nvidia-smi` by the worker while it trains; not an engine event. */
export interface GpuMemoryEvent {
  type: 'gpu-memory';
  usedBytes: number;
  totalBytes: number;
  /** Training step that was running when the sample was taken. */
  step: number;
}

export const gpuMemoryEvent: Validator<GpuMemoryEvent> = object({
  type: literal('gpu-memory'),
  usedBytes: number,
  totalBytes: number,
  step: integer,
});

/** One entry of a run's history: what the dashboard plots and replays. */
export type HistoryRecord = TrainEvent | GpuMemoryEvent;

export const historyRecord: Validator<HistoryRecord> = (value, path = '$') => {
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'gpu-memory') {
    return gpuMemoryEvent(value, path);
  }
  return trainEvent(value, path);
};

/** Base model fields that a pack records; mirrors the engine's `PackInfo.baseModel`. */
export interface PackBaseModel {
  architecture: string;
  hiddenSize: number;
  numLayers: number;
  configSha256: string;
  tokenizerSha256: string;
  name: string;
}

/** Pack metadata as the worker sends it; structurally the engine's `PackInfo`. */
export interface PackMetadata {
  dir: string;
  name: string;
  baseModel: PackBaseModel;
  createdAt: string;
  bytes: number;
  summary?: TrainingSummary;
}

export const packMetadata: Validator<PackMetadata> = object({
  dir: string,
  name: string,
  baseModel: object({
    architecture: string,
    hiddenSize: integer,
    numLayers: integer,
    configSha256: string,
    tokenizerSha256: string,
    name: string,
  }),
  createdAt: string,
  bytes: number,
  summary: optional(trainingSummary),
});
