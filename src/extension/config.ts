/**
 * `engram.*` settings, read through a getter so the rules (defaults, bounds, path resolution)
 * are unit-tested without VS Code.
 */
import { isAbsolute, resolve } from 'node:path';
import { backendChoices } from '../protocol/trainEvents';
import type { BackendChoice } from '../engine/types';

/** Reads one setting; `vscode.WorkspaceConfiguration.get` fits this shape. */
export type SettingGetter = (key: string) => unknown;

export interface TrainingDefaults {
  steps: number;
  batchSize: number;
  seqLen: number;
  learningRate: number;
  /** Empty: the engine's layer placement. */
  layers: number[];
  /** 0: the engine's default table size. */
  rowsPerHead: number;
}

export interface EngramSettings {
  /** Absolute model folder, or undefined when unset. */
  modelFolder: string | undefined;
  /** Absolute packs folder, or undefined when it is relative and no workspace folder is open. */
  packsFolder: string | undefined;
  backend: BackendChoice;
  training: TrainingDefaults;
  cancelGraceMs: number;
  workerNodePath: string | undefined;
  workerMaxMemoryMB: number;
}

/** Values of `contributes.configuration` in package.json; a setting that fails its check falls back to these. */
export const settingDefaults = {
  packsFolder: '.engram/packs',
  training: { steps: 1000, batchSize: 8, seqLen: 128, learningRate: 0.003, layers: [], rowsPerHead: 0 } as TrainingDefaults,
  cancelGraceSeconds: 60,
};

function readInteger(get: SettingGetter, key: string, fallback: number, minimum: number): number {
  const value = get(key);
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum ? value : fallback;
}

function readString(get: SettingGetter, key: string): string | undefined {
  const value = get(key);
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

/** Resolves `path` against `workspaceRoot`, expanding a leading `~`; undefined when relative without a root. */
export function resolveFolder(path: string | undefined, workspaceRoot: string | undefined, home: string): string | undefined {
  if (path === undefined) return undefined;
  const expanded = path === '~' || path.startsWith('~/') ? resolve(home, path.slice(2)) : path;
  if (isAbsolute(expanded)) return resolve(expanded);
  return workspaceRoot === undefined ? undefined : resolve(workspaceRoot, expanded);
}

export function readSettings(get: SettingGetter, workspaceRoot: string | undefined, home: string): EngramSettings {
  const backendValue = get('backend');
  const backend = (backendChoices as readonly unknown[]).includes(backendValue) ? (backendValue as BackendChoice) : 'auto';
  const defaults = settingDefaults.training;
  const learningRate = get('training.learningRate');
  const layers = get('training.layers');
  return {
    modelFolder: resolveFolder(readString(get, 'modelFolder'), workspaceRoot, home),
    packsFolder: resolveFolder(readString(get, 'packsFolder') ?? settingDefaults.packsFolder, workspaceRoot, home),
    backend,
    training: {
      steps: readInteger(get, 'training.steps', defaults.steps, 1),
      batchSize: readInteger(get, 'training.batchSize', defaults.batchSize, 1),
      seqLen: readInteger(get, 'training.seqLen', defaults.seqLen, 8),
      learningRate: typeof learningRate === 'number' && Number.isFinite(learningRate) && learningRate > 0 ? learningRate : defaults.learningRate,
      layers: Array.isArray(layers) && layers.every((layer) => Number.isSafeInteger(layer) && layer >= 0) ? [...(layers as number[])] : [],
      rowsPerHead: readInteger(get, 'training.rowsPerHead', defaults.rowsPerHead, 0),
    },
    cancelGraceMs: readInteger(get, 'training.cancelGraceSeconds', settingDefaults.cancelGraceSeconds, 1) * 1000,
    workerNodePath: readString(get, 'worker.nodePath'),
    workerMaxMemoryMB: readInteger(get, 'worker.maxMemoryMB', 0, 0),
  };
}
