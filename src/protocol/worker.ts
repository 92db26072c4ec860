/**
 * Messages between the extension host and the worker process (Node IPC over `child_process.fork`).
 *
 * The extension sends requests with ids. The worker sends exactly one reply per request, with the
 * request's id, and sends events at any time. The worker's first message is a `ready` event with
 * its protocol version; the extension stops a worker whose version differs from its own.
 */
import type { GenerateOptions } from '../engine/types';
import { packStatisticsParams, packStatisticsResult, probeRunResult, tokenInspection } from './inspect';
import { backendChoice, backendName, doneEvent, historyRecord, packMetadata } from './trainEvents';
import {
  array,
  boolean,
  integer,
  literal,
  number,
  object,
  oneOf,
  optional,
  string,
  tagged,
  type Infer,
  type Validator,
} from './validate';

/** Raised by one on every incompatible change to this file or to `trainEvents.ts`. */
export const WORKER_PROTOCOL_VERSION = 2;

const generateOptions: Validator<GenerateOptions> = object({
  maxNewTokens: integer,
  temperature: number,
  topP: number,
  seed: optional(integer),
  stopAtEos: boolean,
});

/** Training request: paths and the options the user chose; the worker fills the rest from the engine defaults. */
export const trainParams = object({
  modelDir: string,
  corpus: array(string),
  packDir: string,
  replace: boolean,
  resume: boolean,
  backend: backendChoice,
  steps: optional(integer),
  batchSize: optional(integer),
  seqLen: optional(integer),
  learningRate: optional(number),
  /** Empty or missing: the engine's layer placement. */
  layers: optional(array(integer)),
  /** 0 or missing: the engine's default table size. */
  rowsPerHead: optional(integer),
  checkpointEvery: optional(integer),
});
export type TrainParams = Infer<typeof trainParams>;

export const corpusPreview = object({
  files: integer,
  bytes: integer,
  /** Tokens as the model's tokenizer counts them, without special tokens. */
  tokens: integer,
  /** True when only a leading sample of a large corpus was tokenized and `tokens` was scaled up by bytes. */
  estimated: boolean,
  skipped: array(object({ path: string, reason: string })),
});
export type CorpusPreview = Infer<typeof corpusPreview>;

export const packEntry = object({
  dir: string,
  info: optional(packMetadata),
  /** Reason the folder is not a readable pack. */
  error: optional(string),
  /** Reason the pack cannot be attached to the selected model. */
  mismatch: optional(string),
});
export type PackEntry = Infer<typeof packEntry>;

export const backendProbe = object({
  /** Backend name, or the npm package for the native backend. */
  name: string,
  available: boolean,
  detail: string,
});
export type BackendProbe = Infer<typeof backendProbe>;

export const doctorReport = object({
  nodeVersion: string,
  platform: string,
  arch: string,
  cpus: integer,
  totalMemoryBytes: number,
  backends: array(backendProbe),
  gpus: array(object({ name: string, memoryTotalBytes: number })),
});
export type DoctorReport = Infer<typeof doctorReport>;

const empty = object({});
const passThrough: Validator<unknown> = (raw) => raw;

/** Request and result validators for every method the worker serves. */
export const workerMethods = {
  train: { params: trainParams, result: doneEvent },
  cancel: { params: empty, result: object({ cancelling: boolean }) },
  previewCorpus: { params: object({ modelDir: string, files: array(string) }), result: corpusPreview },
  load: { params: object({ modelDir: string, backend: backendChoice }), result: object({ backend: backendName }) },
  attach: { params: object({ packDir: string }), result: packMetadata },
  detach: { params: empty, result: empty },
  /** `usePack: false` continues the prompt with the base model although a pack is attached. */
  generate: { params: object({ prompt: string, options: generateOptions, usePack: optional(boolean) }), result: object({ text: string }) },
  /** Per-token memory hits of `text` with the attached pack; `maxTokens` counts BOS. */
  inspect: { params: object({ text: string, maxTokens: integer }), result: tokenInspection },
  packStatistics: { params: packStatisticsParams, result: packStatisticsResult },
  /** Scores a probe file (tab-separated prompt, answer, relation) with and without the attached pack. */
  runProbes: { params: object({ file: string }), result: probeRunResult },
  listPacks: { params: object({ packsDir: string, modelDir: optional(string) }), result: array(packEntry) },
  doctor: { params: empty, result: doctorReport },
  shutdown: { params: empty, result: empty },
} as const;

export type WorkerMethod = keyof typeof workerMethods;
export type WorkerParams<M extends WorkerMethod> = Infer<(typeof workerMethods)[M]['params']>;
export type WorkerResult<M extends WorkerMethod> = Infer<(typeof workerMethods)[M]['result']>;
export const workerMethodNames = Object.keys(workerMethods) as WorkerMethod[];

export interface WorkerRequest<M extends WorkerMethod = WorkerMethod> {
  kind: 'request';
  id: number;
  method: M;
  params: WorkerParams<M>;
}

/** Validates the envelope and then the params of the named method. */
export function parseWorkerRequest(value: unknown): WorkerRequest {
  const envelope = object({ kind: literal('request'), id: integer, method: oneOf(workerMethodNames), params: passThrough })(value);
  const params = workerMethods[envelope.method].params(envelope.params, '$.params');
  return { kind: 'request', id: envelope.id, method: envelope.method, params } as WorkerRequest;
}

export const errorCodes = [
  'invalid-argument',
  'not-found',
  'invalid-model',
  'unsupported-architecture',
  'invalid-safetensors',
  'invalid-corpus',
  'invalid-pack',
  'pack-mismatch',
  'pack-exists',
  'backend-unavailable',
  'non-finite-loss',
  'out-of-memory',
  'cancelled',
  'busy',
  'protocol',
  'internal',
] as const;
export type WorkerErrorCode = (typeof errorCodes)[number];

export const workerError = object({
  code: oneOf(errorCodes),
  message: string,
  /** Stack trace for the log; never shown in a notification. */
  stack: optional(string),
});
export type WorkerError = Infer<typeof workerError>;

const successReply = object({ kind: literal('reply'), id: integer, ok: literal(true), result: passThrough });
const failureReply = object({ kind: literal('reply'), id: integer, ok: literal(false), error: workerError });

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error'] as const;

export const workerEvent = tagged('event', {
  ready: object({ kind: literal('event'), event: literal('ready'), protocolVersion: integer, pid: integer }),
  log: object({ kind: literal('event'), event: literal('log'), level: oneOf(logLevels), message: string }),
  train: object({ kind: literal('event'), event: literal('train'), record: historyRecord }),
  /** `text` is all text generated so far for request `requestId`, not only the newest token. */
  token: object({ kind: literal('event'), event: literal('token'), requestId: integer, text: string }),
});
export type WorkerEvent = Infer<typeof workerEvent>;

export type WorkerReply =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: WorkerError };

export type WorkerMessage = WorkerReply | WorkerEvent;

/** Validates a message from the worker; a reply keeps `result` unchecked until the caller knows the method. */
export function parseWorkerMessage(value: unknown): WorkerMessage {
  const { kind } = object({ kind: oneOf(['reply', 'event']) })(value);
  if (kind === 'event') return workerEvent(value);
  const { ok } = object({ ok: boolean })(value);
  return ok ? successReply(value) : failureReply(value);
}
