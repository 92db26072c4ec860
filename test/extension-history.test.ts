import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TrainStepEvent } from '../src/engine/types';
import { dashboardHtml } from '../src/extension/dashboard/dashboardHtml';
import { historyToCsv, parseHistoryJsonl, RecordBatcher, RunHistory } from '../src/extension/training/runHistory';
import type { DashboardStrings } from '../src/protocol/dashboard';
import type { HistoryRecord } from '../src/protocol/trainEvents';
import { computeScale, formatTick } from '../webview/charts/scale';
import { buildSeries, estimateSecondsLeft } from '../webview/series';

function step(index: number, extra: Partial<TrainStepEvent> = {}): TrainStepEvent {
  return {
    type: 'step',
    step: index,
    totalSteps: 10,
    loss: 4 / index,
    learningRate: 0.002,
    tokensPerSecond: 1000,
    rowsTouched: [10 * index, 5 * index],
    rowsTouchedShare: [0.01 * index, 0.02 * index],
    backendBytes: 1 << 20,
    rssBytes: 1 << 26,
    elapsedMs: 100 * index,
    ...extra,
  };
}

test('history jsonl replays steps', () => {
  const text = [step(1), step(2), step(3)].map((record) => JSON.stringify(record)).join('\n') + '\n';
  const { records, invalidLines } = parseHistoryJsonl(text);
  assert.equal(records.length, 3);
  assert.deepEqual(invalidLines, []);
});

test('history jsonl skips bad lines', () => {
  const text = `${JSON.stringify(step(1))}\nnot json\n${JSON.stringify({ type: 'step', step: 'x' })}\n\n${JSON.stringify(step(2))}`;
  const { records, invalidLines } = parseHistoryJsonl(text);
  assert.equal(records.length, 2);
  assert.deepEqual(invalidLines, [2, 3]);
});

test('history jsonl with CRLF', () => {
  const { records } = parseHistoryJsonl(`${JSON.stringify(step(1))}\r\n${JSON.stringify(step(2))}\r\n`);
  assert.equal(records.length, 2);
});

test('run history last step', () => {
  const history = new RunHistory({ id: 'r', packName: 'p', packDir: '/p', modelDir: '/m', startedAt: '', state: 'running' });
  history.add(step(1));
  history.add({ type: 'checkpoint', step: 1, path: '/c' });
  history.add(step(2));
  assert.equal(history.lastStep?.step, 2);
  assert.equal(history.steps.length, 2);
});

test('csv has one row per step', () => {
  const csv = historyToCsv([step(1), { type: 'gpu-memory', usedBytes: 1, totalBytes: 2, step: 1 }, step(2, { evalLoss: 3.5 })], 0);
  const lines = csv.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[0], 'step,loss,loss_smoothed,eval_loss,preservation_loss,learning_rate,tokens_per_second,backend_bytes,rss_bytes,elapsed_ms,rows_touched_0,rows_touched_share_0,rows_touched_1,rows_touched_share_1');
  assert.equal(lines[2].split(',')[3], '3.5');
});

test('csv smoothed column uses strength', () => {
  const csv = historyToCsv([step(1), step(2)], 0.5);
  const second = csv.trim().split('\n')[2].split(',');
  assert.ok(Number(second[2]) > Number(second[1]));
});

test('batcher limits message rate', async () => {
  const batches: HistoryRecord[][] = [];
  const batcher = new RecordBatcher((records) => batches.push(records), 100);
  const started = Date.now();
  while (Date.now() - started < 550) {
    batcher.push(step(1));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  batcher.drain();
  const seconds = (Date.now() - started) / 1000;
  assert.ok(batches.length <= Math.ceil(seconds * 10) + 1, `${batches.length} batches in ${seconds} s`);
  assert.ok(batches.length >= 4);
});

test('batcher loses no record', async () => {
  let received = 0;
  const batcher = new RecordBatcher((records) => (received += records.length), 20);
  for (let index = 0; index < 50; index++) {
    batcher.push(step(1));
    if (index % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  batcher.drain();
  assert.equal(received, 50);
});

test('series from records', () => {
  const records: HistoryRecord[] = [
    { type: 'start', backend: 'wasm', totalSteps: 10, startStep: 0, corpusFiles: 1, skippedFiles: [], trainTokens: 100, evalTokens: 0, tableRows: [600, 600], layers: [1, 3], headsPerLayer: 16 },
    step(1),
    step(2, { evalLoss: 2.5, preservationLoss: 0.1 }),
    { type: 'gpu-memory', usedBytes: 5, totalBytes: 10, step: 2 },
    { type: 'row-hits', step: 2, layers: [1, 3], buckets: [[[1, 2]], [[3, 4]]] },
  ];
  const series = buildSeries(records, 0.9);
  assert.equal(series.loss.length, 2);
  assert.deepEqual(series.evalLoss, [[2, 2.5]]);
  assert.deepEqual(series.preservationLoss, [[2, 0.1]]);
  assert.equal(series.rowsTouched.length, 2);
  assert.deepEqual(series.rowsTouched[1], [[1, 5], [2, 10]]);
  assert.deepEqual(series.gpuUsedBytes, [[2, 5]]);
  assert.deepEqual(series.layers, [1, 3]);
  assert.equal(series.latestRowHits?.step, 2);
  assert.equal(series.lossSmoothed[0][1], 4);
});

test('time left from mean step time', () => {
  assert.equal(estimateSecondsLeft(undefined, step(5)), 0.5);
});

test('linear scale contains data', () => {
  const scale = computeScale(0.37, 4.2, false);
  assert.ok(scale.min <= 0.37);
  assert.ok(scale.max >= 4.2);
  assert.ok(scale.ticks.length >= 3);
});

test('log scale ticks on decades', () => {
  const scale = computeScale(0.002, 30, true);
  assert.deepEqual(scale.ticks, [0.001, 0.01, 0.1, 1, 10, 100]);
});

test('flat series gets a range', () => {
  const scale = computeScale(2, 2, false);
  assert.ok(scale.max > scale.min);
});

test('byte ticks use binary units', () => {
  assert.equal(formatTick(3 * 1024 * 1024, 'bytes'), '3 MiB');
});

test('dashboard csp uses nonce', () => {
  const strings = {} as DashboardStrings;
  const html = dashboardHtml({ cspSource: 'vscode-resource:', scriptUri: 'x/webview.js', styleUri: 'x/webview.css', strings, title: 'T', nonce: 'abc123' });
  assert.match(html, /default-src 'none'/);
  assert.match(html, /script-src 'nonce-abc123'/);
  assert.match(html, /<script nonce="abc123" src="x\/webview.js">/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval|https?:/);
});

test('dashboard strings are escaped', () => {
  const strings = { noRun: `"><script>alert(1)</script>` } as DashboardStrings;
  const html = dashboardHtml({ cspSource: 'c', scriptUri: 's', styleUri: 't', strings, title: 'T', nonce: 'n' });
  assert.equal(html.match(/<script/g)?.length, 1);
});

test('small ticks keep two digits', () => {
  assert.equal(formatTick(0.00025), '2.5e-4');
  assert.equal(formatTick(0.0003), '3e-4');
});

test('near-zero minimum snaps to zero', () => {
  assert.equal(computeScale(-1e-9, 5, false).min, 0);
});
