import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import type { HistoryRecord } from '../src/protocol/trainEvents';
import type { TrainParams } from '../src/protocol/worker';
import type { RunInfo } from '../src/extension/training/runHistory';
import { TrainingRun } from '../src/extension/training/trainingRun';
import { WorkerClient, WorkerRequestError, type ClientLog } from '../src/extension/worker/workerClient';

/** Repository root; this file runs from out/test. */
const repoRoot = resolve(__dirname, '..', '..');
const buildDir = mkdtempSync(join(tmpdir(), 'engram-fake-worker-'));
const fakeWorkerPath = join(buildDir, 'fakeWorker.js');

// The fake worker is its own process entry, so it is bundled here rather than by the test build.
// esbuild is loaded at run time, because a test bundle cannot contain esbuild itself.
before(() => {
  const esbuild = createRequire(join(repoRoot, 'package.json'))('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    absWorkingDir: repoRoot,
    entryPoints: ['test/vscode/fixtures/fakeWorker.ts'],
    outfile: fakeWorkerPath,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
});

after(() => rmSync(buildDir, { recursive: true, force: true }));

function collectingLog(): ClientLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
    worker: (level, message) => lines.push(`worker ${level} ${message}`),
  };
}

function env(mode: string, stepMs = 20): NodeJS.ProcessEnv {
  return { ...process.env, FAKE_WORKER_MODE: mode, FAKE_WORKER_STEP_MS: String(stepMs) };
}

const params: TrainParams = { modelDir: '/m', corpus: ['c.txt'], packDir: '/packs/p.engram', replace: false, resume: false, backend: 'cpu', steps: 5 };
const info: RunInfo = { id: 'r1', packName: 'p', packDir: '/packs/p.engram', modelDir: '/m', startedAt: '2025-01-01T00:00:00Z', state: 'starting' };

function startRun(mode: string, overrides: Partial<TrainParams> = {}, stepMs = 20, cancelGraceMs = 5_000) {
  const records: HistoryRecord[] = [];
  const states: string[] = [];
  const log = collectingLog();
  const run = new TrainingRun({
    worker: { workerPath: fakeWorkerPath, env: env(mode, stepMs), log },
    params: { ...params, ...overrides },
    info,
    cancelGraceMs,
    onRecord: (record) => records.push(record),
    onState: (state) => states.push(state.state),
  });
  return { run, records, states, log };
}

test('client pairs request and reply', async () => {
  const client = await WorkerClient.start({ workerPath: fakeWorkerPath, env: env('normal'), log: collectingLog() });
  const preview = await client.request('previewCorpus', { modelDir: '/m', files: ['a', 'b'] });
  assert.equal(preview.files, 2);
  await client.shutdown();
});

test('client streams generated tokens', async () => {
  const client = await WorkerClient.start({ workerPath: fakeWorkerPath, env: env('normal'), log: collectingLog() });
  const tokens: string[] = [];
  const result = await client.request('generate', { prompt: 'Go', options: { maxNewTokens: 2, temperature: 0, topP: 1, stopAtEos: true } }, { onToken: (text) => tokens.push(text) });
  assert.deepEqual(tokens, [' one', ' one two']);
  assert.equal(result.text, 'Go one two');
  await client.shutdown();
});

test('client keeps engine error code', async () => {
  const client = await WorkerClient.start({ workerPath: fakeWorkerPath, env: env('normal'), log: collectingLog() });
  await assert.rejects(client.request('attach', { packDir: '/p' }), (error: unknown) => {
    assert.ok(error instanceof WorkerRequestError);
    assert.equal(error.code, 'pack-mismatch');
    return true;
  });
  await client.shutdown();
});

test('client rejects invalid result', async () => {
  const client = await WorkerClient.start({ workerPath: fakeWorkerPath, env: env('bad-result'), log: collectingLog() });
  await assert.rejects(client.request('load', { modelDir: '/m', backend: 'auto' }), /invalid result for load/);
  await client.shutdown();
});

test('shutdown exits cleanly', async () => {
  const client = await WorkerClient.start({ workerPath: fakeWorkerPath, env: env('normal'), log: collectingLog() });
  const exit = await client.shutdown();
  assert.equal(exit.expected, true);
  assert.equal(exit.code, 0);
});

test('run completes with history', async () => {
  const { run, records, states } = startRun('normal');
  const outcome = await run.outcome;
  assert.equal(outcome.state, 'done');
  assert.equal(records.filter((record) => record.type === 'step').length, 5);
  assert.equal(run.history.steps.length, 5);
  assert.deepEqual(states, ['running', 'done']);
});

test('run cancel writes checkpoint', async () => {
  const { run, states } = startRun('normal', { steps: 1000 });
  while (run.history.steps.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  await run.cancel();
  const outcome = await run.outcome;
  assert.equal(outcome.state, 'cancelled');
  assert.equal(outcome.killed, false);
  assert.equal(outcome.checkpoint, '/packs/p.engram.checkpoint');
  assert.ok(states.includes('cancelling'));
});

test('run kills stubborn worker', async () => {
  const { run, log } = startRun('stubborn', { steps: 100_000 }, 20, 300);
  while (run.history.steps.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  await run.cancel();
  const outcome = await run.outcome;
  assert.equal(outcome.state, 'cancelled');
  assert.equal(outcome.killed, true);
  assert.ok(log.lines.some((line) => line.includes('killing it')));
});

test('run reports worker crash', async () => {
  const { run } = startRun('crash');
  const outcome = await run.outcome;
  assert.equal(outcome.state, 'failed');
  assert.equal(outcome.error?.code, 'worker-exited');
  assert.match(outcome.error?.message ?? '', /exit code 7/);
});

test('run reports out of memory', async () => {
  const { run, log } = startRun('oom');
  const outcome = await run.outcome;
  assert.equal(outcome.state, 'failed');
  assert.match(outcome.error?.message ?? '', /ran out of memory/);
  assert.ok(log.lines.some((line) => line.startsWith('worker warn FATAL ERROR')));
});

test('new worker starts after crash', async () => {
  await startRun('crash').run.outcome;
  const outcome = await startRun('normal').run.outcome;
  assert.equal(outcome.state, 'done');
});
