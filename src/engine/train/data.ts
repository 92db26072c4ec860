import { EngramError } from '../errors';
import type { Rng } from '../random';
import type { ModelTokenizer } from '../tokenizer';

/**
 * The corpus as one token stream in which each document starts with BOS, split at a document
 * boundary into a training part and a held-out tail for the eval loss.
 */
export interface TokenStreams {
  train: Int32Array;
  /** Start offset of each document in `train`, ascending. */
  trainDocumentStarts: Int32Array;
  eval: Int32Array;
}

export function tokenizeDocuments(documents: string[], tokenizer: ModelTokenizer, evalFraction: number, seqLen: number): TokenStreams {
  const pieces: number[][] = documents.map((document) => tokenizer.encode(document, true));
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const stream = new Int32Array(total);
  const starts: number[] = [];
  let offset = 0;
  for (const piece of pieces) {
    starts.push(offset);
    stream.set(piece, offset);
    offset += piece.length;
  }

  // Hold out whole documents from the end until the tail has its share (at least 2 tokens).
  let trainTokens = total;
  if (evalFraction > 0) {
    const heldOutTarget = Math.max(2, Math.round(total * evalFraction));
    let documentIndex = starts.length;
    while (documentIndex > 1 && total - starts[documentIndex - 1] < heldOutTarget) documentIndex--;
    trainTokens = documentIndex > 1 ? starts[documentIndex - 1] : Math.max(0, total - heldOutTarget);
  }
  if (trainTokens < seqLen) {
    const heldOut = total - trainTokens;
    throw new EngramError(
      'invalid-corpus',
      `The corpus has ${total} tokens, too few for sequences of ${seqLen} tokens${heldOut > 0 ? ` with ${heldOut} held out for the eval loss` : ''}. Add text, lower --seq-len, or pass --eval-fraction 0.`,
    );
  }
  return {
    train: stream.subarray(0, trainTokens),
    trainDocumentStarts: Int32Array.from(starts.filter((start) => start < trainTokens)),
    eval: stream.subarray(trainTokens),
  };
}

/**
 * `count` windows of `seqLen` tokens. Each starts inside a random document: at its BOS when
 * the document is shorter than a window (so short records are seen from their start, as a
 * prompt would be), at a random offset within it otherwise.
 */
export function sampleWindows(streams: Pick<TokenStreams, 'train' | 'trainDocumentStarts'>, count: number, seqLen: number, rng: Rng): number[][] {
  const { train, trainDocumentStarts: starts } = streams;
  const windows: number[][] = [];
  for (let i = 0; i < count; i++) {
    const documentIndex = rng.nextInt(starts.length);
    const documentStart = starts[documentIndex];
    const documentEnd = documentIndex + 1 < starts.length ? starts[documentIndex + 1] : train.length;
    const spare = documentEnd - documentStart - seqLen;
    let start = spare > 0 ? documentStart + rng.nextInt(spare + 1) : documentStart;
    start = Math.min(start, train.length - seqLen);
    windows.push(Array.from(train.subarray(start, start + seqLen)));
  }
  return windows;
}

/** Non-overlapping windows that cover `stream` (the remainder shorter than 2 tokens is dropped). */
export function chunkStream(stream: Int32Array, seqLen: number): number[][] {
  const chunks: number[][] = [];
  for (let start = 0; start + 2 <= stream.length; start += seqLen) chunks.push(Array.from(stream.subarray(start, Math.min(stream.length, start + seqLen))));
  return chunks;
}
