import type { EngramMemory } from '../engram/memory';
import type { OrderCollisions } from './collisions';
import type { GateStatistics } from './gates';

/**
 * Hit counts of a head's rows sorted from most to least hit, sampled at log-spaced ranks so that
 * a log-log plot of the whole curve needs few points. Rows never hit are left out, because a
 * zero count has no place on a log axis.
 */
export interface RankFrequencyCurve {
  /** 1-based ranks, strictly ascending. The first is 1 and the last is the number of rows hit. */
  ranks: number[];
  /** Training hits of the row at each rank, non-increasing. */
  hits: number[];
}

export interface HeadStatistics {
  order: number;
  head: number;
  tableRows: number;
  /** Lookups of this head during training: one per position of every training sequence. */
  lookups: number;
  /** Rows looked up at least once during training. */
  uniqueRows: number;
  /** uniqueRows / tableRows: the share of the table that training ever updated. */
  coverage: number;
  /** Most-hit rows, as [row within the head's table, hits], most hits first. */
  topRows: [number, number][];
  rankFrequency: RankFrequencyCurve;
}

export interface LayerStatistics {
  /** 0-based decoder block. */
  layer: number;
  heads: HeadStatistics[];
  /** Gate distribution on the inspected text, or null when no text was given. */
  gate: GateStatistics | null;
  /** Hash collisions among the corpus n-grams, one entry per order, or null when no corpus was given. */
  collisions: OrderCollisions[] | null;
}

/** Default number of points of a rank-frequency curve. */
export const rankFrequencyPoints = 200;

/**
 * Samples a descending list of hit counts at up to `maxPoints` ranks spaced evenly on a log
 * scale from rank 1 to the last rank. Every rank is kept when there are no more than
 * `maxPoints`. Each point is the count at that rank, not an average over neighbouring ranks.
 */
export function rankFrequency(sortedHits: ArrayLike<number>, maxPoints = rankFrequencyPoints): RankFrequencyCurve {
  const count = sortedHits.length;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new RangeError(`A rank-frequency curve needs at least 2 points, got maxPoints=${maxPoints}.`);
  }
  const ranks: number[] = [];
  if (count <= maxPoints) {
    for (let rank = 1; rank <= count; rank++) ranks.push(rank);
  } else {
    const logLast = Math.log(count);
    for (let k = 0; k < maxPoints; k++) {
      const rank = Math.min(count, Math.round(Math.exp((logLast * k) / (maxPoints - 1))));
      // Small ranks round to the same integer several times, so each rank is kept once.
      if (rank > (ranks[ranks.length - 1] ?? 0)) ranks.push(rank);
    }
    if (ranks[ranks.length - 1] !== count) ranks.push(count);
  }
  return { ranks, hits: ranks.map((rank) => sortedHits[rank - 1]) };
}

/** Training hit statistics of every head of every Engram layer, from `memory.rowHits`. */
export function tableStatistics(memory: EngramMemory, topCount = 5, curvePoints = rankFrequencyPoints): LayerStatistics[] {
  return memory.hashing.map((layer, l) => {
    const hits = memory.rowHits[l];
    let head = 0;
    const heads: HeadStatistics[] = [];
    memory.shape.orders.forEach((order, o) => {
      layer.primes[o].forEach((prime, k) => {
        heads.push(headStatistics(hits.subarray(layer.offsets[head], layer.offsets[head] + prime), order, k, topCount, curvePoints));
        head++;
      });
    });
    return { layer: layer.layer, heads, gate: null, collisions: null };
  });
}

/** Statistics of one head, given the hit counts of its rows. */
function headStatistics(hits: Float64Array, order: number, head: number, topCount: number, curvePoints: number): HeadStatistics {
  let lookups = 0;
  let uniqueRows = 0;
  for (let row = 0; row < hits.length; row++) {
    if (hits[row] === 0) continue;
    lookups += hits[row];
    uniqueRows++;
  }

  // Typed-array sort is numeric and native, which matters for heads of millions of rows.
  const ascending = new Float64Array(uniqueRows);
  const topRows: [number, number][] = [];
  let next = 0;
  for (let row = 0; row < hits.length; row++) {
    const count = hits[row];
    if (count === 0) continue;
    ascending[next++] = count;
    // Rows are visited in ascending order and only a strictly larger count displaces an entry,
    // so ties keep the lower row.
    if (topCount > 0 && (topRows.length < topCount || count > topRows[topRows.length - 1][1])) {
      let at = topRows.length;
      while (at > 0 && topRows[at - 1][1] < count) at--;
      topRows.splice(at, 0, [row, count]);
      if (topRows.length > topCount) topRows.pop();
    }
  }
  ascending.sort();
  const descending = ascending.reverse();

  return {
    order,
    head,
    tableRows: hits.length,
    lookups,
    uniqueRows,
    coverage: uniqueRows / hits.length,
    topRows,
    rankFrequency: rankFrequency(descending, curvePoints),
  };
}
