/**
 * Character ranges of tokens in the text they were encoded from.
 *
 * @huggingface/tokenizers 0.2.0 returns ids and token strings but no offsets, so the ranges are
 * derived from decoding. The text of token i is what decoding ids[0..i] adds to decoding
 * ids[0..i−1]. Decoding whole prefixes, not single tokens, keeps the decoder's context rules.
 * For example, the Llama decoders strip the space of the first piece only, and byte-fallback
 * pieces such as <0xF0> decode to U+FFFD until the last byte of their character arrives.
 */

/** A half-open range [start, end) of UTF-16 code units (JavaScript string offsets). */
export interface TextRange {
  start: number;
  end: number;
}

/** The decoding method of a tokenizer, which `ModelTokenizer` implements. */
export interface TokenDecoder {
  decode(ids: number[], skipSpecialTokens?: boolean): string;
}

const REPLACEMENT_CHARACTER = '\uFFFD';
/** Mismatching characters skipped at most, in either string, before giving up on aligning. */
const maxResyncSkip = 64;
/** Characters that must agree after a skip for the two strings to count as aligned again. */
const resyncAnchor = 4;

/**
 * Finds each token's range in `text`. Special tokens that decode to nothing (BOS, EOS) get
 * null. A token that adds no text gets an empty range where it sits, for example a
 * SentencePiece word-start marker that the decoder strips. The byte pieces of one character all
 * get that character's range. Starts and ends never decrease, and each range starts where the
 * previous token's own text ended, so together the ranges cover the text from 0 to the end of
 * the last token's text without gaps.
 *
 * The decoded text can differ from `text`, for example after a normalizer that lowercases or
 * folds Unicode, or a decoder that removes spaces before punctuation. Decoded positions are then
 * mapped to `text` by aligning the two strings. Characters that only `text` has go to the token
 * after them.
 *
 * @param wholeText true when `ids` encode all of `text`, so that text after the last decoded
 *   character belongs to the last token. Pass false when `ids` were cut short.
 */
export function tokenRanges(tokenizer: TokenDecoder, ids: number[], text: string, wholeText: boolean): (TextRange | null)[] {
  const decoded = tokenizer.decode(ids, true);
  const decodedRanges = decodedTokenRanges(tokenizer, ids, decoded);
  const toText = decodedToTextOffsets(decoded, text, wholeText);
  return decodedRanges.map((range) => (range === null ? null : { start: toText[range.start], end: toText[range.end] }));
}

/** Token ranges in `decoded`, the decoding of all of `ids` with special tokens skipped. */
function decodedTokenRanges(tokenizer: TokenDecoder, ids: number[], decoded: string): (TextRange | null)[] {
  const specialById = new Map<number, boolean>();
  const isSpecial = (id: number): boolean => {
    let special = specialById.get(id);
    if (special === undefined) {
      // A special token is one that decoding drops only when asked to skip special tokens.
      special = tokenizer.decode([id], true) === '' && tokenizer.decode([id], false) !== '';
      specialById.set(id, special);
    }
    return special;
  };

  // committed[i] is the length of `decoded` that the prefix ids[0..i] has produced for good.
  // pending[i] is 1 when the prefix also ends with text that later tokens rewrite, which is an
  // unfinished character.
  const committed = new Int32Array(ids.length);
  const pending = new Uint8Array(ids.length);
  let previous = 0;
  for (let i = 0; i < ids.length; i++) {
    const prefix = tokenizer.decode(ids.slice(0, i + 1), true);
    const common = commonPrefixLength(prefix, decoded);
    committed[i] = Math.max(previous, common);
    pending[i] = prefix.length > common && prefix.includes(REPLACEMENT_CHARACTER, common) ? 1 : 0;
    previous = committed[i];
  }

  // A token that ends inside a character (a byte piece) also covers that whole character. The
  // character starts where the token's committed text ends, and later tokens complete it there.
  const ranges: (TextRange | null)[] = [];
  for (let i = 0; i < ids.length; i++) {
    const start = i === 0 ? 0 : committed[i - 1];
    let end = committed[i];
    if (pending[i] === 1 && end < decoded.length) end += codePointLength(decoded, end);
    ranges.push(isSpecial(ids[i]) && end === start ? null : { start, end });
  }
  return ranges;
}

function codePointLength(text: string, at: number): number {
  const code = text.codePointAt(at);
  return code !== undefined && code > 0xffff ? 2 : 1;
}

function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let i = 0;
  while (i < limit && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Maps every offset 0..decoded.length of `decoded` to an offset in `text`, non-decreasing.
 * Equal stretches map one to one. At a mismatch, the alignment skips the fewest characters
 * (in `text`, in `decoded` or in both) after which the next few characters agree again.
 * Skipped decoded characters map proportionally into the skipped text.
 */
function decodedToTextOffsets(decoded: string, text: string, wholeText: boolean): Int32Array {
  const offsets = new Int32Array(decoded.length + 1).fill(-1);
  if (text.startsWith(decoded)) {
    for (let j = 0; j <= decoded.length; j++) offsets[j] = j;
    if (wholeText) offsets[decoded.length] = text.length;
    return offsets;
  }

  let i = 0;
  let j = 0;
  while (j < decoded.length) {
    if (i < text.length && decoded.charCodeAt(j) === text.charCodeAt(i)) {
      if (offsets[j] < 0) offsets[j] = i;
      i++;
      j++;
      continue;
    }
    const skip = findResync(decoded, j, text, i);
    // The first mapping of an offset wins, so text that only `text` has joins the next token.
    if (offsets[j] < 0) offsets[j] = i;
    for (let k = 1; k < skip.decoded; k++) offsets[j + k] = i + Math.floor((k * skip.text) / skip.decoded);
    i += skip.text;
    j += skip.decoded;
  }
  offsets[decoded.length] = wholeText ? text.length : i;
  return offsets;
}

/**
 * Finds the shortest skips after which `decoded` from j and `text` from i agree on the next
 * characters. Among skips of equal total length, skipping more of `text` is tried first.
 */
function findResync(decoded: string, j: number, text: string, i: number): { text: number; decoded: number } {
  for (let total = 1; total <= maxResyncSkip; total++) {
    for (let textSkip = total; textSkip >= 0; textSkip--) {
      const decodedSkip = total - textSkip;
      if (agreesAt(decoded, j + decodedSkip, text, i + textSkip)) return { text: textSkip, decoded: decodedSkip };
    }
  }
  // No agreement nearby: spread the rest of `decoded` over the rest of `text`.
  return { text: text.length - i, decoded: decoded.length - j };
}

function agreesAt(decoded: string, j: number, text: string, i: number): boolean {
  if (j > decoded.length || i > text.length) return false;
  // Running out of decoded text always agrees: the rest of `text` lies past the last token.
  if (j === decoded.length) return true;
  const length = Math.min(resyncAnchor, decoded.length - j);
  if (i + length > text.length) return false;
  for (let k = 0; k < length; k++) if (decoded.charCodeAt(j + k) !== text.charCodeAt(i + k)) return false;
  return true;
}
