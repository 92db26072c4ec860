import { EngramError } from '../errors';

/** Head indices are stored as int32, so every table size must stay at or below this. */
const MAX_TABLE_ROWS = 0x7fff_ffff;

/** Tests primality by trial division. Table sizes stay below 2^31, so a test takes at most about 15,500 divisions. */
function isPrime(n: number): boolean {
  if (n < 2) {
    return false;
  }
  if (n % 2 === 0) {
    return n === 2;
  }
  if (n % 3 === 0) {
    return n === 3;
  }
  for (let divisor = 5; divisor * divisor <= n; divisor += 6) {
    if (n % divisor === 0 || n % (divisor + 2) === 0) {
      return false;
    }
  }
  return true;
}

function checkAscending(values: readonly number[], label: string, minimum: number): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isSafeInteger(value) || value < minimum) {
      throw new EngramError('invalid-argument', `Each of the ${label} must be an integer ≥ ${minimum}, got ${value}.`);
    }
    if (i > 0 && value <= values[i - 1]) {
      throw new EngramError(
        'invalid-argument',
        `The ${label} must be distinct and in ascending order, got [${values.join(', ')}].`,
      );
    }
  }
}

/**
 * Chooses the size of every hash table in the model, as DeepSeek's Engram demo does: a prime
 * for each (layer, order, head), all distinct. Layers are walked in ascending order, orders
 * in ascending order, heads 0 upward. Each order starts its search at rowsPerHead − 1 and each
 * head takes the smallest unused prime strictly greater than the previous head's prime.
 *
 * @param layers Engram block indices, ascending.
 * @param orders n-gram orders 2, 3, … without gaps (normally [2, 3]), because hashing pairs
 *   order index i with order i + 2.
 * @returns Primes indexed [layer index][order index][head].
 */
export function tablePrimes(
  layers: number[],
  orders: number[],
  headsPerOrder: number,
  rowsPerHead: number,
): number[][][] {
  checkAscending(layers, 'Engram layers', 0);
  if (orders.length === 0 || orders.some((order, index) => order !== index + 2)) {
    throw new EngramError('invalid-argument', `n-gram orders must be 2, 3, … without gaps, got [${orders.join(', ')}].`);
  }
  if (!Number.isSafeInteger(headsPerOrder) || headsPerOrder < 1) {
    throw new EngramError('invalid-argument', `Heads per order must be a positive integer, got ${headsPerOrder}.`);
  }
  if (!Number.isSafeInteger(rowsPerHead) || rowsPerHead < 1 || rowsPerHead > MAX_TABLE_ROWS) {
    throw new EngramError(
      'invalid-argument',
      `Rows per head must be an integer from 1 to ${MAX_TABLE_ROWS}, got ${rowsPerHead}.`,
    );
  }

  const used = new Set<number>();
  return layers.map(() =>
    orders.map(() => {
      const primes: number[] = [];
      let start = rowsPerHead - 1;
      for (let head = 0; head < headsPerOrder; head++) {
        let candidate = start + 1;
        while (!isPrime(candidate) || used.has(candidate)) {
          candidate++;
        }
        if (candidate > MAX_TABLE_ROWS) {
          throw new EngramError(
            'invalid-argument',
            `Rows per head ${rowsPerHead} is too large: a table would need ${candidate} rows, more than int32 indices allow.`,
          );
        }
        used.add(candidate);
        primes.push(candidate);
        start = candidate;
      }
      return primes;
    }),
  );
}

/**
 * Computes each head's first row in the layer's single physical table. The table contains the
 * heads end to end in the order the primes are given: all heads of the first order, then the next.
 *
 * @param primesOfLayer One layer's primes, [order index][head], as from {@link tablePrimes}.
 * @returns One offset per head, flattened order-major; the first is 0.
 */
export function headOffsets(primesOfLayer: number[][]): number[] {
  const offsets: number[] = [];
  let next = 0;
  for (const primes of primesOfLayer) {
    for (const rows of primes) {
      offsets.push(next);
      next += rows;
    }
  }
  return offsets;
}
