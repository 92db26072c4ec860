/** The real engine behind the worker protocol. Only this worker file imports engine modules. */
import { cpus, totalmem } from 'node:os';
import { probeBackends } from '../engine/backend';
import { defaultTrainOptions } from '../engine/defaults';
import type { Logger } from '../engine/log';
import { readModelConfig } from '../engine/model/config';
import { checkPackForModel, listPacks } from '../engine/pack/pack';
import { EngramRuntime } from '../engine/runtime';
import { ModelTokenizer } from '../engine/tokenizer';
import { loadCorpus } from '../engine/train/corpus';
import { trainPack } from '../engine/train/trainer';
import type { TrainOptions } from '../engine/types';
import type { PackStatisticsParams } from '../protocol/inspect';
import type { CorpusPreview, TrainParams } from '../protocol/worker';
import { listGpus } from './gpuMonitor';
import { inspectTokens, runProbeFile, statisticsForPack } from './inspectEngine';
import { WorkerFailure, type WorkerEngine } from './server';

/** Corpus bytes tokenized for a preview; a larger corpus is counted on a leading sample and scaled by bytes. */
const previewSampleBytes = 16 * 1024 * 1024;

/** Builds the engine's options: its defaults, overridden by what the user chose. */
export function toTrainOptions(params: TrainParams): TrainOptions {
  const base = defaultTrainOptions({ modelDir: params.modelDir, corpus: params.corpus, packDir: params.packDir });
  const overrides: Partial<TrainOptions> = { replace: params.replace, resume: params.resume, backend: params.backend };
  if (params.steps !== undefined) overrides.steps = params.steps;
  if (params.batchSize !== undefined) overrides.batchSize = params.batchSize;
  if (params.seqLen !== undefined) overrides.seqLen = params.seqLen;
  if (params.learningRate !== undefined) overrides.learningRate = params.learningRate;
  if (params.checkpointEvery !== undefined) overrides.checkpointEvery = params.checkpointEvery;
  overrides.engram = {
    ...base.engram,
    ...(params.layers !== undefined && params.layers.length > 0 ? { layers: params.layers } : {}),
    ...(params.rowsPerHead !== undefined && params.rowsPerHead > 0 ? { rowsPerHead: params.rowsPerHead } : {}),
  };
  return defaultTrainOptions({ ...overrides, modelDir: params.modelDir, corpus: params.corpus, packDir: params.packDir });
}

export class EngineAdapter implements WorkerEngine {
  private runtime: EngramRuntime | undefined;

  train(params: TrainParams, hooks: Parameters<WorkerEngine['train']>[1]) {
    return trainPack(toTrainOptions(params), hooks);
  }

  previewCorpus(modelDir: string, files: string[]): CorpusPreview {
    const corpus = loadCorpus(files, { cwd: process.cwd() });
    const config = readModelConfig(modelDir);
    const tokenizer = ModelTokenizer.load(modelDir, config.bosTokenId, config.eosTokenIds);
    let sampledBytes = 0;
    let tokens = 0;
    for (const document of corpus.documents) {
      if (sampledBytes >= previewSampleBytes) break;
      sampledBytes += Buffer.byteLength(document);
      tokens += tokenizer.encode(document, false).length;
    }
    const totalBytes = corpus.documents.reduce((sum, document) => sum + Buffer.byteLength(document), 0);
    const estimated = sampledBytes < totalBytes;
    return {
      files: corpus.files.length,
      bytes: corpus.files.reduce((sum, file) => sum + file.bytes, 0),
      tokens: estimated ? Math.round((tokens * totalBytes) / sampledBytes) : tokens,
      estimated,
      skipped: corpus.skipped,
    };
  }

  async load(modelDir: string, backend: TrainParams['backend'], log: Logger) {
    this.runtime?.dispose();
    this.runtime = undefined;
    this.runtime = await EngramRuntime.load(modelDir, { backend, log });
    return { backend: this.runtime.backend };
  }

  attach(packDir: string) {
    return this.requireRuntime().attach(packDir);
  }

  detach(): void {
    this.runtime?.detach();
  }

  generate(prompt: string, options: Parameters<WorkerEngine['generate']>[1], onToken: (text: string) => void, usePack = true): Promise<string> {
    return this.requireRuntime().generate(prompt, options, onToken, usePack);
  }

  inspect(text: string, maxTokens: number) {
    return inspectTokens(this.requireRuntime(), text, maxTokens);
  }

  packStatistics(params: PackStatisticsParams, log: Logger) {
    return statisticsForPack(this.requireRuntime(), params, process.cwd(), log);
  }

  runProbes(file: string) {
    return runProbeFile(this.requireRuntime(), file);
  }

  listPacks(packsDir: string, modelDir: string | undefined) {
    return listPacks(packsDir).map((entry) => ({
      dir: entry.dir,
      info: entry.info,
      error: entry.error,
      mismatch: entry.info && modelDir ? checkPackForModel(entry.dir, modelDir) : undefined,
    }));
  }

  async doctor() {
    const probes = await probeBackends();
    return {
      nodeVersion: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
      totalMemoryBytes: totalmem(),
      backends: probes.map((probe) => ({ name: probe.name, available: probe.loads, detail: probe.reason ?? '' })),
      gpus: await listGpus(),
    };
  }

  dispose(): void {
    this.runtime?.dispose();
    this.runtime = undefined;
  }

  private requireRuntime(): EngramRuntime {
    if (!this.runtime) throw new WorkerFailure('invalid-argument', 'No model is loaded in the worker. Attach a pack to load its model first.');
    return this.runtime;
  }
}
