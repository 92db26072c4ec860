import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import { EngramError } from './errors';
import { decodeRowTensors, disposeDecodeState, memoryHook, newDecodeState } from './engram/hook';
import type { EngramMemory } from './engram/memory';
import { argmax, sampleToken } from './generate';
import type { Logger } from './log';
import { silentLogger } from './log';
import { readModelConfig, type ModelConfig } from './model/config';
import { LlamaModel } from './model/llama';
import { type BaseModelFingerprint, fingerprintModel } from './pack/fingerprint';
import { loadPack, type PackInfo, readPackInfo } from './pack/pack';
import { Rng } from './random';
import { ModelTokenizer } from './tokenizer';
import type { BackendChoice, BackendName, GenerateOptions } from './types';

/**
 * A loaded base model with at most one attached pack. Attaching, detaching and switching packs
 * only swap the Engram memory: the base weights stay loaded and are never modified, so a
 * detached model computes exactly what the base model computes.
 */
export class EngramRuntime {
  private attached: { info: PackInfo; memory: EngramMemory } | undefined;

  private constructor(
    readonly modelDir: string,
    readonly config: ModelConfig,
    readonly model: LlamaModel,
    readonly tokenizer: ModelTokenizer,
    readonly fingerprint: BaseModelFingerprint,
    readonly backend: BackendName,
    private readonly log: Logger,
  ) {}

  static async load(modelDir: string, options: { backend: BackendChoice; log?: Logger }): Promise<EngramRuntime> {
    const log = options.log ?? silentLogger;
    const backend = await initBackend(options.backend, log);
    const config = readModelConfig(modelDir);
    const model = LlamaModel.load(modelDir, log);
    const tokenizer = ModelTokenizer.load(modelDir, config.bosTokenId, config.eosTokenIds);
    return new EngramRuntime(modelDir, config, model, tokenizer, fingerprintModel(modelDir, config), backend.name, log);
  }

  get attachedPack(): PackInfo | undefined {
    return this.attached?.info;
  }

  get memory(): EngramMemory | undefined {
    return this.attached?.memory;
  }

  /** Attaches `packDir`, replacing the attached pack only once the new one has loaded. */
  attach(packDir: string): PackInfo {
    const { memory } = loadPack(packDir, this.fingerprint);
    const info = readPackInfo(packDir);
    this.attached?.memory.dispose();
    this.attached = { info, memory };
    this.log.info(`Attached pack ${info.name}`);
    return info;
  }

  detach(): void {
    if (!this.attached) return;
    this.log.info(`Detached pack ${this.attached.info.name}`);
    this.attached.memory.dispose();
    this.attached = undefined;
  }

  /**
   * Continues `prompt` token by token with a KV cache. `usePack: false` runs the base model
   * even when a pack is attached. `onToken` receives the text decoded so far after each token.
   */
  async generate(prompt: string, options: GenerateOptions, onToken?: (text: string) => void, usePack = true): Promise<string> {
    const memory = usePack ? this.attached?.memory : undefined;
    const promptIds = this.tokenizer.encode(prompt, true);
    const context = this.config.maxPositionEmbeddings;
    if (promptIds.length >= context) {
      throw new EngramError('invalid-argument', `The prompt has ${promptIds.length} tokens, which fills the model's context of ${context} tokens. Shorten the prompt.`);
    }
    const maxNewTokens = Math.min(options.maxNewTokens, context - promptIds.length);
    if (maxNewTokens < options.maxNewTokens) {
      this.log.warn(`Generating ${maxNewTokens} tokens instead of ${options.maxNewTokens}: the model's context ends at ${context} tokens.`);
    }
    const rng = new Rng(options.seed ?? 0);
    const cache = this.model.newCache();
    const state = memory ? newDecodeState(memory, 1) : undefined;
    const generated: number[] = [];
    let input = promptIds;
    try {
      for (let i = 0; i < maxNewTokens; i++) {
        const rowTensors = memory && state ? decodeRowTensors(memory, state, [input]) : [];
        const logits = tf.tidy(() => {
          const ids = tf.tensor2d([input], [1, input.length], 'int32');
          const hook = memory ? memoryHook(memory, rowTensors, { state }) : undefined;
          const all = this.model.forward(ids, { cache, hook });
          return tf.squeeze(tf.slice(all, [0, input.length - 1, 0], [1, 1, all.shape[2]]));
        });
        tf.dispose(rowTensors);
        const values = (await logits.data()) as Float32Array;
        logits.dispose();
        const next = options.temperature > 0 ? sampleToken(values, options, rng) : argmax(values);
        if (options.stopAtEos && this.tokenizer.eosIds.includes(next)) break;
        generated.push(next);
        onToken?.(this.tokenizer.decode(generated));
        input = [next];
      }
    } finally {
      tf.dispose([...cache.keys, ...cache.values].filter(Boolean) as tf.Tensor[]);
      if (state) disposeDecodeState(state);
    }
    return this.tokenizer.decode(generated);
  }

  dispose(): void {
    this.detach();
    this.model.dispose();
  }
}
