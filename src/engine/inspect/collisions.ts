import type { EngramMemory } from '../engram/memory';

/** Collisions of one hash head among the distinct corpus n-grams of its order. */
export interface HeadCollisions {
  head: number;
  tableRows: number;
  /** Rows that at least one corpus n-gram hashes to. */
  occupiedRows: number;
  /** Distinct n-grams that share their row with at least one other distinct n-gram. */
  collidingNGrams: number;
}

/** Collisions of one n-gram order in one Engram layer. */
export interface OrderCollisions {
  order: number;
  /** Distinct n-grams of this order, as canonical ids, in the corpus. */
  distinctNGrams: number;
  heads: HeadCollisions[];
  /**
   * Distinct n-grams that share a row with another n-gram on every head of this order, possibly
   * a different partner on each head. Their memory is mixed with other n-grams on every head.
   */
  collidingOnAllHeads: number;
}

export interface LayerCollisions {
  /** 0-based decoder block. */
  layer: number;
  orders: OrderCollisions[];
}

export interface CorpusCollisions {
  documents: number;
  /** Tokens of all documents, BOS included. */
  tokens: number;
  layers: LayerCollisions[];
}

/** Distinct n-grams of one order with the rows that each layer's heads give them. */
interface DistinctNGrams {
  keys: Map<number | string, number>;
  /** Rows per layer. The rows of the n-gram with index i are at [i * heads, (i + 1) * heads). */
  rows: number[][];
}

/**
 * Counts hash collisions among the distinct n-grams of a corpus, for each layer, order and head
 * of the pack. n-grams are tuples of canonical ids, so tokens that the tokenizer compression
 * merges are one n-gram. Each document is encoded with BOS, as the trainer encodes it, and
 * hashed on its own, with the pad id before its start.
 *
 * NOTE: training windows that start inside a long document, or run past the end of a short one
 * into the next, see a few n-grams (pad-filled starts, document joins) that this count leaves out.
 */
export function corpusCollisions(memory: EngramMemory, tokenizer: { encode(text: string, addBos?: boolean): number[] }, documents: string[]): CorpusCollisions {
  const orders = memory.shape.orders;
  const headsPerOrder = memory.shape.headsPerOrder;
  const distinct: DistinctNGrams[] = orders.map(() => ({ keys: new Map(), rows: memory.hashing.map(() => []) }));
  const pad = memory.compression.padCanonicalId;
  const keyOf = ngramKeyFunction(memory.compression.size, Math.max(...orders));
  let tokens = 0;

  for (const document of documents) {
    const ids = tokenizer.encode(document, true);
    if (ids.length === 0) continue;
    tokens += ids.length;
    const canonical = memory.canonicalIds(ids);
    const lookup = memory.lookup([ids], ids.length);
    for (let t = 0; t < ids.length; t++) {
      orders.forEach((order, o) => {
        const ngram: number[] = [];
        for (let back = order - 1; back >= 0; back--) ngram.push(t >= back ? canonical[t - back] : pad);
        const key = keyOf(ngram);
        const found = distinct[o];
        if (found.keys.has(key)) return;
        found.keys.set(key, found.keys.size);
        // The lookup lists all heads of a position, order-major, as absolute rows of the layer's table.
        const first = t * memory.heads + o * headsPerOrder;
        memory.hashing.forEach((layer, l) => {
          for (let k = 0; k < headsPerOrder; k++) found.rows[l].push(lookup.rows[l][first + k] - layer.offsets[o * headsPerOrder + k]);
        });
      });
    }
  }

  const layers = memory.hashing.map((layer, l) => ({
    layer: layer.layer,
    orders: orders.map((order, o) => orderCollisions(order, distinct[o].keys.size, distinct[o].rows[l], layer.primes[o])),
  }));
  return { documents: documents.length, tokens, layers };
}

/** Collision counts of one order in one layer, from each distinct n-gram's rows (n-gram-major). */
function orderCollisions(order: number, count: number, rows: number[], primes: number[]): OrderCollisions {
  const heads = primes.length;
  const collidesOnAll = new Uint8Array(count).fill(1);
  const occupancy = new Uint32Array(Math.max(...primes));
  const headResults: HeadCollisions[] = primes.map((prime, k) => {
    occupancy.fill(0, 0, prime);
    for (let i = 0; i < count; i++) occupancy[rows[i * heads + k]]++;
    let occupiedRows = 0;
    for (let row = 0; row < prime; row++) if (occupancy[row] > 0) occupiedRows++;
    let collidingNGrams = 0;
    for (let i = 0; i < count; i++) {
      if (occupancy[rows[i * heads + k]] > 1) collidingNGrams++;
      else collidesOnAll[i] = 0;
    }
    return { head: k, tableRows: prime, occupiedRows, collidingNGrams };
  });
  let collidingOnAllHeads = 0;
  for (let i = 0; i < count; i++) collidingOnAllHeads += collidesOnAll[i];
  return { order, distinctNGrams: count, heads: headResults, collidingOnAllHeads };
}

/**
 * Returns a function that maps an n-gram of canonical ids to a Map key: one number while
 * vocabularySize^maxOrder stays an exact float64 integer, else a comma-joined string.
 */
function ngramKeyFunction(vocabularySize: number, maxOrder: number): (ngram: number[]) => number | string {
  if (vocabularySize ** maxOrder <= Number.MAX_SAFE_INTEGER) {
    return (ngram) => ngram.reduce((key, id) => key * vocabularySize + id, 0);
  }
  return (ngram) => ngram.join(',');
}
