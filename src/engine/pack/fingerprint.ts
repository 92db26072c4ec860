import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ModelConfig } from '../model/config';

/** Identity of the model a pack was trained on; attach compares it field by field. */
export interface BaseModelFingerprint {
  /** Folder name, for display only: moving or renaming the folder does not matter. */
  name: string;
  architecture: string;
  hiddenSize: number;
  numLayers: number;
  vocabSize: number;
  configSha256: string;
  tokenizerSha256: string;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Serializes JSON with object keys sorted at every level, so formatting and key order do not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    // Keys of one object are distinct, so the comparison never has to return 0.
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 of a JSON file's content rather than its bytes: re-indenting or reordering keys keeps
 * the hash. Keys that tools add when they copy a model (`_name_or_path`, `transformers_version`
 * and others starting with an underscore) are left out, since they change no computation.
 */
export function sha256Json(path: string, ignoredTopLevelKeys: (key: string) => boolean = () => false): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return sha256File(path);
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    parsed = Object.fromEntries(Object.entries(parsed as Record<string, unknown>).filter(([key]) => !ignoredTopLevelKeys(key)));
  }
  return createHash('sha256').update(canonicalJson(parsed)).digest('hex');
}

const volatileConfigKey = (key: string) => key.startsWith('_') || key === 'transformers_version';

export function fingerprintModel(modelDir: string, config: ModelConfig): BaseModelFingerprint {
  const tokenizerFile = join(modelDir, 'tokenizer.json');
  return {
    name: basename(resolve(modelDir)),
    architecture: config.architecture,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    vocabSize: config.vocabSize,
    configSha256: sha256Json(join(modelDir, 'config.json'), volatileConfigKey),
    tokenizerSha256: existsSync(tokenizerFile) ? sha256Json(tokenizerFile) : '',
  };
}

/** Describes the first difference between a pack's base model and `actual`, or undefined when they match. */
export function fingerprintMismatch(expected: BaseModelFingerprint, actual: BaseModelFingerprint): string | undefined {
  const sizes: [keyof BaseModelFingerprint, string][] = [
    ['architecture', 'architecture'],
    ['hiddenSize', 'hidden size'],
    ['numLayers', 'number of layers'],
    ['vocabSize', 'vocabulary size'],
  ];
  for (const [field, label] of sizes) {
    if (expected[field] !== actual[field]) {
      return `the pack was trained on "${expected.name}" with ${label} ${String(expected[field])}, but "${actual.name}" has ${label} ${String(actual[field])}`;
    }
  }
  if (expected.configSha256 !== actual.configSha256) {
    return `the settings in config.json of "${actual.name}" differ from those of "${expected.name}", the model the pack was trained on`;
  }
  if (expected.tokenizerSha256 !== actual.tokenizerSha256) {
    return `tokenizer.json of "${actual.name}" differs from that of "${expected.name}", the model the pack was trained on, so token ids would not match`;
  }
  return undefined;
}
