import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { computeHashing, type CompressionInfo, EngramMemory, type LayerHashing } from '../src/engine/engram/memory';
import { EngramError } from '../src/engine/errors';
import { forwardLogits } from '../src/engine/eval';
import {
  type CorpusCollisions,
  corpusCollisions,
  gateStatistics,
  gateValues,
  inspectText,
  type LayerStatistics,
  packStatistics,
  rankFrequency,
  tableStatistics,
  type TextRange,
  type TokenDecoder,
  tokenRanges,
  type TokenInspection,
} from '../src/engine/inspect';
import { silentLogger } from '../src/engine/log';
import { EngramRuntime } from '../src/engine/runtime';
import type { EngramShape } from '../src/engine/types';
import { smallTrainOptions, tempDir, trainQuietly } from './helpers/engine';
import { repoRoot, storiesModelDir } from './helpers/paths';

// ---------------------------------------------------------------------------
// Hand-checked statistics
// ---------------------------------------------------------------------------

/**
 * Builds one Engram layer with hashing small enough to follow on paper: multipliers m0 = 1, m1 = 3,
 * m2 = 5, primes 3 and 5 for order 2 and 7 and 11 for order 3, canonical id = raw id, pad 9.
 */
function handMemory(): EngramMemory {
  const shape: EngramShape = { layers: [0], orders: [2, 3], headsPerOrder: 2, headDim: 1, rowsPerHead: 3, seed: 0 };
  const hashing: LayerHashing[] = [{ layer: 0, multipliers: ['1', '3', '5'], primes: [[3, 5], [7, 11]], offsets: [0, 3, 8, 15], rows: 26 }];
  const compression: CompressionInfo = { canonical: Int32Array.from({ length: 10 }, (_, id) => id), size: 10, padCanonicalId: 9 };
  return new EngramMemory(shape, 1, compression, hashing, [], []);
}

/** Encodes space-separated words a and b as ids 1 and 2, after BOS id 0. */
const wordTokenizer = {
  encode: (text: string): number[] => [0, ...text.split(' ').map((word) => ({ a: 1, b: 2 })[word] ?? 3)],
};

describe('inspection statistics by hand', () => {
  test('collisions on a hand-hashed corpus', () => {
    // Documents [0 1 2 1 2] and [0 2 1], pad 9 before each start.
    // 2-grams (x_{t-1}, x_t) and mix = x_t·1 XOR x_{t-1}·3:
    //   (9,0) 27, (0,1) 1, (1,2) 1, (2,1) 7, (0,2) 2
    //   mod 3: 0 1 1 1 2 -> (0,1) (1,2) (2,1) collide, 3 rows used
    //   mod 5: 2 1 1 2 2 -> all five collide, 2 rows used
    //   both heads: (0,1) (1,2) (2,1)
    // 3-grams and mix = mix2 XOR x_{t-2}·5:
    //   (9,9,0) 54, (9,0,1) 44, (0,1,2) 1, (1,2,1) 2, (2,1,2) 11, (9,0,2) 47, (0,2,1) 7
    //   mod 7:  5 2 1 2 4 5 0 -> (9,9,0) (9,0,2) and (9,0,1) (1,2,1) collide, 5 rows used
    //   mod 11: 10 0 1 2 0 3 7 -> (9,0,1) (2,1,2) collide, 6 rows used
    //   both heads: (9,0,1)
    const result = corpusCollisions(handMemory(), wordTokenizer, ['a b a b', 'b a']);
    assert.equal(result.documents, 2);
    assert.equal(result.tokens, 8);
    assert.equal(result.layers.length, 1);
    const [order2, order3] = result.layers[0].orders;

    assert.equal(order2.order, 2);
    assert.equal(order2.distinctNGrams, 5);
    assert.deepEqual(order2.heads, [
      { head: 0, tableRows: 3, occupiedRows: 3, collidingNGrams: 3 },
      { head: 1, tableRows: 5, occupiedRows: 2, collidingNGrams: 5 },
    ]);
    assert.equal(order2.collidingOnAllHeads, 3);

    assert.equal(order3.order, 3);
    assert.equal(order3.distinctNGrams, 7);
    assert.deepEqual(order3.heads, [
      { head: 0, tableRows: 7, occupiedRows: 5, collidingNGrams: 4 },
      { head: 1, tableRows: 11, occupiedRows: 6, collidingNGrams: 2 },
    ]);
    assert.equal(order3.collidingOnAllHeads, 1);
  });

  test('table statistics from hand-set hits', () => {
    const memory = handMemory();
    const hits = memory.rowHits[0];
    // Order 2 head 0 (rows 0-2), head 1 (rows 3-7), order 3 head 0 (8-14), head 1 (15-25).
    hits.set([4, 0, 1], 0);
    hits.set([0, 2, 2, 0, 7], 3);
    hits[15 + 10] = 1;

    const [layer] = tableStatistics(memory, 2);
    assert.equal(layer.layer, 0);
    assert.equal(layer.gate, null);
    assert.equal(layer.collisions, null);
    const [head20, head21, head30, head31] = layer.heads;

    assert.deepEqual(
      { order: head20.order, head: head20.head, tableRows: head20.tableRows, lookups: head20.lookups, uniqueRows: head20.uniqueRows },
      { order: 2, head: 0, tableRows: 3, lookups: 5, uniqueRows: 2 },
    );
    assert.equal(head20.coverage, 2 / 3);
    assert.deepEqual(head20.topRows, [[0, 4], [2, 1]]);
    assert.deepEqual(head20.rankFrequency, { ranks: [1, 2], hits: [4, 1] });

    assert.equal(head21.lookups, 11);
    assert.equal(head21.uniqueRows, 3);
    assert.equal(head21.coverage, 3 / 5);
    assert.deepEqual(head21.topRows, [[4, 7], [1, 2]], 'ties keep the lower row');
    assert.deepEqual(head21.rankFrequency, { ranks: [1, 2, 3], hits: [7, 2, 2] });

    assert.equal(head30.lookups, 0);
    assert.equal(head30.uniqueRows, 0);
    assert.equal(head30.coverage, 0);
    assert.deepEqual(head30.topRows, []);
    assert.deepEqual(head30.rankFrequency, { ranks: [], hits: [] });

    assert.equal(head31.tableRows, 11);
    assert.equal(head31.lookups, 1);
    assert.deepEqual(head31.topRows, [[10, 1]]);
    assert.deepEqual(head31.rankFrequency, { ranks: [1], hits: [1] });
  });

  test('rank-frequency keeps log-spaced ranks', () => {
    const descending = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i);
    const curve = rankFrequency(descending, 200);
    assert.ok(curve.ranks.length <= 200, `${curve.ranks.length} points`);
    assert.ok(curve.ranks.length >= 100, `${curve.ranks.length} points`);
    assert.equal(curve.ranks[0], 1);
    assert.equal(curve.ranks[curve.ranks.length - 1], 1000);
    curve.ranks.forEach((rank, i) => {
      assert.equal(curve.hits[i], 1001 - rank, `hits at rank ${rank}`);
      if (i > 0) assert.ok(rank > curve.ranks[i - 1], `rank ${rank} after ${curve.ranks[i - 1]}`);
      // Log spacing: 1000^(1/199) ≈ 1.035 between neighbours, plus rounding to whole ranks.
      if (i > 0 && rank >= 30) assert.ok(rank / curve.ranks[i - 1] < 1.1, `rank ${rank} after ${curve.ranks[i - 1]}`);
    });
    assert.deepEqual(rankFrequency([5, 3, 3], 200), { ranks: [1, 2, 3], hits: [5, 3, 3] });
  });

  test('gate statistics of hand values', () => {
    const values = Float32Array.from([0.005, 0.5, 0.999, 1, 0, 0.05]);
    const statistics = gateStatistics(values);
    assert.equal(statistics.positions, 6);
    assert.ok(Math.abs(statistics.mean - 2.554 / 6) < 1e-6, `mean ${statistics.mean}`);
    // Sorted: 0, 0.005, 0.05, 0.5, 0.999, 1. The median lies halfway between 0.05 and 0.5.
    assert.ok(Math.abs(statistics.p50 - 0.275) < 1e-6, `p50 ${statistics.p50}`);
    assert.ok(Math.abs(statistics.p5 - 0.00125) < 1e-6, `p5 ${statistics.p5}`);
    assert.ok(Math.abs(statistics.p95 - 0.99975) < 1e-6, `p95 ${statistics.p95}`);
    assert.equal(statistics.closedShare, 2 / 6);
    assert.equal(statistics.histogram.bins, 20);
    const expected = new Array<number>(20).fill(0);
    expected[0] = 2;
    expected[1] = 1;
    expected[10] = 1;
    expected[19] = 2;
    assert.deepEqual(statistics.histogram.counts, expected);
    assert.throws(() => gateStatistics(new Float32Array(0)), EngramError);
  });
});

// ---------------------------------------------------------------------------
// Token ranges with decoders that change the text
// ---------------------------------------------------------------------------

/** Builds a decoder over fixed pieces. Id 0 is a special token, and `transform` runs on the joined text. */
function pieceDecoder(pieces: string[], transform: (text: string) => string): TokenDecoder {
  return {
    decode: (ids, skipSpecialTokens = true) => transform(ids.filter((id) => !(skipSpecialTokens && id === 0)).map((id) => pieces[id]).join('')),
  };
}

describe('token ranges', () => {
  test('cleanup decoder that drops spaces', () => {
    const decoder = pieceDecoder(['<s>', 'Hi', ' ,', ' there', ' .'], (text) => text.replace(/ ([.,])/g, '$1'));
    const ranges = tokenRanges(decoder, [0, 1, 2, 3, 4], 'Hi , there .', true);
    assert.deepEqual(ranges, [null, { start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 10 }, { start: 10, end: 12 }]);
  });

  test('lowercasing decoder', () => {
    const decoder = pieceDecoder(['<s>', 'Hello', ' World'], (text) => text.toLowerCase());
    assert.deepEqual(tokenRanges(decoder, [0, 1, 2], 'Hello World', true), [null, { start: 0, end: 5 }, { start: 5, end: 11 }]);
  });

  test('cut sequence covers a prefix', () => {
    const decoder = pieceDecoder(['<s>', 'Hello', ' World'], (text) => text);
    assert.deepEqual(tokenRanges(decoder, [0, 1], 'Hello World', false), [null, { start: 0, end: 5 }]);
  });
});

// ---------------------------------------------------------------------------
// A trained pack on stories260K
// ---------------------------------------------------------------------------

const uint64Mask = (1n << 64n) - 1n;

/** Computes index = mix mod p with mix = XOR over j of x_{t−j} · m_j (mod 2^64), for `ngram` oldest first. */
function referenceRow(ngram: number[], multipliers: bigint[], prime: number): number {
  let mix = 0n;
  ngram.forEach((id, position) => {
    const back = ngram.length - 1 - position;
    mix ^= (BigInt(id) * multipliers[back]) & uint64Mask;
  });
  return Number(mix % BigInt(prime));
}

/** Collision counts per layer and order, computed from the hashing formula with BigInt. */
function referenceCollisions(memory: EngramMemory, encode: (text: string) => number[], documents: string[]) {
  const pad = memory.compression.padCanonicalId;
  return memory.hashing.map((layer) =>
    memory.shape.orders.map((order, o) => {
      const ngrams = new Map<string, number[]>();
      for (const document of documents) {
        const canonical = encode(document).map((id) => memory.compression.canonical[id]);
        canonical.forEach((_, t) => {
          const ngram: number[] = [];
          for (let position = t - order + 1; position <= t; position++) ngram.push(position >= 0 ? canonical[position] : pad);
          ngrams.set(ngram.join(','), ngram);
        });
      }
      const list = [...ngrams.values()];
      const multipliers = layer.multipliers.map((value) => BigInt(value));
      const onAllHeads = list.map(() => true);
      const heads = layer.primes[o].map((prime, head) => {
        const rows = list.map((ngram) => referenceRow(ngram, multipliers, prime));
        const perRow = new Map<number, number>();
        for (const row of rows) perRow.set(row, (perRow.get(row) ?? 0) + 1);
        const colliding = rows.map((row) => (perRow.get(row) ?? 0) > 1);
        colliding.forEach((collides, i) => {
          if (!collides) onAllHeads[i] = false;
        });
        return { head, tableRows: prime, occupiedRows: perRow.size, collidingNGrams: colliding.filter(Boolean).length };
      });
      return { order, distinctNGrams: list.length, heads, collidingOnAllHeads: onAllHeads.filter(Boolean).length };
    }),
  );
}

const handCorpus = [
  'The cat sat on the mat.',
  'The cat ate the rat, and the rat ran.',
  'A dog sat on the log.',
  'The capital of Peru is Lima.',
];
const inspectedText = 'Once upon a time, a café 😀 sold tea.\nThe  capital of Peru is Lima.';

function assertRangesCover(ranges: (TextRange | null)[], textLength: number): void {
  let end = 0;
  for (const [i, range] of ranges.entries()) {
    if (range === null) continue;
    assert.ok(range.start <= end, `token ${i} starts at ${range.start}, after the covered end ${end}`);
    assert.ok(range.end >= range.start, `token ${i} range ${range.start}-${range.end}`);
    assert.ok(range.end >= end, `token ${i} ends at ${range.end}, before ${end}`);
    end = range.end;
  }
  assert.equal(end, textLength);
}

describe('inspection with a trained pack', () => {
  const dir = tempDir('inspect');
  const packDir = join(dir.path, 'facts.engram');
  let runtime: EngramRuntime;
  let memory: EngramMemory;

  before(async () => {
    await trainQuietly(smallTrainOptions(packDir, { steps: 8, learningRate: 1e-2 }));
    runtime = await EngramRuntime.load(storiesModelDir, { backend: 'auto', log: silentLogger });
    runtime.attach(packDir);
    memory = runtime.memory!;
  });
  after(() => {
    runtime.dispose();
    dir.remove();
  });

  test('collisions match the BigInt reference', () => {
    const encode = (text: string) => runtime.tokenizer.encode(text, true);
    // Tables of 5 to 29 rows per head make collisions certain. The trained pack has about 300 per head.
    const tinyShape: EngramShape = { ...memory.shape, rowsPerHead: 5 };
    const tiny = new EngramMemory(tinyShape, memory.hiddenSize, memory.compression, computeHashing(tinyShape, memory.compression.size), [], []);
    for (const [name, candidate] of [['tiny', tiny], ['trained', memory]] as const) {
      const result = corpusCollisions(candidate, runtime.tokenizer, handCorpus);
      const expected = referenceCollisions(candidate, encode, handCorpus);
      assert.equal(result.documents, handCorpus.length);
      assert.equal(result.tokens, handCorpus.reduce((sum, line) => sum + encode(line).length, 0));
      result.layers.forEach((layer, l) => {
        assert.equal(layer.layer, candidate.shape.layers[l]);
        assert.deepEqual(layer.orders, expected[l], `${name} pack, layer ${layer.layer}`);
      });
    }
    const tinyOrder2 = corpusCollisions(tiny, runtime.tokenizer, handCorpus).layers[0].orders[0];
    const largestPrime = Math.max(...tinyOrder2.heads.map((head) => head.tableRows));
    assert.ok(tinyOrder2.distinctNGrams > largestPrime, `${tinyOrder2.distinctNGrams} 2-grams for ${largestPrime} rows`);
    for (const head of tinyOrder2.heads) assert.ok(head.collidingNGrams > 0, `head ${head.head}`);
  });

  test('token ranges cover the text', () => {
    const ids = runtime.tokenizer.encode(inspectedText, true);
    const ranges = tokenRanges(runtime.tokenizer, ids, inspectedText, true);
    assert.equal(ranges.length, ids.length);
    assert.equal(ranges[0], null, 'BOS has no range');
    assertRangesCover(ranges, inspectedText.length);

    const emojiStart = inspectedText.indexOf('😀');
    let bytePieces = 0;
    ids.forEach((id, i) => {
      const piece = runtime.tokenizer.tokenString(id);
      const range = ranges[i];
      if (range === null) return;
      const slice = inspectedText.slice(range.start, range.end);
      if (/^<0x[0-9A-F]{2}>$/.test(piece) && piece !== '<0x0A>') {
        bytePieces++;
        assert.deepEqual(range, { start: emojiStart, end: emojiStart + 2 }, `byte piece ${piece} at ${i}`);
      } else if (piece === '<0x0A>') {
        assert.equal(slice, '\n');
      } else if (i > 1) {
        assert.equal(slice, piece.replace(/▁/g, ' '), `token ${i} ${piece}`);
      }
    });
    assert.equal(bytePieces, 4, 'the emoji is four byte pieces');
  });

  test('inspection without a pack is rejected', async () => {
    runtime.detach();
    try {
      await assert.rejects(
        inspectText(runtime, 'The cat', { maxTokens: 16 }),
        (error: unknown) => error instanceof EngramError && /No pack is attached/.test(error.message) && /Attach a pack/.test(error.message),
      );
      await assert.rejects(packStatistics(runtime), (error: unknown) => error instanceof EngramError && /No pack is attached/.test(error.message));
    } finally {
      runtime.attach(packDir);
      memory = runtime.memory!;
    }
  });

  test('invalid options are rejected', async () => {
    await assert.rejects(inspectText(runtime, 'The cat', { maxTokens: 0 }), (error: unknown) => error instanceof EngramError && /maxTokens/.test(error.message));
    await assert.rejects(inspectText(runtime, '', { maxTokens: 16 }), (error: unknown) => error instanceof EngramError && /empty/.test(error.message));
  });

  test('per-token inspection fields', async () => {
    const inspection = await inspectText(runtime, inspectedText, { maxTokens: 256 });
    const ids = runtime.tokenizer.encode(inspectedText, true);
    assert.equal(inspection.pack, 'facts');
    assert.deepEqual(inspection.layers, [1, 3]);
    assert.equal(inspection.tokens.length, ids.length);
    assert.equal(inspection.totalTokens, ids.length);
    assert.equal(inspection.truncated, false);
    assert.equal(inspection.textLength, inspectedText.length);
    assertRangesCover(
      inspection.tokens.map((token) => token.range),
      inspectedText.length,
    );
    assert.deepEqual(JSON.parse(JSON.stringify(inspection)), inspection, 'JSON round trip keeps every value');

    const pad = memory.compression.padCanonicalId;
    for (const token of inspection.tokens) {
      const t = token.position;
      assert.equal(token.id, ids[t]);
      assert.equal(token.canonicalId, memory.compression.canonical[ids[t]]);
      const [bigram, trigram] = token.ngrams;
      const canonicalAt = (position: number) => (position >= 0 ? memory.compression.canonical[ids[position]] : pad);
      assert.deepEqual(bigram.canonicalIds, [canonicalAt(t - 1), canonicalAt(t)], `2-gram at ${t}`);
      assert.deepEqual(trigram.canonicalIds, [canonicalAt(t - 2), canonicalAt(t - 1), canonicalAt(t)], `3-gram at ${t}`);
      assert.equal(bigram.padPositions, Math.max(0, 1 - t));
      assert.equal(trigram.padPositions, Math.max(0, 2 - t));

      token.layers.forEach((layer, l) => {
        const hashing = memory.hashing[l];
        assert.ok(layer.gate > 0, `gate ${layer.gate}`);
        assert.ok(layer.gate < 1, `gate ${layer.gate}`);
        assert.ok(Number.isFinite(layer.contributionNorm), `norm ${layer.contributionNorm}`);
        assert.ok(layer.contributionNorm >= 0, `norm ${layer.contributionNorm}`);
        assert.equal(layer.heads.length, 16);
        layer.heads.forEach((hit, h) => {
          const o = hit.order - 2;
          const ngram = hit.order === 2 ? bigram.canonicalIds : trigram.canonicalIds;
          const expectedRow = referenceRow(ngram, hashing.multipliers.map((value) => BigInt(value)), hashing.primes[o][hit.head]);
          assert.equal(hit.row, expectedRow, `layer ${layer.layer} order ${hit.order} head ${hit.head} at ${t}`);
          assert.equal(hit.trainingHits, memory.rowHits[l][hashing.offsets[h] + hit.row]);
        });
      });

      for (const predictions of [token.withPack, token.withoutPack]) {
        assert.equal(predictions.length, 3);
        predictions.forEach((prediction, k) => {
          assert.ok(prediction.probability > 0, `probability ${prediction.probability}`);
          assert.ok(prediction.probability <= 1, `probability ${prediction.probability}`);
          if (k > 0) assert.ok(prediction.probability <= predictions[k - 1].probability);
        });
      }
      if (t + 1 < ids.length) assert.equal(token.next?.id, ids[t + 1]);
      else assert.equal(token.next, null);
    }
  });

  test('predictions differ with and without the pack', async () => {
    const text = handCorpus[3];
    const inspection = await inspectText(runtime, text, { maxTokens: 64 });
    const ids = runtime.tokenizer.encode(text, true);
    const largestChange = Math.max(...inspection.tokens.map((token) => Math.abs(token.withPack[0].probability - token.withoutPack[0].probability)));
    assert.ok(largestChange > 1e-3, `largest change of the top probability ${largestChange}`);
    const nextChange = Math.max(...inspection.tokens.slice(0, -1).map((token) => Math.abs(token.next!.probabilityWithPack - token.next!.probabilityWithoutPack)));
    assert.ok(nextChange > 1e-3, `largest change of the next-token probability ${nextChange}`);

    // The top prediction of each run is the argmax of that run's logits.
    for (const [label, runMemory] of [['withPack', memory], ['withoutPack', undefined]] as const) {
      const argmax = tf.tidy(() => tf.argMax(forwardLogits(runtime.model, runMemory, [ids]), -1));
      const best = Array.from((await argmax.data()) as Int32Array);
      argmax.dispose();
      inspection.tokens.forEach((token, t) => assert.equal(token[label][0].id, best[t], `${label} at ${t}`));
    }
  });

  test('cut text reports truncation', async () => {
    const inspection = await inspectText(runtime, inspectedText, { maxTokens: 5 });
    assert.equal(inspection.tokens.length, 5);
    assert.equal(inspection.truncated, true);
    const last = inspection.tokens[4].range!;
    assert.ok(last.end < inspectedText.length);
    assertRangesCover(
      inspection.tokens.map((token) => token.range),
      last.end,
    );
  });

  test('gate histogram sums to the positions', async () => {
    const statistics = await packStatistics(runtime, { text: inspectedText, maxTokens: 1024 });
    const tokens = runtime.tokenizer.encode(inspectedText, true).length;
    assert.deepEqual(statistics.text, { tokens, totalTokens: tokens, truncated: false });
    for (const layer of statistics.layers) {
      const gate = layer.gate!;
      assert.equal(gate.positions, tokens);
      assert.equal(
        gate.histogram.counts.reduce((sum, count) => sum + count, 0),
        tokens,
      );
      assert.ok(gate.p5 <= gate.p50, `p5 ${gate.p5}, p50 ${gate.p50}`);
      assert.ok(gate.p50 <= gate.p95, `p50 ${gate.p50}, p95 ${gate.p95}`);
      assert.ok(gate.closedShare >= 0, `closed share ${gate.closedShare}`);
      assert.ok(gate.closedShare <= 1, `closed share ${gate.closedShare}`);
    }
  });

  test('gate windows start fresh', async () => {
    const ids = runtime.tokenizer.encode(inspectedText, true);
    const whole = await gateValues(runtime.model, memory, ids);
    const windowed = await gateValues(runtime.model, memory, ids, 8);
    const inspection = await inspectText(runtime, inspectedText, { maxTokens: 256 });
    whole.forEach((values, l) => {
      assert.equal(windowed[l].length, ids.length);
      // Causal attention, hashing and convolution give the first window the same gates as the whole sequence.
      for (let t = 0; t < 8; t++) assert.ok(Math.abs(windowed[l][t] - values[t]) < 1e-5, `layer ${l} position ${t}`);
      inspection.tokens.forEach((token, t) => assert.ok(Math.abs(token.layers[l].gate - values[t]) < 1e-5, `inspection gate, layer ${l} position ${t}`));
    });
  });

  test('rank-frequency of trained heads is ordered', () => {
    const layers: LayerStatistics[] = tableStatistics(memory);
    for (const layer of layers) {
      for (const head of layer.heads) {
        const { ranks, hits } = head.rankFrequency;
        const label = `layer ${layer.layer} order ${head.order} head ${head.head}`;
        assert.ok(head.uniqueRows > 0, label);
        assert.ok(ranks.length <= 200, label);
        assert.equal(ranks[0], 1, label);
        assert.equal(ranks[ranks.length - 1], head.uniqueRows, label);
        assert.equal(hits[0], head.topRows[0][1], label);
        for (let i = 1; i < ranks.length; i++) {
          assert.ok(ranks[i] > ranks[i - 1], `${label}: rank ${ranks[i]} after ${ranks[i - 1]}`);
          assert.ok(hits[i] <= hits[i - 1], `${label}: hits ${hits[i]} after ${hits[i - 1]}`);
        }
        assert.ok(hits[hits.length - 1] >= 1, label);
      }
    }
  });

  test('CLI JSON matches the engine', () => {
    const corpusFile = join(dir.path, 'hand-corpus.txt');
    writeFileSync(corpusFile, handCorpus.join('\n') + '\n');
    const output = execFileSync(
      process.execPath,
      [join(repoRoot, 'bin/engram.js'), 'inspect', '--pack', packDir, '--model', storiesModelDir, '--prompt', inspectedText, '--corpus', corpusFile, '--tokens', '--json', '--quiet'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const result = JSON.parse(output) as { pack: string; layers: LayerStatistics[]; corpus: { documents: number; tokens: number }; tokens: TokenInspection };
    const expected: CorpusCollisions = corpusCollisions(memory, runtime.tokenizer, handCorpus);
    assert.equal(result.pack, 'facts');
    assert.deepEqual(result.corpus, { documents: expected.documents, tokens: expected.tokens });
    result.layers.forEach((layer, l) => {
      assert.deepEqual(layer.collisions, expected.layers[l].orders, `layer ${layer.layer}`);
      assert.equal(layer.gate?.positions, result.tokens.tokens.length);
    });
    assert.deepEqual(result.layers.map((layer) => layer.heads), tableStatistics(memory).map((layer) => layer.heads));
    assert.equal(result.tokens.tokens.length, runtime.tokenizer.encode(inspectedText, true).length);
  });

  test('CLI rejects --tokens without a text', () => {
    const run = spawnSync(process.execPath, [join(repoRoot, 'bin/engram.js'), 'inspect', '--pack', packDir, '--tokens'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--tokens requires a text/);
  });
});
