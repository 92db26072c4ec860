import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngramError } from './errors';

/**
 * A model's tokenizer with BOS handling made explicit: some tokenizer.json files add BOS in
 * their post-processor, others (Llama 3) leave it to `tokenizer_config.json` or the caller.
 */
export class ModelTokenizer {
  /** Raw ids including added tokens. */
  readonly size: number;
  private readonly postProcessorAddsBos: boolean;

  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly bosId: number | undefined,
    readonly eosIds: number[],
    readonly padId: number | undefined,
    vocabSize: number,
  ) {
    this.size = vocabSize;
    const probe = tokenizer.encode('a', { add_special_tokens: true }).ids;
    this.postProcessorAddsBos = bosId !== undefined && probe[0] === bosId;
  }

  /** Loads `tokenizer.json` (and `tokenizer_config.json` when present) from a model folder. */
  static load(modelDir: string, modelBosId?: number, modelEosIds: number[] = []): ModelTokenizer {
    const tokenizerFile = join(modelDir, 'tokenizer.json');
    if (!existsSync(tokenizerFile)) {
      throw new EngramError(
        'invalid-model',
        `No tokenizer.json in ${modelDir}. Export the tokenizer in Hugging Face format (tokenizer.save_pretrained) into the model folder.`,
      );
    }
    const tokenizerJson = parseJsonFile(tokenizerFile);
    const configFile = join(modelDir, 'tokenizer_config.json');
    const tokenizerConfig = existsSync(configFile) ? parseJsonFile(configFile) : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new EngramError('invalid-model', `Cannot load ${tokenizerFile}: ${(error as Error).message}.`);
    }
    const tokenId = (value: unknown): number | undefined => {
      // A special token is either its text or an object with the text in `content`.
      let text: unknown = value;
      if (typeof value === 'object' && value !== null) text = (value as { content?: unknown }).content;
      return typeof text === 'string' ? tokenizer.token_to_id(text) : undefined;
    };
    const config = tokenizerConfig as Record<string, unknown>;
    const addBos = config.add_bos_token !== false;
    const bosId = addBos ? (modelBosId ?? tokenId(config.bos_token)) : undefined;
    const eosIds = modelEosIds.length > 0 ? modelEosIds : [tokenId(config.eos_token)].filter((id): id is number => id !== undefined);
    const padId = tokenId(config.pad_token);
    const vocab = tokenizer.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    return new ModelTokenizer(tokenizer, bosId, eosIds, padId, maxId + 1);
  }

  /** Token ids of `text`, with BOS first when `addBos` and the model uses one. */
  encode(text: string, addBos = true): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: this.postProcessorAddsBos && addBos }).ids;
    if (addBos && !this.postProcessorAddsBos && this.bosId !== undefined) return [this.bosId, ...ids];
    return ids;
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /** Returns the vocabulary string of one id (before decoding), or '' when the id is unknown. */
  tokenString(id: number): string {
    return this.tokenizer.id_to_token(id) ?? '';
  }
}

function parseJsonFile(file: string): object {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as object;
  } catch (error) {
    throw new EngramError('invalid-model', `${file} is not valid JSON (${(error as Error).message}). Re-download the model files.`);
  }
}
