import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { initBackend } from '../backend';
import { buildCompressionTable } from '../engram/compression';
import { EngramMemory } from '../engram/memory';
import { EngramError } from '../errors';
import { meanNextTokenLoss } from '../eval';
import type { Logger } from '../log';
import { readModelConfig } from '../model/config';
import { LlamaModel } from '../model/llama';
import { fingerprintModel } from '../pack/fingerprint';
import { assertWritablePackPath, savePack } from '../pack/pack';
import { Rng } from '../random';
import { ModelTokenizer } from '../tokenizer';
import type { RowHitsEvent, TrainDoneEvent, TrainEvent, TrainOptions, TrainStepEvent, TrainingSummary } from '../types';
import { DenseAdam } from './adam';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { corpusManifest, loadCorpus } from './corpus';
import { chunkStream, sampleWindows, tokenizeDocuments } from './data';
import { sampleFromBase } from './preservation';
import { learningRateFactor } from './schedule';
import { TrainStepper } from './step';
import { validateTrainOptions } from './validate';

export interface TrainHooks {
  onEvent: (event: TrainEvent) => void;
  signal?: AbortSignal;
  log: Logger;
}

/** Steps between row-hit heatmap events. */
const rowHitsEvery = 10;
const heatmapBuckets = 64;

/**
 * Trains an Engram pack on a corpus while the model stays frozen, and writes it to
 * `options.packDir`. Cancelling (through `hooks.signal`) finishes the current step, writes a
 * checkpoint and resolves with `cancelled: true`; no pack is written then.
 */
export async function trainPack(options: TrainOptions, hooks: TrainHooks): Promise<TrainDoneEvent> {
  const { log, onEvent, signal } = hooks;
  validateTrainOptions(options);
  const startedAt = Date.now();
  const packDir = resolve(options.packDir);
  assertWritablePackPath(packDir, options.replace);
  const checkpointDir = resolve(options.checkpointDir ?? `${packDir}.checkpoint`);

  const backend = await initBackend(options.backend, log);
  onEvent({ type: 'phase', phase: 'loading', message: `Loading the model from ${options.modelDir}` });
  const config = readModelConfig(options.modelDir);
  const badLayer = options.engram.layers.find((layer) => layer >= config.numLayers);
  if (badLayer !== undefined) {
    throw new EngramError('invalid-argument', `Engram layer ${badLayer} does not exist: the model has ${config.numLayers} decoder blocks (0 to ${config.numLayers - 1}). Choose layers in that range.`);
  }
  if (options.seqLen > config.maxPositionEmbeddings) {
    throw new EngramError(
      'invalid-argument',
      `The sequence length ${options.seqLen} is longer than the model's context of ${config.maxPositionEmbeddings} tokens (max_position_embeddings). Choose a sequence length of at most ${config.maxPositionEmbeddings}.`,
    );
  }
  const model = LlamaModel.load(options.modelDir, log);
  const tokenizer = ModelTokenizer.load(options.modelDir, config.bosTokenId, config.eosTokenIds);
  const baseModel = fingerprintModel(options.modelDir, config);

  onEvent({ type: 'phase', phase: 'tokenizing', message: 'Reading and tokenizing the corpus' });
  const corpus = loadCorpus(options.corpus, { cwd: process.cwd() });
  for (const skipped of corpus.skipped) log.warn(`Skipped ${skipped.path}: ${skipped.reason}`);
  const streams = tokenizeDocuments(corpus.documents, tokenizer, options.evalFraction, options.seqLen);
  const manifest = corpusManifest(corpus);
  const compressionTable = buildCompressionTable(
    tokenizer.size,
    (id) => tokenizer.decode([id], false),
    (id) => tokenizer.tokenString(id),
  );
  const padRawId = config.padTokenId ?? tokenizer.padId ?? config.eosTokenIds[0] ?? 0;
  const compression = { canonical: compressionTable.canonical, size: compressionTable.size, padCanonicalId: compressionTable.canonical[padRawId] ?? 0 };
  log.info(`Tokenizer compression: ${tokenizer.size} ids -> ${compression.size} canonical ids`);

  // A checkpoint may only continue a run with the same model, data and shape.
  const runFingerprint = createHash('sha256')
    .update(JSON.stringify([baseModel, manifest.files, options.engram, options.seqLen, options.batchSize, options.preservation, options.evalFraction]))
    .digest('hex');

  let memory: EngramMemory;
  let denseOptimizer: DenseAdam;
  let stepper: TrainStepper;
  let rng: Rng;
  let samples: number[][] = [];
  let history: TrainStepEvent[] = [];
  let startStep = 0;
  if (options.resume && hasCheckpoint(checkpointDir)) {
    const checkpoint = loadCheckpoint(checkpointDir, runFingerprint);
    memory = checkpoint.memory;
    denseOptimizer = checkpoint.denseOptimizer;
    stepper = new TrainStepper(model, memory, denseOptimizer, checkpoint.tableOptimizers);
    rng = new Rng(options.engram.seed);
    rng.setState(checkpoint.state.rngState);
    samples = checkpoint.state.samples;
    history = checkpoint.state.history;
    startStep = checkpoint.state.step;
    log.info(`Resuming from the checkpoint in ${checkpointDir} at step ${startStep}`);
  } else {
    if (options.resume) log.warn(`No checkpoint in ${checkpointDir}; starting from step 0.`);
    assertTablesFit(options);
    memory = EngramMemory.initialise(options.engram, config.hiddenSize, compression);
    denseOptimizer = DenseAdam.forParams(memory.denseTensors());
    stepper = new TrainStepper(model, memory, denseOptimizer);
    rng = new Rng(options.engram.seed);
    if (options.preservation.enabled) {
      const bosId = tokenizer.bosId ?? config.bosTokenId ?? 0;
      const count = options.preservation.samples;
      onEvent({ type: 'phase', phase: 'sampling', message: `Sampling ${count} sequences from the base model for the preservation loss`, progress: 0 });
      samples = await sampleFromBase(model, bosId, count, options.seqLen, rng, (done) =>
        onEvent({ type: 'phase', phase: 'sampling', message: `Sampled ${done} of ${count} sequences`, progress: done / count }),
      );
    }
  }

  const layerRows = memory.hashing.map((layer) => layer.rows);
  log.info(`Engram tables: ${layerRows.map((rows) => rows.toLocaleString('en-US')).join(' + ')} rows of ${options.engram.headDim} floats, ${(memory.tableBytes / 2 ** 20).toFixed(0)} MiB (three times that with the optimizer state)`);
  const touched = layerRows.map((rows) => new Uint8Array(rows));
  const touchedCount = memory.rowHits.map((hits, l) => {
    let count = 0;
    for (let row = 0; row < hits.length; row++) {
      if (hits[row] > 0) {
        touched[l][row] = 1;
        count++;
      }
    }
    return count;
  });
  const evalSequences = streams.eval.length > 0 ? chunkStream(streams.eval, options.seqLen) : [];
  const endStep = Math.min(options.steps, options.stopAfterSteps ?? options.steps);
  onEvent({
    type: 'start',
    backend: backend.name,
    totalSteps: options.steps,
    startStep,
    corpusFiles: corpus.files.length,
    skippedFiles: corpus.skipped,
    trainTokens: streams.train.length,
    evalTokens: streams.eval.length,
    tableRows: layerRows,
    layers: options.engram.layers,
    headsPerLayer: memory.heads,
  });
  onEvent({ type: 'phase', phase: 'training', message: `Training ${options.steps} steps on ${backend.name}` });

  const saveState = async (step: number) => {
    await saveCheckpoint(checkpointDir, { memory, baseModel, corpus: manifest }, stepper.tableOptimizers, denseOptimizer, {
      step,
      rngState: rng.getState(),
      denseAdamStep: denseOptimizer.step,
      samples,
      history,
      fingerprint: runFingerprint,
    });
    onEvent({ type: 'checkpoint', step, path: checkpointDir });
  };

  let step = startStep;
  let cancelled = false;
  let lastRowHits: RowHitsEvent | undefined;
  try {
    for (; step < endStep; step++) {
      if (signal?.aborted) {
        cancelled = true;
        break;
      }
      const stepStarted = performance.now();
      const learningRate = options.learningRate * learningRateFactor(step, options.steps, options.warmupSteps);
      const corpusBatch = sampleWindows(streams, options.batchSize, options.seqLen, rng);
      const sampleBatch = options.preservation.enabled
        ? Array.from({ length: options.preservation.batchSize }, () => samples[rng.nextInt(samples.length)])
        : [];
      const result = stepper.step({ corpus: corpusBatch, samples: sampleBatch, preservationWeight: options.preservation.weight, learningRate });
      if (!Number.isFinite(result.loss) || (result.preservationLoss !== undefined && !Number.isFinite(result.preservationLoss))) {
        const kept = hasCheckpoint(checkpointDir) ? ` The last good checkpoint is in ${checkpointDir}.` : '';
        throw new EngramError(
          'non-finite-loss',
          `Training stopped at step ${step + 1}: the loss became ${result.loss} (learning rate ${learningRate}). Lower --lr (now ${options.learningRate}) and train again.${kept}`,
        );
      }
      const rowsTouchedShare = result.lookup.rows.map((rows, l) => {
        for (let i = 0; i < rows.length; i++) {
          if (touched[l][rows[i]] === 0) {
            touched[l][rows[i]] = 1;
            touchedCount[l]++;
          }
        }
        return touchedCount[l] / layerRows[l];
      });
      const isLast = step + 1 === options.steps;
      let evalLoss: number | undefined;
      if (evalSequences.length > 0 && ((step + 1) % options.evalEvery === 0 || isLast)) {
        evalLoss = (await meanNextTokenLoss(model, memory, evalSequences)).loss;
      }
      const seconds = (performance.now() - stepStarted) / 1000;
      const tokens = (corpusBatch.length + sampleBatch.length) * options.seqLen;
      const event: TrainStepEvent = {
        type: 'step',
        step: step + 1,
        totalSteps: options.steps,
        loss: result.loss,
        preservationLoss: result.preservationLoss,
        evalLoss,
        learningRate,
        tokensPerSecond: tokens / seconds,
        rowsTouched: result.rowsTouched,
        rowsTouchedShare,
        backendBytes: tf.memory().numBytes,
        rssBytes: process.memoryUsage().rss,
        elapsedMs: Date.now() - startedAt,
      };
      history.push(event);
      onEvent(event);
      if ((step + 1) % rowHitsEvery === 0 || isLast) {
        lastRowHits = { type: 'row-hits', step: step + 1, layers: options.engram.layers, buckets: bucketHits(memory) };
        onEvent(lastRowHits);
      }
      if (options.checkpointEvery > 0 && (step + 1) % options.checkpointEvery === 0 && step + 1 < options.steps) await saveState(step + 1);
      // Let the event loop deliver cancellation and outgoing messages between steps.
      await new Promise((resolveTick) => setImmediate(resolveTick));
    }

    const last = history[history.length - 1];
    const summary: TrainingSummary = {
      steps: step,
      finalLoss: last?.loss ?? Number.NaN,
      finalEvalLoss: [...history].reverse().find((event) => event.evalLoss !== undefined)?.evalLoss,
      finalPreservationLoss: last?.preservationLoss,
      trainTokens: streams.train.length,
      seconds: (Date.now() - startedAt) / 1000,
      backend: backend.name,
      options: stripPaths(options),
    };
    if (cancelled || step < options.steps) {
      await saveState(step);
      const done: TrainDoneEvent = { type: 'done', packDir: '', summary, cancelled: true };
      onEvent(done);
      return done;
    }
    onEvent({ type: 'phase', phase: 'saving', message: `Saving the pack to ${packDir}` });
    await savePack(packDir, { memory, baseModel, summary, corpus: manifest, history, rowHits: lastRowHits }, { replace: options.replace });
    rmSync(checkpointDir, { recursive: true, force: true });
    const done: TrainDoneEvent = { type: 'done', packDir, summary, cancelled: false };
    onEvent(done);
    return done;
  } finally {
    memory.dispose();
    denseOptimizer.dispose();
    model.dispose();
  }
}

/**
 * Raises before allocating when the tables and their two Adam moments would not fit in this
 * machine's memory, so the run fails with the fix instead of crashing the process.
 */
function assertTablesFit(options: TrainOptions): void {
  const { layers, orders, headsPerOrder, headDim, rowsPerHead } = options.engram;
  const bytes = 3 * layers.length * orders.length * headsPerOrder * rowsPerHead * headDim * 4;
  const available = totalmem() * 0.8;
  if (bytes > available) {
    throw new EngramError(
      'out-of-memory',
      `Engram tables need about ${(bytes / 2 ** 30).toFixed(1)} GiB with their optimizer state, more than the ${(available / 2 ** 30).toFixed(1)} GiB available. Lower --rows (now ${rowsPerHead}), --head-dim (now ${headDim}) or the number of --layers.`,
    );
  }
}

function stripPaths(options: TrainOptions): TrainingSummary['options'] {
  const { modelDir: _model, corpus: _corpus, packDir: _pack, checkpointDir: _checkpoint, ...rest } = options;
  return rest;
}

/** Hits per layer and head, summed into equal-width buckets along each head's table. */
function bucketHits(memory: EngramMemory): number[][][] {
  return memory.hashing.map((layer, l) => {
    const hits = memory.rowHits[l];
    return layer.primes.flat().map((prime, head) => {
      const buckets = new Array<number>(heatmapBuckets).fill(0);
      const offset = layer.offsets[head];
      for (let row = 0; row < prime; row++) buckets[Math.floor((row * heatmapBuckets) / prime)] += hits[offset + row];
      return buckets;
    });
  });
}
