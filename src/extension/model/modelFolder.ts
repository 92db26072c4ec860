/**
 * Quick check of a model folder, run when the user picks one so a wrong folder is reported at
 * once instead of after the worker has started loading weights.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface ModelFolderInfo {
  dir: string;
  /** Folder name, used as the model's display name. */
  name: string;
  architecture: string;
  hiddenSize: number;
  numLayers: number;
  /** Context length from `max_position_embeddings`, when present. */
  maxPositions: number | undefined;
}

/** Architectures the engine loads; kept in step with its model config reader. */
export const supportedArchitectures = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'];

export type ModelFolderProblem =
  | { kind: 'not-found' }
  | { kind: 'missing-files'; files: string[] }
  | { kind: 'invalid-config'; detail: string }
  | { kind: 'unsupported-architecture'; found: string[] };

/** Returns the model's summary, or the problem that makes the folder unusable. */
export function inspectModelFolder(dir: string): { ok: true; info: ModelFolderInfo } | { ok: false; problem: ModelFolderProblem } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { ok: false, problem: { kind: 'not-found' } };
  const files = readdirSync(dir);
  const missing: string[] = [];
  if (!files.includes('config.json')) missing.push('config.json');
  if (!files.includes('tokenizer.json')) missing.push('tokenizer.json');
  if (!files.some((file) => file.endsWith('.safetensors'))) missing.push('model.safetensors');
  if (missing.length > 0) return { ok: false, problem: { kind: 'missing-files', files: missing } };

  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    return { ok: false, problem: { kind: 'invalid-config', detail: (error as Error).message } };
  }
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((entry): entry is string => typeof entry === 'string') : [];
  const architecture = architectures.find((entry) => supportedArchitectures.includes(entry));
  if (!architecture) return { ok: false, problem: { kind: 'unsupported-architecture', found: architectures } };
  const hiddenSize = config.hidden_size;
  const numLayers = config.num_hidden_layers;
  if (typeof hiddenSize !== 'number' || typeof numLayers !== 'number') {
    return { ok: false, problem: { kind: 'invalid-config', detail: 'hidden_size or num_hidden_layers is missing' } };
  }
  const maxPositions = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : undefined;
  return { ok: true, info: { dir, name: basename(dir), architecture, hiddenSize, numLayers, maxPositions } };
}
