/**
 * Public types of the engine: what a caller (CLI, worker, extension) passes in and gets back.
 * The worker protocol carries these objects unchanged, so they hold only JSON-safe values.
 */

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

/** Engram geometry: which blocks get memory and how large the tables are. */
export interface EngramShape {
  /** 0-based decoder block indices; memory is added at the entry of each. */
  layers: number[];
  /** n-gram orders, always [2, 3] in this version. */
  orders: number[];
  /** Hash heads per order (K). */
  headsPerOrder: number;
  /** Width of one head's row (D_h). */
  headDim: number;
  /** Requested rows per head; the real table sizes are the next distinct primes. */
  rowsPerHead: number;
  /** Seed for the hash multipliers and the initial weights. */
  seed: number;
}

export interface PreservationOptions {
  /** Adds a KL term that keeps predictions close to the base model on text it samples itself. */
  enabled: boolean;
  /** Weight of the KL term relative to the corpus loss. */
  weight: number;
  /** Number of sequences sampled from the base model before training. */
  samples: number;
  /** Sampled sequences per batch (in addition to the corpus sequences). */
  batchSize: number;
}

export interface TrainOptions {
  modelDir: string;
  /** Files, folders or glob patterns; `.txt`, `.md` and `.jsonl` (with a `text` field). */
  corpus: string[];
  /** Output folder, ending in `.engram`. */
  packDir: string;
  /** Replaces an existing pack at `packDir`; otherwise an existing pack is an error. */
  replace: boolean;
  engram: EngramShape;
  steps: number;
  batchSize: number;
  /** Tokens per training sequence. */
  seqLen: number;
  /** Base learning rate of the dense parameters; tables use 5 × this. */
  learningRate: number;
  warmupSteps: number;
  /** Share of corpus sequences held out for the eval loss (0 disables it). */
  evalFraction: number;
  /** Steps between eval-loss measurements. */
  evalEvery: number;
  /** Steps between checkpoints (0 disables periodic ones; cancel still writes one). */
  checkpointEvery: number;
  /** Checkpoint folder; defaults to `<packDir>.checkpoint`. */
  checkpointDir?: string;
  /** Continues from the checkpoint in `checkpointDir` when one exists. */
  resume: boolean;
  preservation: PreservationOptions;
  backend: BackendChoice;
  /** Stops after this many steps even if `steps` is larger (used to test resume). */
  stopAfterSteps?: number;
}

export interface TrainStartEvent {
  type: 'start';
  backend: BackendName;
  totalSteps: number;
  startStep: number;
  corpusFiles: number;
  skippedFiles: { path: string; reason: string }[];
  trainTokens: number;
  evalTokens: number;
  /** Table rows per layer (sum over heads). */
  tableRows: number[];
  layers: number[];
  headsPerLayer: number;
}

export interface TrainPhaseEvent {
  type: 'phase';
  phase: 'loading' | 'tokenizing' | 'sampling' | 'training' | 'saving';
  message: string;
  /** 0..1 when known. */
  progress?: number;
}

export interface TrainStepEvent {
  type: 'step';
  step: number;
  totalSteps: number;
  loss: number;
  /** KL to the base model on its own samples; absent when preservation is off. */
  preservationLoss?: number;
  evalLoss?: number;
  learningRate: number;
  tokensPerSecond: number;
  /** Unique table rows the batch touched, per Engram layer. */
  rowsTouched: number[];
  /** Share of each layer's rows touched at least once so far (0..1). */
  rowsTouchedShare: number[];
  /** Bytes held by backend tensors after the step. */
  backendBytes: number;
  rssBytes: number;
  elapsedMs: number;
}

/** Row hits per layer and head, bucketed along the table for a heatmap. */
export interface RowHitsEvent {
  type: 'row-hits';
  step: number;
  layers: number[];
  /** [layer][head][bucket] hit counts since training started. */
  buckets: number[][][];
}

export interface TrainCheckpointEvent {
  type: 'checkpoint';
  step: number;
  path: string;
}

export interface TrainDoneEvent {
  type: 'done';
  packDir: string;
  summary: TrainingSummary;
  cancelled: boolean;
}

export type TrainEvent = TrainStartEvent | TrainPhaseEvent | TrainStepEvent | RowHitsEvent | TrainCheckpointEvent | TrainDoneEvent;

export interface TrainingSummary {
  steps: number;
  finalLoss: number;
  finalEvalLoss?: number;
  finalPreservationLoss?: number;
  trainTokens: number;
  seconds: number;
  backend: BackendName;
  options: Omit<TrainOptions, 'modelDir' | 'corpus' | 'packDir' | 'checkpointDir'>;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 means greedy. */
  temperature: number;
  topP: number;
  seed?: number;
  stopAtEos: boolean;
}
