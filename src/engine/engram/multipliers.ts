import { EngramError } from '../errors';
import { defaultRng } from './pcg64';

/** Spacing between the seeds of consecutive Engram layers, from DeepSeek's Engram demo. */
const LAYER_SEED_STRIDE = 10007n;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Draws the odd 64-bit hash multipliers m_0 … m_{maxOrder−1} of one Engram layer, the values
 * DeepSeek's Engram demo (engram_demo_v1.py) gets from numpy:
 * `r = np.random.default_rng(seed + 10007 · layer).integers(0, B, size=maxOrder, dtype=np.int64)`
 * with B = floor(floor((2^63 − 1) / V') / 2), then m_i = 2 · r_i + 1.
 * B keeps every product x · m_i below 2^63 for canonical ids x < V'.
 *
 * @param compressedVocabSize V', the number of canonical token ids.
 */
export function hashMultipliers(
  seed: number,
  layer: number,
  compressedVocabSize: number,
  maxOrder = 3,
): bigint[] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new EngramError('invalid-argument', `Hash seed must be a non-negative integer, got ${seed}.`);
  }
  if (!Number.isSafeInteger(layer) || layer < 0) {
    throw new EngramError('invalid-argument', `Engram layer must be a non-negative integer, got ${layer}.`);
  }
  if (!Number.isSafeInteger(compressedVocabSize) || compressedVocabSize < 1) {
    throw new EngramError(
      'invalid-argument',
      `Compressed vocabulary size must be a positive integer, got ${compressedVocabSize}.`,
    );
  }
  if (!Number.isSafeInteger(maxOrder) || maxOrder < 1) {
    throw new EngramError('invalid-argument', `Maximum n-gram order must be a positive integer, got ${maxOrder}.`);
  }

  const bound = INT64_MAX / BigInt(compressedVocabSize) / 2n;
  // The bound is at least 2^31 for any vocabulary that fits int32 ids, so this only rejects absurd sizes.
  if (bound < 1n) {
    throw new EngramError(
      'invalid-argument',
      `Compressed vocabulary size ${compressedVocabSize} is too large for 64-bit hash multipliers.`,
    );
  }

  const rng = defaultRng(BigInt(seed) + LAYER_SEED_STRIDE * BigInt(layer));
  return rng.integers(0n, bound, maxOrder).map((draw) => 2n * draw + 1n);
}
