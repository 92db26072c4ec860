import * as tf from '@tensorflow/tfjs-core';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EngramError } from '../errors';
import type { EngramMemory } from '../engram/memory';
import { SparseAdam } from '../engram/table';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import { loadPack, savePack, type SavePackInput } from '../pack/pack';
import type { TrainStepEvent } from '../types';
import { DenseAdam } from './adam';

/** Everything besides tensors that a resumed run needs to continue exactly. */
export interface CheckpointState {
  /** Steps completed. */
  step: number;
  rngState: number[];
  denseAdamStep: number;
  /** Preservation samples, so a resumed run trains on the same ones. */
  samples: number[][];
  history: TrainStepEvent[];
  /** Options that must not change across a resume, compared on load. */
  fingerprint: string;
}

const optimizerFile = 'optimizer.safetensors';
const stateFile = 'state.json';
const packFolder = 'weights.engram';

/**
 * Writes a checkpoint folder atomically: pack weights, optimizer moments and state go into a
 * temporary sibling that replaces the old checkpoint only once complete.
 */
export async function saveCheckpoint(
  checkpointDir: string,
  pack: SavePackInput,
  tableOptimizers: SparseAdam[],
  denseOptimizer: DenseAdam,
  state: CheckpointState,
): Promise<void> {
  const target = resolve(checkpointDir);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(temporary);
  try {
    await savePack(join(temporary, packFolder), pack, { replace: false });
    writeSafetensors(join(temporary, optimizerFile), await optimizerTensors(pack.memory, tableOptimizers, denseOptimizer));
    writeFileSync(join(temporary, stateFile), JSON.stringify({ ...state, denseAdamStep: denseOptimizer.step }) + '\n');
    const old = `${temporary}.old`;
    if (existsSync(target)) renameSync(target, old);
    renameSync(temporary, target);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

async function optimizerTensors(memory: EngramMemory, tableOptimizers: SparseAdam[], denseOptimizer: DenseAdam): Promise<TensorToWrite[]> {
  const tensors: TensorToWrite[] = [];
  memory.hashing.forEach((layer, l) => {
    const optimizer = tableOptimizers[l];
    // One tensor per head keeps each array below the largest ArrayBuffer.
    let head = 0;
    for (const primes of layer.primes) {
      for (const prime of primes) {
        const offset = layer.offsets[head];
        tensors.push({ name: `layers.${layer.layer}.head${head}.m`, shape: [prime, memory.shape.headDim], data: optimizer.firstMoment.readRange(offset, prime) });
        tensors.push({ name: `layers.${layer.layer}.head${head}.v`, shape: [prime, memory.shape.headDim], data: optimizer.secondMoment.readRange(offset, prime) });
        head++;
      }
    }
    tensors.push({ name: `layers.${layer.layer}.row_steps`, shape: [layer.rows], data: Float32Array.from(optimizer.rowSteps) });
  });
  for (let i = 0; i < denseOptimizer.firstMoments.length; i++) {
    tensors.push({ name: `dense.${i}.m`, shape: denseOptimizer.firstMoments[i].shape, data: (await denseOptimizer.firstMoments[i].data()) as Float32Array });
    tensors.push({ name: `dense.${i}.v`, shape: denseOptimizer.secondMoments[i].shape, data: (await denseOptimizer.secondMoments[i].data()) as Float32Array });
  }
  return tensors;
}

export interface LoadedCheckpoint {
  memory: EngramMemory;
  tableOptimizers: SparseAdam[];
  denseOptimizer: DenseAdam;
  state: CheckpointState;
}

export function hasCheckpoint(checkpointDir: string): boolean {
  return existsSync(join(checkpointDir, stateFile));
}

export function loadCheckpoint(checkpointDir: string, expectedFingerprint: string): LoadedCheckpoint {
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(join(checkpointDir, stateFile), 'utf8')) as CheckpointState;
  } catch (error) {
    throw new EngramError('invalid-pack', `Cannot read the checkpoint in ${checkpointDir} (${(error as Error).message}). Delete the folder to start over.`);
  }
  if (state.fingerprint !== expectedFingerprint) {
    throw new EngramError(
      'invalid-argument',
      `The checkpoint in ${checkpointDir} was made with other model, corpus or Engram settings. Resume with the same settings, or delete the folder to start over.`,
    );
  }
  const { memory } = loadPack(join(checkpointDir, packFolder));
  const file = openSafetensors(join(checkpointDir, optimizerFile));
  try {
    const tableOptimizers = memory.hashing.map((layer, l) => {
      const optimizer = new SparseAdam(memory.tables[l]);
      let head = 0;
      for (const primes of layer.primes) {
        for (let k = 0; k < primes.length; k++) {
          optimizer.firstMoment.writeRange(layer.offsets[head], file.readFloat32(`layers.${layer.layer}.head${head}.m`));
          optimizer.secondMoment.writeRange(layer.offsets[head], file.readFloat32(`layers.${layer.layer}.head${head}.v`));
          head++;
        }
      }
      optimizer.rowSteps.set(file.readFloat32(`layers.${layer.layer}.row_steps`));
      return optimizer;
    });
    const params = memory.denseTensors();
    const first = params.map((p, i) => tf.tensor(file.readFloat32(`dense.${i}.m`), p.shape));
    const second = params.map((p, i) => tf.tensor(file.readFloat32(`dense.${i}.v`), p.shape));
    const denseOptimizer = new DenseAdam(first, second);
    denseOptimizer.step = state.denseAdamStep;
    return { memory, tableOptimizers, denseOptimizer, state };
  } finally {
    file.close();
  }
}
