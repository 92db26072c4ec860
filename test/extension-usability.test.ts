import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RowHitsEvent, TrainStartEvent, TrainStepEvent } from '../src/engine/types';
import { listModelChoices } from '../src/extension/model/modelChoices';
import { parseSamplingProgress, replaceCliFlags } from '../src/extension/training/engineMessages';
import { readPackHistoryFiles } from '../src/extension/training/packHistory';
import { historyToCsv, layerBlocks, RunHistory } from '../src/extension/training/runHistory';
import { checkLayers, checkSeqLen, estimateTrainingSeconds, pickThroughput, trainingTokens } from '../src/extension/training/trainPlan';
import { findSamplingProblems } from '../src/protocol/playground';
import { buildSeries } from '../webview/series';

const scratch = mkdtempSync(join(tmpdir(), 'engram-usability-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function step(index: number): TrainStepEvent {
  return {
    type: 'step',
    step: index,
    totalSteps: 10,
    loss: 2,
    learningRate: 0.002,
    tokensPerSecond: 1000,
    rowsTouched: [10, 20, 30],
    rowsTouchedShare: [0.1, 0.2, 0.3],
    backendBytes: 1,
    rssBytes: 1,
    elapsedMs: 100,
  };
}

const rowHits: RowHitsEvent = { type: 'row-hits', step: 2, layers: [1, 2, 3], buckets: [[[1, 2]], [[3, 4]], [[5, 6]]] };

test('model choices list bundled first', () => {
  const choices = listModelChoices('/ext/assets/models/stories260K-hf', '/models/a', ['/models/b', '/models/a', '/ext/assets/models/stories260K-hf']);
  assert.deepEqual(
    choices.map((choice) => choice.dir),
    ['/ext/assets/models/stories260K-hf', '/models/a', '/models/b'],
  );
  assert.equal(choices[0].bundled, true);
  assert.equal(choices[1].current, true);
  assert.equal(choices[2].current, false);
});

test('model choices without current or recent', () => {
  const choices = listModelChoices('/ext/model', undefined, []);
  assert.equal(choices.length, 1);
  assert.equal(choices[0].current, false);
});

test('sampling problems name each field', () => {
  const problems = findSamplingProblems({ temperature: '-1', topP: '5', maxTokens: '0' });
  assert.deepEqual(
    problems.map((problem) => problem.field),
    ['temperature', 'topP', 'maxTokens'],
  );
  assert.equal(problems[2].integer, true);
});

test('sampling problems accept valid values', () => {
  assert.deepEqual(findSamplingProblems({ temperature: '0', topP: '1', maxTokens: '32' }), []);
});

test('sampling problems reject empty and fractional', () => {
  assert.deepEqual(
    findSamplingProblems({ temperature: '', topP: '0.5', maxTokens: '2.5' }).map((problem) => problem.field),
    ['temperature', 'maxTokens'],
  );
});

test('layer blocks from start event', () => {
  const start = { type: 'start', layers: [4, 5], headsPerLayer: 16 } as unknown as TrainStartEvent;
  assert.deepEqual(layerBlocks([start, step(1)], [1, 2]), [4, 5]);
});

test('layer blocks from fallback then row hits', () => {
  assert.deepEqual(layerBlocks([step(1), rowHits], [7, 8, 9]), [7, 8, 9]);
  assert.deepEqual(layerBlocks([step(1), rowHits]), [1, 2, 3]);
  assert.equal(layerBlocks([step(1)]), undefined);
});

test('csv names columns by block', () => {
  const history = new RunHistory({ id: 'h', packName: 'p', packDir: '/p', modelDir: '', startedAt: '', state: 'replayed', layers: [1, 2, 3] });
  history.add(step(1));
  const header = historyToCsv(history.records, 0, history.layers).split('\n')[0];
  assert.ok(header.endsWith('rows_touched_1,rows_touched_share_1,rows_touched_2,rows_touched_share_2,rows_touched_3,rows_touched_share_3'), header);
});

test('series takes layers from row hits', () => {
  const series = buildSeries([step(1), rowHits], 0);
  assert.deepEqual(series.layers, [1, 2, 3]);
});

test('pack history reads row hits', async () => {
  const packDir = join(scratch, 'facts.engram');
  rmSync(packDir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(packDir);
  writeFileSync(join(packDir, 'history.jsonl'), `${JSON.stringify(step(1))}\n${JSON.stringify(step(2))}\n`);
  writeFileSync(join(packDir, 'pack.json'), JSON.stringify({ engram: { layers: [1, 2, 3] } }));
  writeFileSync(join(packDir, 'row-hits.json'), `${JSON.stringify(rowHits)}\n`);
  const stored = await readPackHistoryFiles(packDir);
  assert.ok(stored);
  assert.deepEqual(stored.layers, [1, 2, 3]);
  assert.equal(stored.records.length, 3);
  assert.equal(stored.records[2].type, 'row-hits');
  assert.equal(stored.rowHitsProblem, undefined);
});

test('pack history without row hits', async () => {
  const packDir = join(scratch, 'plain.engram');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(packDir, { recursive: true });
  writeFileSync(join(packDir, 'history.jsonl'), `${JSON.stringify(step(1))}\n`);
  const stored = await readPackHistoryFiles(packDir);
  assert.ok(stored);
  assert.equal(stored.records.length, 1);
  assert.equal(stored.layers, undefined);
  assert.equal(await readPackHistoryFiles(join(scratch, 'missing.engram')), undefined);
});

test('pack history reports invalid row hits', async () => {
  const packDir = join(scratch, 'broken.engram');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(packDir, { recursive: true });
  writeFileSync(join(packDir, 'history.jsonl'), `${JSON.stringify(step(1))}\n`);
  writeFileSync(join(packDir, 'row-hits.json'), '{"type":"row-hits"');
  const stored = await readPackHistoryFiles(packDir);
  assert.ok(stored?.rowHitsProblem);
  assert.equal(stored.records.length, 1);
});

test('estimate scales with steps and length', () => {
  const base = { steps: 1000, batchSize: 8, seqLen: 128 };
  assert.equal(trainingTokens(base), 1000 * 12 * 128);
  const one = estimateTrainingSeconds(base, 1536);
  assert.equal(one, 1000);
  assert.equal(estimateTrainingSeconds({ ...base, steps: 2000 }, 1536), 2000);
  assert.equal(estimateTrainingSeconds({ ...base, seqLen: 256 }, 1536), 2000);
  assert.equal(estimateTrainingSeconds(base, undefined), undefined);
});

test('throughput per backend', () => {
  const measured = { '/m|wasm': 1000, '/m|tensorflow': 5000, '/other|cpu': 10 };
  const reference = { tensorflow: 6000, wasm: 1200, cpu: 150 };
  assert.deepEqual(pickThroughput(measured, '/m', 'wasm'), { tokensPerSecond: 1000, source: 'measured' });
  assert.deepEqual(pickThroughput(measured, '/m', 'auto'), { tokensPerSecond: 5000, source: 'measured' });
  assert.equal(pickThroughput(measured, '/m', 'cpu'), undefined);
  assert.deepEqual(pickThroughput(measured, '/m', 'cpu', reference), { tokensPerSecond: 150, source: 'reference' });
  assert.deepEqual(pickThroughput({}, '/n', 'auto', reference), { tokensPerSecond: 1200, source: 'reference' });
});

test('seq len within model context', () => {
  const model = { numLayers: 5, maxPositions: 512 };
  assert.equal(checkSeqLen(128, model), undefined);
  assert.equal(checkSeqLen(512, model), undefined);
  assert.deepEqual(checkSeqLen(513, model), { kind: 'seq-len', min: 8, max: 512 });
  assert.deepEqual(checkSeqLen(7, model), { kind: 'seq-len', min: 8, max: 512 });
  assert.equal(checkSeqLen(100_000, { numLayers: 5, maxPositions: undefined }), undefined);
});

test('layers within model blocks', () => {
  const model = { numLayers: 5, maxPositions: 512 };
  assert.equal(checkLayers([0, 4], model), undefined);
  assert.deepEqual(checkLayers([1, 5], model), { kind: 'layer-range', layer: 5, max: 4 });
  assert.deepEqual(checkLayers([2, 2], model), { kind: 'layer-duplicate', layer: 2 });
});

test('engine flags become setting names', () => {
  const corpus = replaceCliFlags('The corpus has 10 tokens, too few for sequences of 128 tokens. Add text, lower --seq-len, or pass --eval-fraction 0.');
  assert.ok(!/--[a-z]/.test(corpus), corpus);
  assert.match(corpus, /engram\.training\.seqLen/);
  const rate = replaceCliFlags('Lower --lr (now 0.5) and train again.');
  assert.match(rate, /engram\.training\.learningRate/);
  const tables = replaceCliFlags('Lower --rows (now 4), --head-dim (now 32) or the number of --layers.');
  assert.ok(!/--[a-z]/.test(tables), tables);
  assert.equal(replaceCliFlags('No flags here.'), 'No flags here.');
  assert.match(replaceCliFlags('Train one with "engram train".'), /"Engram: Train Pack"/);
});

test('sampling phase message parsed', () => {
  assert.deepEqual(parseSamplingProgress('Sampled 100 of 400 sequences'), { done: 100, total: 400 });
  assert.equal(parseSamplingProgress('Loading the model'), undefined);
});
