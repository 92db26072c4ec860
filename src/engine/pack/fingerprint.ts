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

export function fingerprintModel(modelDir: string, config: ModelConfig): BaseModelFingerprint {
  const tokenizerFile = join(modelDir, 'tokenizer.json');
  return {
    name: basename(resolve(modelDir)),
    architecture: config.architecture,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    vocabSize: config.vocabSize,
    configSha256: sha256File(join(modelDir, 'config.json')),
    tokenizerSha256: existsSync(tokenizerFile) ? sha256File(tokenizerFile) : '',
  };
}

/** Describes the first difference between a pack's base model and `actual`, or undefined when they match. */
export function fingerprintMismatch(expected: BaseModelFingerprint, actual: BaseModelFingerprint): string | undefined {
  const fields: (keyof BaseModelFingerprint)[] = ['architecture', 'hiddenSize', 'numLayers', 'vocabSize', 'configSha256', 'tokenizerSha256'];
  for (const field of fields) {
    if (expected[field] !== actual[field]) {
      return `the pack was trained on "${expected.name}" (${field} ${String(expected[field])}), but the loaded model "${actual.name}" has ${field} ${String(actual[field])}`;
    }
  }
  return undefined;
}
