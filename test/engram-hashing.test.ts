import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

import { buildCompressionTable, normalizeTokenText } from '../src/engine/engram/compression';
import { hashLastPosition, hashSequence } from '../src/engine/engram/hashing';
import { hashMultipliers } from '../src/engine/engram/multipliers';
import { Pcg64, defaultRng, seedSequenceState } from '../src/engine/engram/pcg64';
import { headOffsets, tablePrimes } from '../src/engine/engram/primes';
import { llama2TokenizerDir, storiesModelDir } from './helpers/paths';

// Reference vectors from the Engram engine specification: V' = 129,280 (DeepSeek-V3's padded
// vocabulary), seed 0, so B = floor(floor((2^63 − 1) / V') / 2) = 35,672,076,256,399.
const EXAMPLE_VOCAB = 129_280;
const EXAMPLE_BOUND = 35_672_076_256_399n;
const LAYER_1_MULTIPLIERS = [58737837727525n, 3709723095905n, 27562777300965n];
const LAYER_2_MULTIPLIERS = [58642312736175n, 28435146343417n, 17359024821955n];

/** Independent BigInt statement of the hash, for checking the float64 fast path. */
function referenceHash(
  ids: readonly number[],
  pad: number,
  multipliers: readonly bigint[],
  primes: readonly (readonly number[])[],
): number[][] {
  const mask = (1n << 64n) - 1n;
  const idAt = (t: number): bigint => BigInt(t >= 0 ? ids[t] : pad);
  return ids.map((_, t) => {
    const row: number[] = [];
    let mix = (idAt(t) * multipliers[0]) & mask;
    primes.forEach((orderPrimes, orderIndex) => {
      mix ^= (idAt(t - orderIndex - 1) * multipliers[orderIndex + 1]) & mask;
      for (const prime of orderPrimes) {
        row.push(Number(mix % BigInt(prime)));
      }
    });
    return row;
  });
}

function rowsOf(flat: Int32Array, columns: number): number[][] {
  const rows: number[][] = [];
  for (let start = 0; start < flat.length; start += columns) {
    rows.push(Array.from(flat.subarray(start, start + columns)));
  }
  return rows;
}

/** Deterministic xorshift32 stream for test inputs. */
function pseudoRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

test('hashMultipliers matches layer 1 and 2 vectors', () => {
  assert.deepEqual(hashMultipliers(0, 1, EXAMPLE_VOCAB), LAYER_1_MULTIPLIERS);
  assert.deepEqual(hashMultipliers(0, 2, EXAMPLE_VOCAB), LAYER_2_MULTIPLIERS);
});

test('hashMultipliers returns odd values below 2B', () => {
  for (const layer of [0, 1, 2, 15, 61]) {
    const multipliers = hashMultipliers(0, layer, EXAMPLE_VOCAB);
    assert.equal(multipliers.length, 3);
    for (const multiplier of multipliers) {
      assert.equal(multiplier % 2n, 1n, `layer ${layer}: ${multiplier} is even`);
      assert.ok(multiplier < 2n * EXAMPLE_BOUND, `layer ${layer}: ${multiplier} ≥ 2B`);
      assert.ok((BigInt(EXAMPLE_VOCAB) - 1n) * multiplier < 1n << 63n, `layer ${layer}: product overflows int64`);
    }
  }
});

test('hashMultipliers honours maxOrder and seed offset', () => {
  assert.deepEqual(hashMultipliers(0, 1, EXAMPLE_VOCAB, 2), LAYER_1_MULTIPLIERS.slice(0, 2));
  // Seed 10007 with layer 0 seeds numpy with the same integer as seed 0 with layer 1.
  assert.deepEqual(hashMultipliers(10_007, 0, EXAMPLE_VOCAB), LAYER_1_MULTIPLIERS);
});

test('hashMultipliers rejects invalid arguments', () => {
  assert.throws(() => hashMultipliers(-1, 1, EXAMPLE_VOCAB), /seed/i);
  assert.throws(() => hashMultipliers(0, 1.5, EXAMPLE_VOCAB), /layer/i);
  assert.throws(() => hashMultipliers(0, 1, 0), /vocabulary size/i);
  assert.throws(() => hashMultipliers(0, 1, EXAMPLE_VOCAB, 0), /order/i);
});

test('defaultRng integers reproduce spec draws', () => {
  // The multipliers are 2r + 1 for r drawn by default_rng(seed + 10007 · layer).integers(0, B, 3).
  const layer1Draws = LAYER_1_MULTIPLIERS.map((m) => (m - 1n) / 2n);
  const layer2Draws = LAYER_2_MULTIPLIERS.map((m) => (m - 1n) / 2n);
  assert.deepEqual(defaultRng(10_007).integers(0n, EXAMPLE_BOUND, 3), layer1Draws);
  assert.deepEqual(defaultRng(20_014).integers(0n, EXAMPLE_BOUND, 3), layer2Draws);
  // Drawing one value at a time consumes the stream the same way as one call for three.
  const rng = defaultRng(20_014);
  assert.deepEqual(
    [0, 1, 2].map(() => rng.integers(0n, EXAMPLE_BOUND, 1)[0]),
    layer2Draws,
  );
  // A shifted range adds the offset to the same draws.
  assert.deepEqual(defaultRng(10_007).integers(5n, EXAMPLE_BOUND + 5n, 3), layer1Draws.map((r) => r + 5n));
});

// The expected values in this test were printed by numpy 2.4.6 (np.random.SeedSequence,
// np.random.PCG64, np.random.default_rng) on the development machine.
test('pcg64 port matches numpy 2.4.6 outputs', () => {
  assert.deepEqual(Array.from(seedSequenceState(0, 4)), [2968811710, 3677149159, 745650761, 2884920346]);
  assert.deepEqual(
    Array.from(seedSequenceState(2n ** 130n + 12_345n, 8)),
    [1067841243, 1074700622, 4277799263, 207906991, 2646164919, 2269553654, 598561128, 1970099910],
  );

  const bits = Pcg64.fromSeed(0);
  assert.equal(bits.state.state, 35399562948360463058890781895381311971n);
  assert.equal(bits.state.inc, 87136372517582989555478159403783844777n);
  assert.deepEqual(
    [bits.nextUint64(), bits.nextUint64(), bits.nextUint64(), bits.nextUint64()],
    [11749869230777074271n, 4976686463289251617n, 755828109848996024n, 304881062738325533n],
  );

  // Ranges that fit 32 bits use half a 64-bit draw per value.
  assert.deepEqual(defaultRng(0).integers(0n, 1000n, 5), [850n, 636n, 511n, 269n, 307n]);
  assert.deepEqual(
    defaultRng(0).integers(0n, 2n ** 32n, 5),
    [3653403231n, 2735729615n, 2195314465n, 1158725112n, 1322117304n],
  );
  assert.deepEqual(
    defaultRng(0).integers(-5n, 2n ** 62n + 3n, 5),
    [2937467307694268567n, 1244171615822312901n, 188957027462249001n, 76220265684581378n, 3750546991322993744n],
  );
  assert.deepEqual(
    defaultRng(7).integers(0n, 2n ** 63n - 1n, 5),
    [5765488047046174020n, 8275336682942969161n, 7154437704795913392n, 2077169698657866656n, 2768545318656780450n],
  );

  // A buffered 32-bit half survives a 64-bit range in between, as in numpy.
  const rng = defaultRng(5);
  assert.deepEqual(rng.integers(0n, 1000n, 3), [670n, 805n, 22n]);
  assert.deepEqual(rng.integers(0n, 2n ** 40n, 2), [566606446456n, 314241940641n]);
  assert.deepEqual(rng.integers(0n, 10n, 3), [8n, 9n, 0n]);
});

test('pcg64 32-bit draws are halves of 64-bit draws', () => {
  const whole = Pcg64.fromSeed(123);
  const halves = Pcg64.fromSeed(123);
  for (let i = 0; i < 4; i++) {
    const draw = whole.nextUint64();
    assert.equal(halves.nextUint32(), Number(draw & 0xffff_ffffn), `draw ${i} low half`);
    assert.equal(halves.nextUint32(), Number(draw >> 32n), `draw ${i} high half`);
  }
});

test('defaultRng integers rejects numpy-invalid bounds', () => {
  assert.throws(() => defaultRng(0).integers(5n, 5n, 1), /low >= high/);
  assert.throws(() => defaultRng(0).integers(-(2n ** 63n) - 1n, 0n, 1), /low is out of bounds/);
  assert.throws(() => defaultRng(0).integers(0n, 2n ** 63n + 1n, 1), /high is out of bounds/);
  assert.throws(() => defaultRng(-1), /non-negative/);
});

test('tablePrimes matches layer 1 and 15 vectors', () => {
  const primes = tablePrimes([1, 15], [2, 3], 8, 646_400);
  assert.deepEqual(primes[0][0], [646403, 646411, 646421, 646423, 646433, 646453, 646519, 646523]);
  assert.deepEqual(primes[0][1], [646537, 646543, 646549, 646571, 646573, 646577, 646609, 646619]);
  assert.equal(primes[1][0][0], 646631);
});

test('tablePrimes gives distinct ascending primes', () => {
  const primes = tablePrimes([1, 15], [2, 3], 8, 646_400);
  assert.equal(primes.length, 2);
  const all = primes.flat(2);
  assert.equal(all.length, 32);
  assert.equal(new Set(all).size, all.length, 'primes repeat across the model');
  for (const prime of all) {
    for (let divisor = 2; divisor * divisor <= prime; divisor++) {
      assert.notEqual(prime % divisor, 0, `${prime} is divisible by ${divisor}`);
    }
  }
  for (const layerPrimes of primes) {
    for (const orderPrimes of layerPrimes) {
      assert.equal(orderPrimes.length, 8);
      assert.ok(orderPrimes[0] > 646_399, `first prime ${orderPrimes[0]} is not above the start`);
      for (let head = 1; head < orderPrimes.length; head++) {
        assert.ok(orderPrimes[head] > orderPrimes[head - 1], `head ${head} is not above head ${head - 1}`);
      }
    }
  }
});

test('tablePrimes skips primes used earlier', () => {
  // Every order restarts at rowsPerHead − 1, so later orders jump past the earlier ones' primes.
  const primes = tablePrimes([0], [2, 3], 2, 10);
  assert.deepEqual(primes, [[[11, 13], [17, 19]]]);
  const tiny = tablePrimes([0, 1], [2], 1, 1);
  assert.deepEqual(tiny, [[[2]], [[3]]]);
});

test('tablePrimes rejects invalid configuration', () => {
  assert.throws(() => tablePrimes([15, 1], [2, 3], 8, 1000), /ascending/);
  assert.throws(() => tablePrimes([1, 1], [2, 3], 8, 1000), /ascending/);
  assert.throws(() => tablePrimes([1], [1], 8, 1000), /n-gram orders/);
  assert.throws(() => tablePrimes([1], [3], 8, 1000), /without gaps/);
  assert.throws(() => tablePrimes([1], [2, 4], 8, 1000), /without gaps/);
  assert.throws(() => tablePrimes([1], [], 8, 1000), /n-gram orders/);
  assert.throws(() => tablePrimes([1], [2, 3], 0, 1000), /Heads per order/);
  assert.throws(() => tablePrimes([1], [2, 3], 8, 0), /Rows per head/);
  assert.throws(() => tablePrimes([1], [2, 3], 8, 2 ** 31), /Rows per head/);
});

test('headOffsets places heads end to end', () => {
  assert.deepEqual(headOffsets([[401, 409], [419, 421]]), [0, 401, 810, 1229]);
  const layer1 = tablePrimes([1, 15], [2, 3], 8, 646_400)[0];
  const offsets = headOffsets(layer1);
  assert.equal(offsets.length, 16);
  assert.equal(offsets[0], 0);
  assert.equal(offsets[8], layer1[0].reduce((sum, prime) => sum + prime, 0));
  assert.equal(offsets[15] + layer1[1][7], layer1.flat().reduce((sum, prime) => sum + prime, 0));
});

const EXAMPLE_PRIMES = [
  [401, 409],
  [419, 421],
];
const EXAMPLE_IDS = [5, 7, 11, 13, 17];
const EXAMPLE_PAD = 2;
const EXAMPLE_ROWS = [
  [229, 123, 225, 176],
  [313, 203, 123, 324],
  [164, 98, 45, 176],
  [72, 121, 312, 84],
  [96, 246, 72, 380],
];

test('hashSequence matches spec example', () => {
  const indices = hashSequence(Int32Array.from(EXAMPLE_IDS), EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES);
  assert.equal(indices.length, EXAMPLE_IDS.length * 4);
  const rows = rowsOf(indices, 4);
  EXAMPLE_ROWS.forEach((expected, t) => assert.deepEqual(rows[t], expected, `position t${t}`));
});

test('hashSequence ignores right padding', () => {
  const padded = Int32Array.from([...EXAMPLE_IDS, EXAMPLE_PAD, EXAMPLE_PAD, 0]);
  const rows = rowsOf(hashSequence(padded, EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES), 4);
  assert.equal(rows.length, padded.length);
  assert.deepEqual(rows.slice(0, EXAMPLE_IDS.length), EXAMPLE_ROWS);
});

test('hashSequence reuses a longer output buffer', () => {
  const out = new Int32Array(64).fill(-1);
  const indices = hashSequence(Int32Array.from(EXAMPLE_IDS), EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES, out);
  assert.equal(indices.buffer, out.buffer);
  assert.deepEqual(rowsOf(indices, 4), EXAMPLE_ROWS);
  assert.equal(out[EXAMPLE_IDS.length * 4], -1, 'wrote past the needed length');
  assert.throws(
    () => hashSequence(Int32Array.from(EXAMPLE_IDS), EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES, new Int32Array(19)),
    /too short: it has 19/,
  );
});

test('hashSequence of empty sequence is empty', () => {
  assert.equal(hashSequence(new Int32Array(0), EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES).length, 0);
});

test('hashSequence matches BigInt reference', () => {
  const next = pseudoRandom(42);
  const vocab = 21_091;
  const multipliers = hashMultipliers(0, 15, vocab);
  const primes = tablePrimes([1, 15], [2, 3], 8, 646_400)[1];
  const ids = Array.from({ length: 300 }, () => next() % vocab);
  const actual = rowsOf(hashSequence(Int32Array.from(ids), 2, multipliers, primes), 16);
  assert.deepEqual(actual, referenceHash(ids, 2, multipliers, primes));
});

test('hashSequence wraps products modulo 2^64', () => {
  // Full-width multipliers and ids near 2^31 overflow 64 bits, and the hash is defined mod 2^64.
  const next = pseudoRandom(7);
  const multipliers = [0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0001n, 0xdead_beef_cafe_babfn];
  const primes = [
    [2_147_483_647, 2_147_483_629, 65_537],
    [1_000_000_007, 3, 2],
  ];
  const ids = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? 0x7fff_ffff : next() >>> 1));
  const actual = rowsOf(hashSequence(Int32Array.from(ids), 0x7fff_fffe, multipliers, primes), 6);
  assert.deepEqual(actual, referenceHash(ids, 0x7fff_fffe, multipliers, primes));
});

test('hashSequence rejects invalid input', () => {
  const ids = Int32Array.from(EXAMPLE_IDS);
  assert.throws(() => hashSequence(Int32Array.from([1, -3]), 2, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES), /non-negative/);
  assert.throws(() => hashSequence(ids, -1, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES), /Pad canonical id/);
  assert.throws(() => hashSequence(ids, 2, LAYER_2_MULTIPLIERS.slice(0, 2), EXAMPLE_PRIMES), /needs 3 multipliers/);
  assert.throws(() => hashSequence(ids, 2, [1n, -1n, 3n], EXAMPLE_PRIMES), /64-bit unsigned/);
  assert.throws(() => hashSequence(ids, 2, LAYER_2_MULTIPLIERS, [[401], [0]]), /table sizes/);
  assert.throws(() => hashSequence(ids, 2, LAYER_2_MULTIPLIERS, []), /at least one/);
});

test('hashLastPosition equals full-sequence hashing', () => {
  const next = pseudoRandom(99);
  const vocab = 350;
  const pad = 2;
  const multipliers = hashMultipliers(0, 1, vocab);
  const primes = tablePrimes([1], [2, 3], 8, 10_000)[0];
  const ids = Array.from({ length: 40 }, () => next() % vocab);
  const full = rowsOf(hashSequence(Int32Array.from(ids), pad, multipliers, primes), 16);

  for (let t = 0; t < ids.length; t++) {
    // A decoder keeps only the previous two ids; at the start it has fewer.
    const tail = ids.slice(Math.max(0, t - 2), t + 1);
    assert.deepEqual(Array.from(hashLastPosition(tail, pad, multipliers, primes)), full[t], `short tail at t${t}`);
    const wholePrefix = ids.slice(0, t + 1);
    assert.deepEqual(Array.from(hashLastPosition(wholePrefix, pad, multipliers, primes)), full[t], `prefix at t${t}`);
  }
});

test('hashLastPosition matches spec example rows', () => {
  const out = new Int32Array(4);
  EXAMPLE_ROWS.forEach((expected, t) => {
    const tail = EXAMPLE_IDS.slice(0, t + 1);
    assert.deepEqual(Array.from(hashLastPosition(tail, EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES, out)), expected);
  });
  assert.throws(() => hashLastPosition([], EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES), /at least the current/);
  assert.throws(() => hashLastPosition([1, 2], EXAMPLE_PAD, LAYER_2_MULTIPLIERS, EXAMPLE_PRIMES, new Int32Array(3)), /Output/);
});

test('normalizeTokenText folds case, accents and spaces', () => {
  assert.equal(normalizeTokenText('Café'), 'cafe');
  assert.equal(normalizeTokenText('ÉCOLE'), 'ecole');
  assert.equal(normalizeTokenText('  Two\t\n Words  '), 'two words');
  assert.equal(normalizeTokenText('\r\n'), ' ');
  assert.equal(normalizeTokenText(' '), ' ');
  assert.equal(normalizeTokenText('\u00a0'), ' ', 'NFKC maps no-break space to space');
  assert.equal(normalizeTokenText('ﬁ'), 'fi', 'NFKC expands the fi ligature');
  assert.equal(normalizeTokenText('ΣΟΦΟΣ'), 'σοφοσ', 'lowercasing is per code point, with no final sigma');
  assert.equal(normalizeTokenText('\u0301'), '', 'a lone combining mark normalises to nothing');
  assert.equal(normalizeTokenText('\u3000x\u2003'), 'x', 'NFKC turns ideographic and em spaces into spaces');
  // Trimming uses Unicode White_Space, as Rust's char::is_whitespace: NEL goes, the BOM stays.
  assert.equal(normalizeTokenText('x\u0085'), 'x');
  assert.equal(normalizeTokenText('\ufeffx'), '\ufeffx');
});

test('buildCompressionTable applies key rules', () => {
  // Raw ids: 0 "<s>", 1 "A", 2 " a ", 3 invalid byte, 4 same byte piece, 5 lone accent, 6 "à".
  const decoded = ['<s>', 'A', ' a ', '\ufffd', '\ufffd', '\u0301', 'à'];
  const raw = ['<s>', 'A', '▁a', '<0xE2>', '<0xE2>', '\u0301', 'à'];
  const table = buildCompressionTable(decoded.length, (id) => decoded[id], (id) => raw[id]);
  assert.deepEqual(Array.from(table.canonical), [0, 1, 1, 2, 2, 3, 1]);
  assert.equal(table.size, 4);
  assert.throws(() => buildCompressionTable(0, () => '', () => ''), /Vocabulary size/);
});

interface TokenizerFixture {
  tokenizer: Tokenizer;
  vocabSize: number;
  rawTokens: string[];
}

function loadTokenizer(dir: string, config: object): TokenizerFixture {
  const tokenizerJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
    added_tokens?: { id: number; content: string }[];
  };
  const rawTokens: string[] = [];
  for (const [piece, id] of Object.entries(tokenizerJson.model.vocab)) {
    rawTokens[id] = piece;
  }
  for (const added of tokenizerJson.added_tokens ?? []) {
    rawTokens[added.id] = added.content;
  }
  return { tokenizer: new Tokenizer(tokenizerJson, config), vocabSize: rawTokens.length, rawTokens };
}

function compress(fixture: TokenizerFixture): ReturnType<typeof buildCompressionTable> {
  return buildCompressionTable(
    fixture.vocabSize,
    (id) => fixture.tokenizer.decode([id], { skip_special_tokens: false }),
    (id) => fixture.rawTokens[id],
  );
}

test('buildCompressionTable maps stories260K 512 to 350', () => {
  const config = JSON.parse(readFileSync(join(storiesModelDir, 'tokenizer_config.json'), 'utf8')) as object;
  const fixture = loadTokenizer(storiesModelDir, config);
  assert.equal(fixture.vocabSize, 512);
  const table = compress(fixture);
  assert.equal(table.canonical.length, 512);
  assert.equal(table.size, 350);
});

test('buildCompressionTable maps Llama 2 32000 to 21091', () => {
  const fixture = loadTokenizer(llama2TokenizerDir, { clean_up_tokenization_spaces: false });
  assert.equal(fixture.vocabSize, 32_000);
  const table = compress(fixture);
  assert.equal(table.canonical.length, 32_000);
  assert.equal(table.size, 21_091);

  const idOf = (piece: string): number => {
    const id = fixture.rawTokens.indexOf(piece);
    assert.ok(id >= 0, `piece ${piece} missing from the Llama 2 vocabulary`);
    return id;
  };
  // A byte-fallback piece that is valid UTF-8 alone merges with the ordinary pieces for it.
  assert.equal(table.canonical[idOf('<0x41>')], table.canonical[idOf('A')]);
  assert.equal(table.canonical[idOf('▁A')], table.canonical[idOf('a')]);
  assert.equal(table.canonical[idOf('▁The')], table.canonical[idOf('▁the')]);
  assert.equal(table.canonical[idOf('▁THE')], table.canonical[idOf('▁the')]);
  // A lone lead byte decodes to U+FFFD, so each such piece keeps its own raw string as key.
  assert.notEqual(table.canonical[idOf('<0xE2>')], table.canonical[idOf('<0xE3>')]);
  // Numbering is first-seen: canonical ids never jump ahead of the count seen so far.
  let highest = -1;
  for (const canonicalId of table.canonical) {
    assert.ok(canonicalId <= highest + 1, `canonical id ${canonicalId} skips ahead of ${highest + 1}`);
    highest = Math.max(highest, canonicalId);
  }
  assert.equal(highest, table.size - 1);
});
