/**
 * Multi-head n-gram hashing. At position t, with canonical ids x and pad ids before the start,
 *
 *   mix(t, n) = (x_t · m_0) XOR (x_{t−1} · m_1) XOR … XOR (x_{t−n+1} · m_{n−1})   (mod 2^64)
 *   index(t, n, k) = mix(t, n) mod p(n, k)
 *
 * for orders n = 2, 3, … and heads k. Indices are per head, without the head's row offset.
 *
 * The 64-bit products are computed exactly with float64 arithmetic on 16- and 32-bit pieces
 * instead of BigInt, so a position costs a few dozen number operations and no allocation.
 */

const TWO_POW_16 = 0x1_0000;
const TWO_POW_32 = 0x1_0000_0000;
const UINT64_LIMIT = 1n << 64n;
/** Canonical ids must fit int32 so that id · (16-bit piece) stays below 2^53. */
const MAX_CANONICAL_ID = 0x7fff_ffff;
/** Primes at or below 2^31 − 1 keep every index within int32 and every partial remainder exact. */
const MAX_PRIME = 0x7fff_ffff;

/** A 64-bit multiplier cut into pieces that multiply exactly in float64 with an int32 id. */
interface SplitMultiplier {
  /** Bits 32–63. */
  readonly high: number;
  /** Bits 16–31. */
  readonly middle: number;
  /** Bits 0–15. */
  readonly low: number;
}

/** Validated hashing parameters, flattened for the inner loop. */
interface HashPlan {
  /** Multipliers m_0 … m_{maxOrder−1}, where maxOrder = number of orders + 1. */
  readonly multipliers: SplitMultiplier[];
  /** Primes of every head, order-major, so the heads of order 2 come first. */
  readonly primes: number[];
  /** Number of heads of each order, ascending from order 2. */
  readonly headsPerOrder: number[];
}

function splitMultiplier(multiplier: bigint): SplitMultiplier {
  const low32 = Number(multiplier & 0xffff_ffffn);
  return {
    high: Number(multiplier >> 32n),
    middle: Math.floor(low32 / TWO_POW_16),
    low: low32 % TWO_POW_16,
  };
}

function planHashing(multipliers: readonly bigint[], primes: readonly (readonly number[])[]): HashPlan {
  if (primes.length === 0) {
    throw new RangeError('Hashing needs primes for at least one n-gram order.');
  }
  const maxOrder = primes.length + 1;
  if (multipliers.length < maxOrder) {
    throw new RangeError(
      `Hashing ${primes.length} n-gram orders needs ${maxOrder} multipliers, got ${multipliers.length}.`,
    );
  }
  for (const multiplier of multipliers) {
    if (multiplier < 0n || multiplier >= UINT64_LIMIT) {
      throw new RangeError(`Hash multipliers must be 64-bit unsigned integers, got ${multiplier}.`);
    }
  }

  const flatPrimes: number[] = [];
  const headsPerOrder: number[] = [];
  primes.forEach((orderPrimes, orderIndex) => {
    if (orderPrimes.length === 0) {
      throw new RangeError(`n-gram order ${orderIndex + 2} has no hash heads.`);
    }
    for (const prime of orderPrimes) {
      if (!Number.isSafeInteger(prime) || prime < 1 || prime > MAX_PRIME) {
        throw new RangeError(`Hash table sizes must be integers from 1 to ${MAX_PRIME}, got ${prime}.`);
      }
      flatPrimes.push(prime);
    }
    headsPerOrder.push(orderPrimes.length);
  });

  return {
    multipliers: multipliers.slice(0, maxOrder).map(splitMultiplier),
    primes: flatPrimes,
    headsPerOrder,
  };
}

function checkCanonicalId(id: number, label: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_CANONICAL_ID) {
    throw new RangeError(`${label} must be an integer from 0 to ${MAX_CANONICAL_ID}, got ${id}.`);
  }
}

/**
 * Accumulator for one position's mix as two uint32 words. Module-level scratch because
 * hashing is synchronous and this keeps the inner loop free of allocations.
 */
let mixHigh = 0;
let mixLow = 0;

/** XORs id · multiplier (mod 2^64) into mixHigh:mixLow. Requires 0 ≤ id < 2^31. */
function xorProduct(id: number, multiplier: SplitMultiplier): void {
  // id · low32 = id · middle · 2^16 + id · low, each partial product below 2^47.
  const lowPart = id * multiplier.low;
  const middlePart = id * multiplier.middle;
  const middleBelow16 = middlePart % TWO_POW_16;
  const lowSum = middleBelow16 * TWO_POW_16 + lowPart; // < 2^48
  const productLow = lowSum % TWO_POW_32;
  const carry = (middlePart - middleBelow16) / TWO_POW_16 + Math.floor(lowSum / TWO_POW_32);
  // Math.imul gives id · high mod 2^32. Adding the carry (< 2^32) stays exact, and >>> 0 wraps the sum.
  const productHigh = (Math.imul(id, multiplier.high) + carry) >>> 0;
  mixHigh = (mixHigh ^ productHigh) >>> 0;
  mixLow = (mixLow ^ productLow) >>> 0;
}

/** Returns (mixHigh · 2^32 + mixLow) mod prime by Horner's rule on 16-bit digits; each step stays below 2^47. */
function reduceMix(prime: number): number {
  let remainder = mixHigh % prime;
  remainder = (remainder * TWO_POW_16 + (mixLow >>> 16)) % prime;
  return (remainder * TWO_POW_16 + (mixLow & 0xffff)) % prime;
}

/**
 * Writes the head indices of one position into out[offset …]. `idAt(j)` returns x_{t−j},
 * already pad-filled, for j = 0 … maxOrder − 1.
 */
function hashPositionInto(plan: HashPlan, idAt: (back: number) => number, out: Int32Array, offset: number): void {
  const { multipliers, primes, headsPerOrder } = plan;
  mixHigh = 0;
  mixLow = 0;
  xorProduct(idAt(0), multipliers[0]);

  let column = 0;
  for (let orderIndex = 0; orderIndex < headsPerOrder.length; orderIndex++) {
    // Order n = orderIndex + 2 adds the token n − 1 positions back to the previous order's mix.
    xorProduct(idAt(orderIndex + 1), multipliers[orderIndex + 1]);
    const end = column + headsPerOrder[orderIndex];
    for (; column < end; column++) {
      out[offset + column] = reduceMix(primes[column]);
    }
  }
}

/**
 * Hashes one unpadded sequence of canonical ids.
 *
 * @param canonicalIds Canonical ids x_0 … x_{T−1}, each in [0, 2^31).
 * @param padCanonicalId Canonical id used for positions before 0.
 * @param multipliers m_0 … m_{maxOrder−1} of the layer; extra entries are ignored.
 * @param primes Table sizes [order index][head], orders ascending from 2.
 * @param out Optional reusable output with at least T · (total heads) elements.
 * @returns Row-major [T, total heads] per-head row indices, heads order-major (a view of `out`
 *   when it is given and longer than needed).
 */
export function hashSequence(
  canonicalIds: Int32Array,
  padCanonicalId: number,
  multipliers: readonly bigint[],
  primes: readonly (readonly number[])[],
  out?: Int32Array,
): Int32Array {
  const plan = planHashing(multipliers, primes);
  checkCanonicalId(padCanonicalId, 'Pad canonical id');
  for (let t = 0; t < canonicalIds.length; t++) {
    if (canonicalIds[t] < 0) {
      throw new RangeError(`Canonical ids must be non-negative, got ${canonicalIds[t]} at position ${t}.`);
    }
  }

  const columns = plan.primes.length;
  const needed = canonicalIds.length * columns;
  let result: Int32Array;
  if (out === undefined) {
    result = new Int32Array(needed);
  } else if (out.length < needed) {
    throw new RangeError(`Output array is too short: it has ${out.length} elements but ${canonicalIds.length} positions need ${needed}.`);
  } else {
    result = out.length === needed ? out : out.subarray(0, needed);
  }

  let t = 0;
  const idAt = (back: number): number => (t >= back ? canonicalIds[t - back] : padCanonicalId);
  for (; t < canonicalIds.length; t++) {
    hashPositionInto(plan, idAt, result, t * columns);
  }
  return result;
}

/**
 * Hashes only the last position of a sequence, for incremental decoding. Given the sequence's
 * tail (its last ids, oldest first, current token last), the result equals the last row of
 * {@link hashSequence} on the whole sequence. Only the last (number of orders + 1) ids of the
 * tail are read, so with orders 2 and 3 a decoder keeps the previous two ids and the current one.
 * A tail shorter than that is a sequence start, and the missing ids are the pad id.
 *
 * @returns One row of per-head indices, heads order-major.
 */
export function hashLastPosition(
  tail: ArrayLike<number>,
  padCanonicalId: number,
  multipliers: readonly bigint[],
  primes: readonly (readonly number[])[],
  out?: Int32Array,
): Int32Array {
  const plan = planHashing(multipliers, primes);
  checkCanonicalId(padCanonicalId, 'Pad canonical id');
  if (tail.length === 0) {
    throw new RangeError('The tail must contain at least the current token id.');
  }
  const maxOrder = plan.multipliers.length;
  for (let back = 0; back < Math.min(maxOrder, tail.length); back++) {
    checkCanonicalId(tail[tail.length - 1 - back], 'Canonical id');
  }

  const columns = plan.primes.length;
  if (out !== undefined && out.length < columns) {
    throw new RangeError(`Output array is too short: it has ${out.length} elements but one position needs ${columns}.`);
  }
  const result = out ?? new Int32Array(columns);
  const last = tail.length - 1;
  hashPositionInto(plan, (back) => (back <= last ? tail[last - back] : padCanonicalId), result, 0);
  return result;
}
