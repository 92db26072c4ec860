import { EngramError } from '../errors';
import type { TrainOptions } from '../types';

function requireInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new EngramError('invalid-argument', `The ${name} must be an integer ${range}, got ${value}.`);
  }
}

function requireNumber(name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new EngramError('invalid-argument', `The ${name} must be a number from ${min} to ${max}, got ${value}.`);
  }
}

/** Rejects option values that cannot train, naming the option and the accepted range. */
export function validateTrainOptions(options: TrainOptions): void {
  if (options.corpus.length === 0) throw new EngramError('invalid-argument', 'No corpus given. Pass files, folders or glob patterns of .txt, .md or .jsonl files.');
  requireInteger('steps', options.steps, 1);
  requireInteger('batch size', options.batchSize, 1, 4096);
  requireInteger('sequence length', options.seqLen, 2, 65536);
  requireNumber('learning rate', options.learningRate, Number.MIN_VALUE, 1e6);
  requireInteger('warmup steps', options.warmupSteps, 0);
  requireNumber('eval fraction', options.evalFraction, 0, 0.5);
  requireInteger('eval interval', options.evalEvery, 1);
  requireInteger('checkpoint interval', options.checkpointEvery, 0);
  const { engram, preservation } = options;
  if (engram.layers.length === 0) throw new EngramError('invalid-argument', 'At least one Engram layer is needed, for example --layers 1,3.');
  engram.layers.forEach((layer) => requireInteger('Engram layer', layer, 0));
  if (new Set(engram.layers).size !== engram.layers.length) throw new EngramError('invalid-argument', `Engram layers must be distinct, got ${engram.layers.join(', ')}.`);
  if (engram.orders.join(',') !== '2,3') throw new EngramError('invalid-argument', `Only n-gram orders 2 and 3 are supported, got ${engram.orders.join(', ')}.`);
  requireInteger('heads per order', engram.headsPerOrder, 1, 64);
  requireInteger('head dimension', engram.headDim, 1, 4096);
  requireInteger('rows per head', engram.rowsPerHead, 2, 2 ** 30);
  requireInteger('seed', engram.seed, 0, 2 ** 31 - 1);
  if (preservation.enabled) {
    requireNumber('preservation weight', preservation.weight, 0, 1e6);
    requireInteger('preservation samples', preservation.samples, 1, 1_000_000);
    requireInteger('preservation batch size', preservation.batchSize, 1, 4096);
  }
}
