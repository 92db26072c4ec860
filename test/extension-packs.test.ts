import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildPackItems } from '../src/extension/packs/packTreeModel';
import { parseHistoryJsonl } from '../src/extension/training/runHistory';
import { RuntimeService, type RuntimeState } from '../src/extension/worker/runtimeService';
import { WorkerRequestError, type ClientLog } from '../src/extension/worker/workerClient';
import type { PackEntry } from '../src/protocol/worker';
import { smallTrainOptions, tempDir, trainQuietly } from './helpers/engine';
import { repoRoot, storiesModelDir } from './helpers/paths';

// Runs the built worker (dist/worker.js, made by `npm run build`) on packs trained here.
const workerPath = join(repoRoot, 'dist', 'worker.js');
const scratch = tempDir('extension-packs');
const packsDir = join(scratch.path, 'packs');
const otherModelDir = join(scratch.path, 'other-model');
const log: ClientLog = { info: () => undefined, warn: () => undefined, error: () => undefined, worker: () => undefined };
const states: RuntimeState[] = [];
const runtime = new RuntimeService({
  workerOptions: () => ({ workerPath, log, env: { ...process.env, ENGRAM_LOG_LEVEL: 'warn' } }),
  onStateChange: (state) => states.push(state),
  onCrash: () => undefined,
});

before(async () => {
  assert.ok(existsSync(workerPath), `${workerPath} is missing; run npm run build first.`);
  mkdirSync(packsDir, { recursive: true });
  await trainQuietly(smallTrainOptions(join(packsDir, 'facts.engram'), { backend: 'cpu' }));
  mkdirSync(join(packsDir, 'broken.engram'));
  mkdirSync(join(packsDir, 'notes'));
  // Same weights, another config file: the pack's base model fingerprint no longer matches.
  cpSync(storiesModelDir, otherModelDir, { recursive: true });
  const config = JSON.parse(readFileSync(join(otherModelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(otherModelDir, 'config.json'), JSON.stringify({ ...config, torch_dtype: 'float16' }));
});

after(async () => {
  await runtime.dispose();
  scratch.remove();
});

async function list(modelDir: string): Promise<PackEntry[]> {
  return runtime.request('listPacks', { packsDir, modelDir });
}

test('worker lists pack folders', async () => {
  const entries = await list(storiesModelDir);
  assert.deepEqual(
    entries.map((entry) => entry.dir.split('/').pop()),
    ['broken.engram', 'facts.engram'],
  );
});

test('tree shows attachable pack', async () => {
  const items = buildPackItems(await list(storiesModelDir), undefined);
  const facts = items.find((item) => item.name === 'facts');
  assert.equal(facts?.kind, 'attachable');
  assert.equal(facts?.contextValue, 'engram.pack.attachable');
  assert.match(facts?.description ?? '', /stories260K-hf/);
  assert.match(facts?.tooltip ?? '', /Training: 4 steps/);
});

test('tree marks unreadable pack', async () => {
  const items = buildPackItems(await list(storiesModelDir), undefined);
  const broken = items.find((item) => item.name === 'broken');
  assert.equal(broken?.kind, 'invalid');
  assert.match(broken?.reason ?? '', /pack\.json/);
});

test('tree explains model mismatch', async () => {
  const items = buildPackItems(await list(otherModelDir), undefined);
  const facts = items.find((item) => item.name === 'facts');
  assert.equal(facts?.kind, 'mismatch');
  assert.ok((facts?.reason ?? '').length > 0);
  assert.match(facts?.description ?? '', /^Cannot attach: /);
});

test('attach marks pack attached', async () => {
  const packDir = join(packsDir, 'facts.engram');
  const info = await runtime.attach(packDir, storiesModelDir, 'cpu');
  assert.equal(info.name, 'facts');
  assert.equal(runtime.state.attached?.name, 'facts');
  assert.equal(runtime.state.backend, 'cpu');
  const items = buildPackItems(await list(storiesModelDir), runtime.state.attached?.dir);
  assert.equal(items.find((item) => item.name === 'facts')?.kind, 'attached');
});

test('generate with attached pack', async () => {
  const tokens: string[] = [];
  const result = await runtime.request('generate', { prompt: 'Once upon a time', options: { maxNewTokens: 5, temperature: 0, topP: 1, stopAtEos: false } }, { onToken: (text) => tokens.push(text) });
  assert.equal(tokens.length, 5);
  assert.equal(result.text, tokens[tokens.length - 1]);
});

test('detach clears state', async () => {
  await runtime.detach();
  assert.equal(runtime.state.attached, undefined);
  assert.equal(states[states.length - 1].attached, undefined);
});

test('attach mismatch names reason', async () => {
  const packDir = join(packsDir, 'facts.engram');
  await assert.rejects(runtime.attach(packDir, otherModelDir, 'cpu'), (error: unknown) => {
    assert.ok(error instanceof WorkerRequestError);
    assert.equal(error.code, 'pack-mismatch');
    return true;
  });
});

test('pack history replays', () => {
  const file = join(packsDir, 'facts.engram', 'history.jsonl');
  const { records, invalidLines } = parseHistoryJsonl(readFileSync(file, 'utf8'));
  assert.deepEqual(invalidLines, []);
  assert.equal(records.filter((record) => record.type === 'step').length, 4);
});
