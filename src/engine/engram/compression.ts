import { EngramError } from '../errors';

/** Map from raw token ids to canonical ids, shared by tokens that differ only in surface form. */
export interface CompressionTable {
  /** Canonical id for each raw id; length = tokenizer size including added tokens. */
  canonical: Int32Array;
  /** V', the number of distinct canonical ids. */
  size: number;
}

const REPLACEMENT_CHARACTER = '\uFFFD';
// NOTE: Hugging Face tokenizers' StripAccents, which the Engram demo uses, drops every mark
// (Mn, Mc and Me) because it tests unicode-normalization's is_combining_mark. Dropping only Mn
// gives the same table for the stories260K and Llama 2 tokenizers. It may differ for tokenizers
// whose pieces contain spacing marks (Mc) inside words, such as Devanagari vowel signs.
const NONSPACING_MARKS = /\p{Mn}/gu;
const WHITESPACE_RUNS = /[ \t\r\n]+/g;
// Unicode White_Space, the set Rust's char::is_whitespace uses. JavaScript's trim() differs:
// it also strips U+FEFF but keeps U+0085.
const EDGE_WHITESPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;

/**
 * Lowercases one code point at a time, as the Hugging Face tokenizers Lowercase normalizer
 * does (Rust char::to_lowercase). String-wide toLowerCase would turn a word-final Σ into ς.
 */
function lowercaseEachCodePoint(text: string): string {
  let lowered = '';
  for (const character of text) {
    lowered += character.toLowerCase();
  }
  return lowered;
}

/**
 * Normalises decoded token text into its compression key, following the normalizer sequence of
 * DeepSeek's Engram demo (engram_demo_v1.py). The steps are NFKC, NFD, dropping nonspacing marks
 * (category Mn), lowercasing, and collapsing each run of space, tab, CR and LF into one space.
 * Last, both ends are trimmed unless the whole text is exactly one space.
 */
export function normalizeTokenText(text: string): string {
  const collapsed = lowercaseEachCodePoint(text.normalize('NFKC').normalize('NFD').replace(NONSPACING_MARKS, ''))
    .replace(WHITESPACE_RUNS, ' ');
  return collapsed === ' ' ? collapsed : collapsed.replace(EDGE_WHITESPACE, '');
}

/**
 * Builds the raw → canonical id table. Each raw id is decoded on its own. When the text contains
 * U+FFFD (a byte piece that is not valid UTF-8 alone), the key is the raw token string.
 * Otherwise the key is the normalised text, or the decoded text itself when normalising leaves
 * nothing. Canonical ids are numbered in the order their keys first appear, scanning raw ids upward.
 *
 * @param vocabSize Tokenizer size including added tokens.
 * @param decodeOne Decodes a single raw id with special tokens kept.
 * @param rawTokenString Returns the tokenizer's own string for a raw id (its vocabulary entry).
 */
export function buildCompressionTable(
  vocabSize: number,
  decodeOne: (id: number) => string,
  rawTokenString: (id: number) => string,
): CompressionTable {
  if (!Number.isSafeInteger(vocabSize) || vocabSize < 1 || vocabSize > 0x7fff_ffff) {
    throw new EngramError('invalid-argument', `Vocabulary size must be an integer from 1 to 2^31 − 1, got ${vocabSize}.`);
  }

  const canonical = new Int32Array(vocabSize);
  const canonicalIdByKey = new Map<string, number>();
  for (let id = 0; id < vocabSize; id++) {
    const text = decodeOne(id);
    let key: string;
    if (text.includes(REPLACEMENT_CHARACTER)) {
      key = rawTokenString(id);
    } else {
      const normalized = normalizeTokenText(text);
      key = normalized.length > 0 ? normalized : text;
    }

    let canonicalId = canonicalIdByKey.get(key);
    if (canonicalId === undefined) {
      canonicalId = canonicalIdByKey.size;
      canonicalIdByKey.set(key, canonicalId);
    }
    canonical[id] = canonicalId;
  }
  return { canonical, size: canonicalIdByKey.size };
}
