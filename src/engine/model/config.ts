import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngramError } from '../errors';

export const supportedArchitectures = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'] as const;
export type Architecture = (typeof supportedArchitectures)[number];

/** Llama 3 style frequency rescaling of RoPE (`rope_scaling.rope_type == "llama3"`). */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  architecture: Architecture;
  modelType: string;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: Llama3RopeScaling;
  /** q/k/v projections carry a bias (Qwen2, or Llama with attention_bias). */
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
  padTokenId?: number;
  maxPositionEmbeddings: number;
}

type Json = Record<string, unknown>;

function readInteger(raw: Json, key: string, file: string, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new EngramError('invalid-model', `${file}: "${key}" must be a positive integer, found ${JSON.stringify(raw[key])}. Check that the folder contains a complete Hugging Face model.`);
  }
  return value;
}

function readNumber(raw: Json, key: string, fallback: number): number {
  const value = raw[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function optionalId(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function parseRopeScaling(raw: unknown, file: string): Llama3RopeScaling | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw !== 'object') {
    throw new EngramError('invalid-model', `${file}: "rope_scaling" must be an object or null, found ${JSON.stringify(raw)}.`);
  }
  const scaling = raw as Json;
  const kind = scaling.rope_type ?? scaling.type;
  if (kind === 'default') return undefined;
  if (kind !== 'llama3') {
    throw new EngramError(
      'unsupported-architecture',
      `${file}: rope_scaling type ${JSON.stringify(kind)} is not supported; supported: "llama3" or none. Use a model without that RoPE scaling.`,
    );
  }
  return {
    factor: readNumber(scaling, 'factor', 8),
    lowFreqFactor: readNumber(scaling, 'low_freq_factor', 1),
    highFreqFactor: readNumber(scaling, 'high_freq_factor', 4),
    originalMaxPositionEmbeddings: readNumber(scaling, 'original_max_position_embeddings', 8192),
  };
}

/** Parses a Hugging Face `config.json` object; `file` only names the source in errors. */
export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EngramError('invalid-model', `${file} must contain a JSON object.`);
  }
  const json = raw as Json;
  const architectures = Array.isArray(json.architectures) ? json.architectures : [];
  const architecture = architectures.find((name): name is Architecture => supportedArchitectures.includes(name as Architecture));
  if (!architecture) {
    const found = architectures.length > 0 ? architectures.join(', ') : `model_type ${JSON.stringify(json.model_type ?? null)}`;
    throw new EngramError(
      'unsupported-architecture',
      `Unsupported model architecture ${found} in ${file}. Supported: ${supportedArchitectures.join(', ')}.`,
    );
  }
  const hiddenSize = readInteger(json, 'hidden_size', file);
  const numHeads = readInteger(json, 'num_attention_heads', file);
  const numKeyValueHeads = readInteger(json, 'num_key_value_heads', file, numHeads);
  if (numHeads % numKeyValueHeads !== 0) {
    throw new EngramError('invalid-model', `${file}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads}).`);
  }
  const headDim = readInteger(json, 'head_dim', file, Math.floor(hiddenSize / numHeads));
  const eos = json.eos_token_id;
  const eosTokenIds = Array.isArray(eos) ? eos.filter((id): id is number => optionalId(id) !== undefined) : optionalId(eos) !== undefined ? [eos as number] : [];
  const hiddenAct = json.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') {
    throw new EngramError('unsupported-architecture', `${file}: hidden_act ${JSON.stringify(hiddenAct)} is not supported; supported: "silu".`);
  }
  return {
    architecture,
    modelType: typeof json.model_type === 'string' ? json.model_type : 'llama',
    hiddenSize,
    intermediateSize: readInteger(json, 'intermediate_size', file),
    numLayers: readInteger(json, 'num_hidden_layers', file),
    numHeads,
    numKeyValueHeads,
    headDim,
    vocabSize: readInteger(json, 'vocab_size', file),
    rmsNormEps: readNumber(json, 'rms_norm_eps', 1e-6),
    ropeTheta: readNumber(json, 'rope_theta', 10000),
    ropeScaling: parseRopeScaling(json.rope_scaling, file),
    attentionBias: architecture === 'Qwen2ForCausalLM' || json.attention_bias === true,
    tieWordEmbeddings: json.tie_word_embeddings === true,
    bosTokenId: optionalId(json.bos_token_id),
    eosTokenIds,
    padTokenId: optionalId(json.pad_token_id),
    maxPositionEmbeddings: readInteger(json, 'max_position_embeddings', file, 2048),
  };
}

/** Reads and validates `<modelDir>/config.json`. */
export function readModelConfig(modelDir: string): ModelConfig {
  const file = join(modelDir, 'config.json');
  if (!existsSync(modelDir)) {
    throw new EngramError('not-found', `Model folder not found: ${modelDir}. Pick a folder that contains config.json, model.safetensors and tokenizer.json.`);
  }
  if (!existsSync(file)) {
    throw new EngramError('invalid-model', `No config.json in ${modelDir}. Pick a Hugging Face model folder (config.json, model.safetensors, tokenizer.json).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EngramError('invalid-model', `${file} is not valid JSON (${(error as Error).message}). Re-download the model.`);
  }
  return parseModelConfig(raw, file);
}
