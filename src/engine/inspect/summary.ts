import { EngramError } from '../errors';
import type { EngramRuntime } from '../runtime';
import { corpusCollisions } from './collisions';
import { gateStatistics, gateValues } from './gates';
import { type LayerStatistics, rankFrequencyPoints, tableStatistics } from './tables';

export interface PackStatisticsOptions {
  /** Most-hit rows to list per head (default 5). */
  topRows?: number;
  /** Maximum points of each rank-frequency curve (default 200). */
  curvePoints?: number;
  /** Text to measure the gate distribution on. */
  text?: string;
  /** Tokens of `text` to use at most, BOS included (default 1024). */
  maxTokens?: number;
  /** Corpus documents to count hash collisions on, normally the pack's training corpus. */
  corpusDocuments?: string[];
}

export interface PackStatistics {
  pack: string;
  layers: LayerStatistics[];
  /** Tokens of the text the gates were measured on, or null without a text. */
  text: { tokens: number; totalTokens: number; truncated: boolean } | null;
  /** Size of the corpus the collisions were counted on, or null without a corpus. */
  corpus: { documents: number; tokens: number } | null;
}

/**
 * Collects the statistics of the attached pack: training hits per head with rank-frequency
 * curves, and optionally the gate distribution on a text and the hash collisions of a corpus.
 * The result contains only JSON-safe values. Throws an EngramError when no pack is attached.
 */
export async function packStatistics(runtime: EngramRuntime, options: PackStatisticsOptions = {}): Promise<PackStatistics> {
  const memory = runtime.memory;
  const pack = runtime.attachedPack;
  if (!memory || !pack) {
    throw new EngramError('invalid-argument', 'No pack is attached, so there are no statistics to show. Attach a pack first, then inspect again.');
  }
  const layers = tableStatistics(memory, options.topRows ?? 5, options.curvePoints ?? rankFrequencyPoints);

  let text: PackStatistics['text'] = null;
  if (options.text !== undefined) {
    const maxTokens = options.maxTokens ?? 1024;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new EngramError('invalid-argument', `maxTokens must be a positive integer, got ${maxTokens}.`);
    }
    const allIds = runtime.tokenizer.encode(options.text, true);
    const ids = allIds.slice(0, maxTokens);
    if (ids.length === 0) {
      throw new EngramError('invalid-argument', 'The text for the gate statistics encodes to no tokens. Pass a text that is not empty.');
    }
    const gates = await gateValues(runtime.model, memory, ids);
    layers.forEach((layer, l) => (layer.gate = gateStatistics(gates[l])));
    text = { tokens: ids.length, totalTokens: allIds.length, truncated: ids.length < allIds.length };
  }

  let corpus: PackStatistics['corpus'] = null;
  if (options.corpusDocuments !== undefined) {
    const collisions = corpusCollisions(memory, runtime.tokenizer, options.corpusDocuments);
    layers.forEach((layer, l) => (layer.collisions = collisions.layers[l].orders));
    corpus = { documents: collisions.documents, tokens: collisions.tokens };
  }

  return { pack: pack.name, layers, text, corpus };
}
