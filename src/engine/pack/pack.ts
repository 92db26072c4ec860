import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngramError } from '../errors';
import { type CompressionInfo, EngramMemory, type LayerHashing } from '../engram/memory';
import { type EngramDenseParams, denseParamNames } from '../engram/layer';
import { ShardedTable } from '../engram/table';
import { readModelConfig } from '../model/config';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../model/safetensors';
import type { EngramShape, RowHitsEvent, TrainingSummary, TrainStepEvent } from '../types';
import { type BaseModelFingerprint, fingerprintMismatch, fingerprintModel } from './fingerprint';
import { toolVersion } from '../version';

export const packFormatVersion = 1;
export const packSuffix = '.engram';
const adaptersFile = 'engram_adapters.safetensors';

/** Our own metadata, `pack.json`. */
export interface PackMetadata {
  formatVersion: number;
  toolVersion: string;
  createdAt: string;
  baseModel: BaseModelFingerprint;
  engram: EngramShape;
  hiddenSize: number;
  compression: { size: number; padCanonicalId: number; canonical: number[] };
  hashing: LayerHashing[];
  summary?: TrainingSummary;
  corpus?: unknown;
}

export interface PackInfo {
  dir: string;
  name: string;
  baseModel: BaseModelFingerprint;
  createdAt: string;
  bytes: number;
  engram: EngramShape;
  summary?: TrainingSummary;
}

/** Shape of `config.json` in a pack, in the field names of Engram's Python implementations. */
function engramConfigJson(shape: EngramShape, hiddenSize: number, compressedVocab: number) {
  return {
    model_type: 'engram',
    hidden_size: hiddenSize,
    max_ngram_size: Math.max(...shape.orders),
    ngram_orders: shape.orders,
    n_head_per_ngram: shape.headsPerOrder,
    n_embed_per_ngram: shape.headsPerOrder * shape.headDim,
    engram_table_size: shape.rowsPerHead,
    head_dim: shape.headDim,
    target_layers: shape.layers,
    engram_vocab_size: compressedVocab,
    kernel_size: 4,
    hc_mult: 1,
    seed: shape.seed,
  };
}

const denseFileNames: Record<(typeof denseParamNames)[number], string> = {
  valueProjection: 'value_projection',
  keyProjection: 'key_projection',
  queryNorm: 'query_norm',
  keyNorm: 'key_norm',
  convNorm: 'conv_norm',
  convWeights: 'conv_weights',
};

function headTensorName(block: number, order: number, head: number): string {
  return `layers.${block}.order${order}.head${head}.table`;
}

/** Collects every tensor of a pack as float32 arrays, named as in `engram_adapters.safetensors`. */
export async function packTensors(memory: EngramMemory): Promise<TensorToWrite[]> {
  const tensors: TensorToWrite[] = [];
  for (let l = 0; l < memory.hashing.length; l++) {
    const layer = memory.hashing[l];
    const block = layer.layer;
    let head = 0;
    memory.shape.orders.forEach((order, o) => {
      layer.primes[o].forEach((prime, k) => {
        tensors.push({ name: headTensorName(block, order, k), shape: [prime, memory.shape.headDim], data: memory.tables[l].readRange(layer.offsets[head], prime) });
        head++;
      });
    });
    for (const name of denseParamNames) {
      const tensor = memory.dense[l][name];
      tensors.push({ name: `layers.${block}.${denseFileNames[name]}`, shape: tensor.shape, data: (await tensor.data()) as Float32Array });
    }
    tensors.push({ name: `layers.${block}.row_hits`, shape: [layer.rows], data: Float32Array.from(memory.rowHits[l]) });
  }
  return tensors;
}

export interface SavePackInput {
  memory: EngramMemory;
  baseModel: BaseModelFingerprint;
  summary?: TrainingSummary;
  corpus?: unknown;
  history?: TrainStepEvent[];
  /** Row hits per layer and head at the end of training, for the dashboard's heatmap. */
  rowHits?: RowHitsEvent;
}

/**
 * Writes a pack to `packDir` atomically: everything goes into a temporary sibling folder that
 * is renamed into place, so a crash leaves either the old pack or the new one, never a mix.
 */
export async function savePack(packDir: string, input: SavePackInput, options: { replace: boolean }): Promise<void> {
  const target = resolve(packDir);
  assertWritablePackPath(target, options.replace);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const temporary = join(parent, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(temporary);
  try {
    const { memory } = input;
    writeSafetensors(join(temporary, adaptersFile), await packTensors(memory), { format: 'pt', producer: 'engram-studio' });
    writeFileSync(join(temporary, 'config.json'), JSON.stringify(engramConfigJson(memory.shape, memory.hiddenSize, memory.compression.size), null, 2) + '\n');
    const metadata: PackMetadata = {
      formatVersion: packFormatVersion,
      toolVersion,
      createdAt: new Date().toISOString(),
      baseModel: input.baseModel,
      engram: memory.shape,
      hiddenSize: memory.hiddenSize,
      compression: { size: memory.compression.size, padCanonicalId: memory.compression.padCanonicalId, canonical: Array.from(memory.compression.canonical) },
      hashing: memory.hashing,
      summary: input.summary,
      corpus: input.corpus,
    };
    writeFileSync(join(temporary, 'pack.json'), JSON.stringify(metadata, null, 1) + '\n');
    if (input.history && input.history.length > 0) {
      writeFileSync(join(temporary, 'history.jsonl'), input.history.map((event) => JSON.stringify(event)).join('\n') + '\n');
    }
    if (input.rowHits) writeFileSync(join(temporary, 'row-hits.json'), JSON.stringify(input.rowHits) + '\n');
    if (existsSync(target)) {
      // Move the old pack aside first: a rename cannot replace a non-empty folder.
      const old = `${temporary}.old`;
      renameSync(target, old);
      renameSync(temporary, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temporary, target);
    }
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Raises when `packDir` cannot be written: a bad name, or an existing pack without `replace`. */
export function assertWritablePackPath(packDir: string, replace: boolean): void {
  if (!packDir.endsWith(packSuffix)) {
    throw new EngramError('invalid-argument', `Pack folder "${packDir}" must end in "${packSuffix}", for example facts${packSuffix}.`);
  }
  if (existsSync(packDir) && !replace) {
    throw new EngramError('pack-exists', `A pack already exists at ${packDir}. Choose another name, or pass --replace to overwrite it.`);
  }
}

export function readPackMetadata(packDir: string): PackMetadata {
  const file = join(packDir, 'pack.json');
  if (!existsSync(packDir)) throw new EngramError('not-found', `Pack not found: ${packDir}.`);
  if (!existsSync(file)) throw new EngramError('invalid-pack', `${packDir} has no pack.json, so it is not an Engram pack. Train one with "engram train".`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EngramError('invalid-pack', `${file} is not valid JSON (${(error as Error).message}). The pack is damaged; train it again.`);
  }
  const metadata = raw as PackMetadata;
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.formatVersion !== 'number') {
    throw new EngramError('invalid-pack', `${file} has no formatVersion. The pack is damaged; train it again.`);
  }
  if (metadata.formatVersion > packFormatVersion) {
    throw new EngramError('invalid-pack', `${packDir} uses pack format ${metadata.formatVersion}; this version of Engram Studio reads format ${packFormatVersion}. Update Engram Studio.`);
  }
  for (const key of ['baseModel', 'engram', 'compression', 'hashing'] as const) {
    if (typeof metadata[key] !== 'object' || metadata[key] === null) {
      throw new EngramError('invalid-pack', `${file} is missing "${key}". The pack is damaged; train it again.`);
    }
  }
  return metadata;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

export function readPackInfo(packDir: string): PackInfo {
  const metadata = readPackMetadata(packDir);
  return {
    dir: resolve(packDir),
    name: basename(packDir).replace(/\.engram$/, ''),
    baseModel: metadata.baseModel,
    createdAt: metadata.createdAt,
    bytes: folderBytes(packDir),
    engram: metadata.engram,
    summary: metadata.summary,
  };
}

/** Lists every `*.engram` folder in `packsDir`, with its metadata or the reason it cannot be read. */
export function listPacks(packsDir: string): { dir: string; info?: PackInfo; error?: string }[] {
  if (!existsSync(packsDir)) return [];
  return readdirSync(packsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.endsWith(packSuffix))
    .map((entry) => {
      const dir = join(packsDir, entry.name);
      try {
        return { dir, info: readPackInfo(dir) };
      } catch (error) {
        return { dir, error: (error as Error).message };
      }
    })
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Returns why the pack cannot attach to the model in `modelDir`, or undefined when it can. */
export function checkPackForModel(packDir: string, modelDir: string): string | undefined {
  try {
    const metadata = readPackMetadata(packDir);
    return fingerprintMismatch(metadata.baseModel, fingerprintModel(modelDir, readModelConfig(modelDir)));
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Loads a pack's tables and dense parameters, checking every tensor's shape against pack.json.
 * `expectedModel` (when given) must match the pack's base model fingerprint.
 */
export function loadPack(packDir: string, expectedModel?: BaseModelFingerprint): { metadata: PackMetadata; memory: EngramMemory } {
  const metadata = readPackMetadata(packDir);
  if (expectedModel) {
    const mismatch = fingerprintMismatch(metadata.baseModel, expectedModel);
    if (mismatch) throw new EngramError('pack-mismatch', `Cannot attach ${packDir}: ${mismatch}. Attach it to the model it was trained on, or train a new pack for this model.`);
  }
  const file = join(packDir, adaptersFile);
  if (!existsSync(file)) throw new EngramError('invalid-pack', `${packDir} has no ${adaptersFile}. The pack is damaged; train it again.`);
  const adapters = openSafetensors(file);
  const created: tf.Tensor[] = [];
  try {
    const shape = metadata.engram;
    const d = metadata.hiddenSize;
    const memoryWidth = shape.orders.length * shape.headsPerOrder * shape.headDim;
    const read = (name: string, expected: number[]): Float32Array => {
      if (!adapters.tensorNames().includes(name)) throw new EngramError('invalid-pack', `${file} has no tensor "${name}". The pack is damaged; train it again.`);
      const found = adapters.info(name).shape;
      if (found.length !== expected.length || found.some((size, i) => size !== expected[i])) {
        throw new EngramError('invalid-pack', `${file}: tensor "${name}" has shape [${found.join(', ')}], expected [${expected.join(', ')}] from pack.json.`);
      }
      return adapters.readFloat32(name);
    };
    const tables: ShardedTable[] = [];
    const dense: EngramDenseParams[] = [];
    const rowHits: Float64Array[] = [];
    for (const layer of metadata.hashing) {
      const table = new ShardedTable(layer.rows, shape.headDim);
      let head = 0;
      shape.orders.forEach((order, o) => {
        layer.primes[o].forEach((prime, k) => {
          table.writeRange(layer.offsets[head], read(headTensorName(layer.layer, order, k), [prime, shape.headDim]));
          head++;
        });
      });
      tables.push(table);
      const tensor2d = (name: string, rows: number, cols: number) => {
        const t = tf.tensor2d(read(`layers.${layer.layer}.${name}`, [rows, cols]), [rows, cols]);
        created.push(t);
        return t;
      };
      const tensor1d = (name: string) => {
        const t = tf.tensor1d(read(`layers.${layer.layer}.${name}`, [d]));
        created.push(t);
        return t;
      };
      dense.push({
        valueProjection: tensor2d('value_projection', memoryWidth, d),
        keyProjection: tensor2d('key_projection', memoryWidth, d),
        queryNorm: tensor1d('query_norm'),
        keyNorm: tensor1d('key_norm'),
        convNorm: tensor1d('conv_norm'),
        convWeights: tensor2d('conv_weights', 4, d),
      });
      const hitsName = `layers.${layer.layer}.row_hits`;
      rowHits.push(adapters.tensorNames().includes(hitsName) ? Float64Array.from(read(hitsName, [layer.rows])) : new Float64Array(layer.rows));
    }
    const compression: CompressionInfo = {
      canonical: Int32Array.from(metadata.compression.canonical),
      size: metadata.compression.size,
      padCanonicalId: metadata.compression.padCanonicalId,
    };
    return { metadata, memory: new EngramMemory(shape, d, compression, metadata.hashing, tables, dense, rowHits) };
  } catch (error) {
    tf.dispose(created);
    throw error;
  } finally {
    adapters.close();
  }
}

/** Step events saved with the pack, for reopening a finished run's charts. */
export function readPackHistory(packDir: string): TrainStepEvent[] {
  const file = join(packDir, 'history.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as TrainStepEvent);
}

/** Reads the row-hit heatmap saved with a finished pack, or undefined when the pack has none. */
export function readPackRowHits(packDir: string): RowHitsEvent | undefined {
  const file = join(packDir, 'row-hits.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RowHitsEvent;
  } catch {
    return undefined;
  }
}
