/**
 * A BigInt port of numpy's default random generator (numpy 1.17 and later):
 * `np.random.default_rng(seed)` seeds PCG64 (PCG XSL RR 128/64) through SeedSequence, and
 * `Generator.integers(low, high, size, dtype=np.int64)` draws bounded integers with Lemire's
 * multiply-and-reject method. Engram hash multipliers are defined as numpy draws, so this
 * port reproduces numpy's output bit for bit; it was checked against numpy 2.4.6.
 */

const MASK32 = 0xffff_ffffn;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_LIMIT = 1n << 63n;

// SeedSequence hash constants from numpy/random/bit_generator.pyx, which takes the mixing
// scheme from Melissa O'Neill's randutils (seed_seq_fe). All arithmetic is on uint32.
const POOL_SIZE = 4;
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;

/** PCG's default 128-bit LCG multiplier, which numpy's PCG64 uses (PCG64DXSM does not). */
const PCG_DEFAULT_MULTIPLIER_128 = (2549297995355413924n << 64n) + 4865540595714422341n;

/**
 * Splits a non-negative integer into uint32 words, least significant first, as numpy's
 * SeedSequence does with integer entropy. Zero becomes one zero word.
 */
function entropyWords(entropy: bigint): number[] {
  if (entropy === 0n) {
    return [0];
  }
  const words: number[] = [];
  for (let rest = entropy; rest > 0n; rest >>= 32n) {
    words.push(Number(rest & MASK32));
  }
  return words;
}

/** Builds SeedSequence's 4-word entropy pool (numpy's `mix_entropy`). */
function mixEntropy(entropy: readonly number[]): Uint32Array {
  // One hash constant advances across every hashmix call of the whole mixing pass.
  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    let mixed = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    mixed = Math.imul(mixed, hashConst) >>> 0;
    return (mixed ^ (mixed >>> XSHIFT)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    // Both imul results lie in [-2^31, 2^31), so the difference is exact and >>> 0 wraps it mod 2^32.
    const result = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (result ^ (result >>> XSHIFT)) >>> 0;
  };

  const pool = new Uint32Array(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) {
    pool[i] = hashmix(i < entropy.length ? entropy[i] : 0);
  }
  for (let source = 0; source < POOL_SIZE; source++) {
    for (let target = 0; target < POOL_SIZE; target++) {
      if (source !== target) {
        pool[target] = mix(pool[target], hashmix(pool[source]));
      }
    }
  }
  // Entropy beyond the pool size (seeds of 2^128 and above) is folded into every pool word.
  for (let source = POOL_SIZE; source < entropy.length; source++) {
    for (let target = 0; target < POOL_SIZE; target++) {
      pool[target] = mix(pool[target], hashmix(entropy[source]));
    }
  }
  return pool;
}

function checkSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new RangeError(`Seed must be a safe integer, got ${seed}.`);
  }
  const value = BigInt(seed);
  if (value < 0n) {
    throw new RangeError(`Seed must be non-negative, as numpy's SeedSequence requires; got ${value}.`);
  }
  return value;
}

/**
 * Derives `wordCount` uint32 words from an integer seed exactly as numpy's
 * `SeedSequence(seed).generate_state(wordCount, np.uint32)`, with no spawn key.
 */
export function seedSequenceState(seed: number | bigint, wordCount: number): Uint32Array {
  if (!Number.isSafeInteger(wordCount) || wordCount < 0) {
    throw new RangeError(`Word count must be a non-negative integer, got ${wordCount}.`);
  }
  const pool = mixEntropy(entropyWords(checkSeed(seed)));
  const state = new Uint32Array(wordCount);
  let hashConst = INIT_B;
  for (let i = 0; i < wordCount; i++) {
    let value = (pool[i % POOL_SIZE] ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    state[i] = (value ^ (value >>> XSHIFT)) >>> 0;
  }
  return state;
}

/** Reads uint64 word `index` from uint32 words laid out little-endian, as numpy's uint64 view does. */
function uint64At(words: Uint32Array, index: number): bigint {
  return (BigInt(words[2 * index + 1]) << 32n) | BigInt(words[2 * index]);
}

/**
 * numpy's PCG64 bit generator: a 128-bit LCG whose output is the XOR of the state's two
 * halves rotated right by the state's top 6 bits (XSL RR). Each draw advances the state first.
 */
export class Pcg64 {
  private lcgState: bigint;
  private readonly lcgIncrement: bigint;
  /** High half of the last 64-bit draw, which numpy hands out as the next 32-bit draw. */
  private pendingUint32: number | undefined;

  /**
   * Creates a generator from raw LCG state and increment, the values numpy reports as
   * `bit_generator.state['state']`. The increment must be odd.
   */
  constructor(state: bigint, increment: bigint) {
    if (state < 0n || state > MASK128) {
      throw new RangeError(`PCG64 state must be a 128-bit unsigned integer, got ${state}.`);
    }
    if (increment < 0n || increment > MASK128 || (increment & 1n) === 0n) {
      throw new RangeError(`PCG64 increment must be an odd 128-bit unsigned integer, got ${increment}.`);
    }
    this.lcgState = state;
    this.lcgIncrement = increment;
  }

  /** Seeds the generator as `np.random.PCG64(seed)` does, through SeedSequence. */
  static fromSeed(seed: number | bigint): Pcg64 {
    const words = seedSequenceState(seed, 8);
    // numpy reads four uint64 words: the first pair is the initial state, the second pair the
    // stream selector, each as (high word, low word).
    const initialState = (uint64At(words, 0) << 64n) | uint64At(words, 1);
    const sequence = (uint64At(words, 2) << 64n) | uint64At(words, 3);

    // PCG's srandom: state 0, odd increment from the stream selector, step, add the seed, step.
    const increment = ((sequence << 1n) | 1n) & MASK128;
    const generator = new Pcg64(0n, increment);
    generator.step();
    generator.lcgState = (generator.lcgState + initialState) & MASK128;
    generator.step();
    return generator;
  }

  /** LCG state and increment in the form numpy's `bit_generator.state['state']` reports them. */
  get state(): { state: bigint; inc: bigint } {
    return { state: this.lcgState, inc: this.lcgIncrement };
  }

  private step(): void {
    this.lcgState = (this.lcgState * PCG_DEFAULT_MULTIPLIER_128 + this.lcgIncrement) & MASK128;
  }

  /** Draws the next raw 64-bit output, as numpy's `random_raw` and `next_uint64`. */
  nextUint64(): bigint {
    this.step();
    const state = this.lcgState;
    const xored = ((state >> 64n) ^ state) & MASK64;
    const rotation = state >> 122n;
    return ((xored >> rotation) | (xored << ((64n - rotation) & 63n))) & MASK64;
  }

  /**
   * Draws a 32-bit output as numpy's PCG64 `next_uint32`: the low half of a fresh 64-bit draw,
   * then the buffered high half on the following call. 64-bit draws skip the buffer.
   */
  nextUint32(): number {
    if (this.pendingUint32 !== undefined) {
      const buffered = this.pendingUint32;
      this.pendingUint32 = undefined;
      return buffered;
    }
    const draw = this.nextUint64();
    this.pendingUint32 = Number(draw >> 32n);
    return Number(draw & MASK32);
  }
}

/**
 * Draws a uniform integer in [0, range] (inclusive) with Lemire's method on 64-bit draws:
 * the high 64 bits of draw · (range + 1), redrawing while the low 64 bits fall below
 * 2^64 mod (range + 1). Requires 0 < range < 2^64 − 1.
 */
function boundedLemire64(bits: Pcg64, range: bigint): bigint {
  const exclusive = range + 1n;
  let product = bits.nextUint64() * exclusive;
  let leftover = product & MASK64;
  if (leftover < exclusive) {
    const threshold = (MASK64 - range) % exclusive;
    while (leftover < threshold) {
      product = bits.nextUint64() * exclusive;
      leftover = product & MASK64;
    }
  }
  return product >> 64n;
}

/** Draws a uniform integer in [0, range] like {@link boundedLemire64}, but from 32-bit draws. Requires 0 < range < 2^32 − 1. */
function boundedLemire32(bits: Pcg64, range: bigint): bigint {
  const exclusive = range + 1n;
  let product = BigInt(bits.nextUint32()) * exclusive;
  let leftover = product & MASK32;
  if (leftover < exclusive) {
    const threshold = (MASK32 - range) % exclusive;
    while (leftover < threshold) {
      product = BigInt(bits.nextUint32()) * exclusive;
      leftover = product & MASK32;
    }
  }
  return product >> 32n;
}

/** The subset of numpy's `np.random.Generator` that Engram needs. */
export class NumpyGenerator {
  constructor(readonly bitGenerator: Pcg64) {}

  /**
   * Draws `size` integers uniformly from [low, high), as numpy's
   * `integers(low, high, size=size, dtype=np.int64)` with the default `endpoint=False`.
   * Like numpy, ranges of up to 2^32 values take 32-bit draws, each half of a 64-bit draw.
   * Wider ranges take one or more 64-bit draws per value.
   */
  integers(low: bigint, high: bigint, size: number): bigint[] {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`Size must be a non-negative integer, got ${size}.`);
    }
    if (low < INT64_MIN) {
      throw new RangeError(`low is out of bounds for int64: ${low}.`);
    }
    if (high > INT64_LIMIT) {
      throw new RangeError(`high is out of bounds for int64: ${high}.`);
    }
    if (low >= high) {
      throw new RangeError(`low >= high: low is ${low}, high is ${high}.`);
    }

    // numpy works on the inclusive span as uint64 and adds the offset modulo 2^64.
    const range = high - 1n - low;
    const values: bigint[] = new Array<bigint>(size);
    for (let i = 0; i < size; i++) {
      values[i] = BigInt.asIntN(64, low + this.drawBounded(range));
    }
    return values;
  }

  private drawBounded(range: bigint): bigint {
    if (range === 0n) {
      return 0n;
    }
    if (range < MASK32) {
      return boundedLemire32(this.bitGenerator, range);
    }
    if (range === MASK32) {
      return BigInt(this.bitGenerator.nextUint32());
    }
    if (range === MASK64) {
      return this.bitGenerator.nextUint64();
    }
    return boundedLemire64(this.bitGenerator, range);
  }
}

/** Creates the generator that `np.random.default_rng(seed)` returns for a non-negative integer seed. */
export function defaultRng(seed: number | bigint): NumpyGenerator {
  return new NumpyGenerator(Pcg64.fromSeed(seed));
}
