import { EngramError } from '../errors';
import type { Rng } from '../random';
import type { ModelTokenizer } from '../tokenizer';

/** The corpus as one token stream (each document starts with BOS), split into train and eval parts. */
export interface TokenStreams {
  train: Int32Array;
  eval: Int32Array;
}

export function tokenizeDocuments(documents: string[], tokenizer: ModelTokenizer, evalFraction: number, seqLen: number): TokenStreams {
  const pieces: number[][] = documents.map((document) => tokenizer.encode(document, true));
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const stream = new Int32Array(total);
  let offset = 0;
  for (const piece of pieces) {
    stream.set(piece, offset);
    offset += piece.length;
  }
  // The eval part is the tail of the stream, at least one sequence long when it is on.
  const evalTokens = evalFraction > 0 ? Math.max(seqLen + 1, Math.round(total * evalFraction)) : 0;
  const trainTokens = total - evalTokens;
  if (trainTokens < seqLen) {
    throw new EngramError(
      'invalid-corpus',
      `The corpus has ${total} tokens, too few for sequences of ${seqLen} tokens${evalTokens > 0 ? ` plus ${evalTokens} held out for the eval loss` : ''}. Add text, lower --seq-len, or pass --eval-fraction 0.`,
    );
  }
  return { train: stream.subarray(0, trainTokens), eval: stream.subarray(trainTokens) };
}

/** `count` windows of `seqLen` tokens at random starts in `stream`. */
export function sampleWindows(stream: Int32Array, count: number, seqLen: number, rng: Rng): number[][] {
  const windows: number[][] = [];
  const starts = stream.length - seqLen + 1;
  for (let i = 0; i < count; i++) {
    const start = rng.nextInt(starts);
    windows.push(Array.from(stream.subarray(start, start + seqLen)));
  }
  return windows;
}

/** Non-overlapping windows that cover `stream` (the remainder shorter than 2 tokens is dropped). */
export function chunkStream(stream: Int32Array, seqLen: number): number[][] {
  const chunks: number[][] = [];
  for (let start = 0; start + 2 <= stream.length; start += seqLen) chunks.push(Array.from(stream.subarray(start, Math.min(stream.length, start + seqLen))));
  return chunks;
}
