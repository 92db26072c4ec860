/**
 * Request dispatch inside the worker process. The engine is passed in, so this file runs in
 * tests with a fake engine and in `main.ts` with the real one.
 */
import type { Logger, LogLevel } from '../engine/log';
import type { GenerateOptions, TrainDoneEvent, TrainEvent } from '../engine/types';
import type { PackStatisticsParams, PackStatisticsResult, ProbeRunResult, TokenInspectionMessage } from '../protocol/inspect';
import type { PackMetadata } from '../protocol/trainEvents';
import { ProtocolError } from '../protocol/validate';
import {
  errorCodes,
  parseWorkerRequest,
  WORKER_PROTOCOL_VERSION,
  type CorpusPreview,
  type DoctorReport,
  type PackEntry,
  type TrainParams,
  type WorkerError,
  type WorkerErrorCode,
  type WorkerEvent,
  type WorkerMethod,
  type WorkerReply,
  type WorkerRequest,
  type WorkerResult,
} from '../protocol/worker';
import type { GpuMonitor } from './gpuMonitor';

/** Engine operations the worker serves; `engineAdapter.ts` implements them with the real modules. */
export interface WorkerEngine {
  train(params: TrainParams, hooks: { onEvent: (event: TrainEvent) => void; signal: AbortSignal; log: Logger }): Promise<TrainDoneEvent>;
  previewCorpus(modelDir: string, files: string[]): CorpusPreview;
  load(modelDir: string, backend: TrainParams['backend'], log: Logger): Promise<{ backend: 'tensorflow' | 'wasm' | 'cpu' }>;
  attach(packDir: string): PackMetadata;
  detach(): void;
  /** `usePack: false` runs the base model although a pack is attached. */
  generate(prompt: string, options: GenerateOptions, onToken: (text: string) => void, usePack?: boolean): Promise<string>;
  inspect(text: string, maxTokens: number): Promise<TokenInspectionMessage>;
  packStatistics(params: PackStatisticsParams, log: Logger): Promise<PackStatisticsResult>;
  runProbes(file: string): Promise<ProbeRunResult>;
  listPacks(packsDir: string, modelDir: string | undefined): PackEntry[];
  doctor(): Promise<DoctorReport>;
  dispose(): void;
}

export type OutgoingMessage = WorkerReply | WorkerEvent;

export interface WorkerServerOptions {
  engine: WorkerEngine;
  send: (message: OutgoingMessage) => void;
  /** Called after the reply to `shutdown` has been sent. */
  exit: () => void;
  gpuMonitor?: GpuMonitor;
  logLevel?: LogLevel;
}

const levelRank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export class WorkerServer {
  readonly log: Logger;
  private training: AbortController | undefined;

  constructor(private readonly options: WorkerServerOptions) {
    const minLevel = levelRank[options.logLevel ?? 'info'];
    const emit = (level: LogLevel) => (message: string) => {
      if (levelRank[level] >= minLevel) options.send({ kind: 'event', event: 'log', level, message });
    };
    this.log = { trace: emit('trace'), debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
  }

  /** Sends the handshake; the extension waits for it before its first request. */
  announce(pid: number): void {
    this.options.send({ kind: 'event', event: 'ready', protocolVersion: WORKER_PROTOCOL_VERSION, pid });
  }

  /** Handles one raw IPC message. Errors become failure replies, so every request with a valid id gets one reply. */
  async handle(raw: unknown): Promise<void> {
    let request: WorkerRequest;
    try {
      request = parseWorkerRequest(raw);
    } catch (error) {
      const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
      this.log.error(`Rejected a message from the extension: ${(error as Error).message}`);
      if (typeof id === 'number' && Number.isSafeInteger(id)) this.reply(id, undefined, toWorkerError(error));
      return;
    }

    try {
      const result = await this.dispatch(request);
      this.reply(request.id, result, undefined);
    } catch (error) {
      const workerError = toWorkerError(error);
      this.log.debug(`${request.method} #${request.id} failed: ${workerError.stack ?? workerError.message}`);
      this.reply(request.id, undefined, workerError);
    }
    if (request.method === 'shutdown') this.options.exit();
  }

  private reply(id: number, result: unknown, error: WorkerError | undefined): void {
    if (error) this.options.send({ kind: 'reply', id, ok: false, error });
    else this.options.send({ kind: 'reply', id, ok: true, result: result ?? {} });
  }

  private async dispatch(request: WorkerRequest): Promise<WorkerResult<WorkerMethod>> {
    const { engine } = this.options;
    switch (request.method) {
      case 'train':
        return this.train(request as WorkerRequest<'train'>);
      case 'cancel': {
        const cancelling = this.training !== undefined && !this.training.signal.aborted;
        if (cancelling) {
          this.log.info('Cancel requested: finishing the current step, then writing a checkpoint.');
          this.training?.abort();
        }
        return { cancelling };
      }
      case 'previewCorpus': {
        const { modelDir, files } = (request as WorkerRequest<'previewCorpus'>).params;
        return engine.previewCorpus(modelDir, files);
      }
      case 'load': {
        const { modelDir, backend } = (request as WorkerRequest<'load'>).params;
        return engine.load(modelDir, backend, this.log);
      }
      case 'attach':
        return engine.attach((request as WorkerRequest<'attach'>).params.packDir);
      case 'detach':
        engine.detach();
        return {};
      case 'generate': {
        const { prompt, options, usePack } = (request as WorkerRequest<'generate'>).params;
        const send = this.options.send;
        const text = await engine.generate(prompt, options, (token) => send({ kind: 'event', event: 'token', requestId: request.id, text: token }), usePack ?? true);
        return { text };
      }
      case 'inspect': {
        const { text, maxTokens } = (request as WorkerRequest<'inspect'>).params;
        return engine.inspect(text, maxTokens);
      }
      case 'packStatistics':
        return engine.packStatistics((request as WorkerRequest<'packStatistics'>).params, this.log);
      case 'runProbes':
        return engine.runProbes((request as WorkerRequest<'runProbes'>).params.file);
      case 'listPacks': {
        const { packsDir, modelDir } = (request as WorkerRequest<'listPacks'>).params;
        return engine.listPacks(packsDir, modelDir);
      }
      case 'doctor':
        return engine.doctor();
      case 'shutdown':
        this.training?.abort();
        engine.dispose();
        return {};
    }
  }

  private async train(request: WorkerRequest<'train'>): Promise<TrainDoneEvent> {
    if (this.training) throw new WorkerFailure('busy', 'A training run is already active in this worker. Cancel it or wait for it to finish.');
    const controller = new AbortController();
    this.training = controller;
    let step = 0;
    const send = this.options.send;
    const stopMonitor = this.options.gpuMonitor?.start((sample) => {
      send({ kind: 'event', event: 'train', record: { type: 'gpu-memory', usedBytes: sample.usedBytes, totalBytes: sample.totalBytes, step } });
    });
    try {
      return await this.options.engine.train(request.params, {
        signal: controller.signal,
        log: this.log,
        onEvent: (event) => {
          if (event.type === 'step') step = event.step;
          send({ kind: 'event', event: 'train', record: event });
        },
      });
    } finally {
      stopMonitor?.();
      this.training = undefined;
    }
  }
}

/** Error raised by the worker itself with a protocol error code. */
export class WorkerFailure extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Heap exhaustion shows up as a RangeError from typed-array allocation, or as a backend message. */
const outOfMemoryPattern = /out of memory|allocation failed|Array buffer allocation|Invalid typed array length|OOM/i;

export function toWorkerError(error: unknown): WorkerError {
  if (error instanceof ProtocolError) return { code: 'protocol', message: error.message };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (errorCodes as readonly string[]).includes(code)) {
      return { code: code as WorkerErrorCode, message: error.message, stack: error.stack };
    }
    if (outOfMemoryPattern.test(error.message)) {
      return { code: 'out-of-memory', message: `Out of memory: ${error.message}`, stack: error.stack };
    }
    return { code: 'internal', message: error.message, stack: error.stack };
  }
  return { code: 'internal', message: String(error) };
}
