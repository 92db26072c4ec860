import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardToHost, hostToDashboard } from '../src/protocol/dashboard';
import { debiasedEma } from '../src/protocol/smoothing';
import { historyRecord, trainEvent } from '../src/protocol/trainEvents';
import { array, check, integer, object, optional, ProtocolError, string } from '../src/protocol/validate';
import { parseWorkerMessage, parseWorkerRequest, WORKER_PROTOCOL_VERSION } from '../src/protocol/worker';

const step = {
  type: 'step',
  step: 3,
  totalSteps: 10,
  loss: 2.5,
  learningRate: 0.001,
  tokensPerSecond: 900,
  rowsTouched: [12, 9],
  rowsTouchedShare: [0.1, 0.05],
  backendBytes: 4096,
  rssBytes: 8192,
  elapsedMs: 300,
};

test('object drops unknown fields', () => {
  const value = object({ name: string })({ name: 'a', extra: 1 });
  assert.deepEqual(value, { name: 'a' });
});

test('object keeps optional fields absent', () => {
  const value = object({ name: string, size: optional(integer) })({ name: 'a' });
  assert.equal('size' in value, false);
});

test('error names the field path', () => {
  const validator = object({ items: array(object({ id: integer })) });
  assert.throws(() => validator({ items: [{ id: 1 }, { id: 'x' }] }), (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.path, '$.items[1].id');
    return true;
  });
});

test('array length limit', () => {
  assert.equal(check(array(integer, 2), [1, 2, 3]).ok, false);
});

test('step event accepted', () => {
  assert.deepEqual(trainEvent(step), step);
});

test('step event with NaN loss rejected', () => {
  assert.equal(check(trainEvent, { ...step, loss: Number.NaN }).ok, false);
});

test('step event with null loss rejected', () => {
  assert.equal(check(trainEvent, JSON.parse(JSON.stringify({ ...step, loss: Number.NaN }))).ok, false);
});

test('unknown event type rejected', () => {
  const result = check(trainEvent, { type: 'finished' });
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.error.message, /\$\.type should be one of "start"/);
});

test('gpu memory record accepted', () => {
  const record = { type: 'gpu-memory', usedBytes: 1, totalBytes: 2, step: 4 };
  assert.deepEqual(historyRecord(record), record);
});

test('worker request params validated', () => {
  assert.throws(() => parseWorkerRequest({ kind: 'request', id: 1, method: 'attach', params: { packDir: 7 } }), /\$\.params\.packDir should be a string/);
});

test('worker request unknown method rejected', () => {
  assert.throws(() => parseWorkerRequest({ kind: 'request', id: 1, method: 'eval', params: {} }), /\$\.method/);
});

test('worker train request accepted', () => {
  const params = { modelDir: '/m', corpus: ['a.txt'], packDir: '/p/x.engram', replace: false, resume: false, backend: 'auto', steps: 5 };
  const request = parseWorkerRequest({ kind: 'request', id: 2, method: 'train', params });
  assert.deepEqual(request.params, params);
});

test('worker failure reply parsed', () => {
  const message = parseWorkerMessage({ kind: 'reply', id: 4, ok: false, error: { code: 'pack-mismatch', message: 'no' } });
  assert.equal(message.kind === 'reply' && !message.ok && message.error.code, 'pack-mismatch');
});

test('worker reply with unknown error code rejected', () => {
  assert.throws(() => parseWorkerMessage({ kind: 'reply', id: 4, ok: false, error: { code: 'weird', message: 'no' } }), ProtocolError);
});

test('worker ready event parsed', () => {
  const message = parseWorkerMessage({ kind: 'event', event: 'ready', protocolVersion: WORKER_PROTOCOL_VERSION, pid: 10 });
  assert.equal(message.kind === 'event' && message.event, 'ready');
});

test('worker train event carries record', () => {
  const message = parseWorkerMessage({ kind: 'event', event: 'train', record: step });
  assert.deepEqual(message.kind === 'event' && message.event === 'train' && message.record, step);
});

test('dashboard init with records', () => {
  const message = hostToDashboard({ type: 'init', protocolVersion: 1, records: [step] });
  assert.equal(message.type === 'init' && message.records.length, 1);
});

test('dashboard message with script rejected', () => {
  assert.equal(check(dashboardToHost, { type: 'eval', code: 'alert(1)' }).ok, false);
});

test('dashboard export needs numeric smoothing', () => {
  assert.equal(check(dashboardToHost, { type: 'exportCsv', runId: 'r', smoothing: '0.9' }).ok, false);
});

test('ema strength zero returns input', () => {
  assert.deepEqual(debiasedEma([3, 1, 2], 0), [3, 1, 2]);
});

test('ema first value is debiased', () => {
  assert.equal(debiasedEma([4, 4, 4], 0.9)[0], 4);
});

test('ema of constant stays constant', () => {
  for (const value of debiasedEma([2, 2, 2, 2], 0.6)) assert.ok(Math.abs(value - 2) < 1e-12);
});

test('ema follows a step change slowly', () => {
  const smoothed = debiasedEma([0, 0, 10], 0.5);
  assert.ok(smoothed[2] > 0);
  assert.ok(smoothed[2] < 10);
});

test('summary null loss becomes NaN', () => {
  const summary = {
    steps: 0,
    finalLoss: null,
    trainTokens: 0,
    seconds: 0,
    backend: 'wasm',
    options: {
      replace: false,
      engram: { layers: [1], orders: [2, 3], headsPerOrder: 8, headDim: 8, rowsPerHead: 101, seed: 0 },
      steps: 5,
      batchSize: 2,
      seqLen: 16,
      learningRate: 0.001,
      warmupSteps: 0,
      evalFraction: 0,
      evalEvery: 10,
      checkpointEvery: 0,
      resume: false,
      preservation: { enabled: false, weight: 0, samples: 0, batchSize: 0 },
      backend: 'auto',
    },
  };
  const done = trainEvent({ type: 'done', packDir: '/p', summary, cancelled: true });
  assert.equal(done.type, 'done');
  if (done.type !== 'done') return;
  assert.ok(Number.isNaN(done.summary.finalLoss));
});
