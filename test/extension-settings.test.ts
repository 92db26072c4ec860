import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readSettings, resolveFolder, settingDefaults } from '../src/extension/config';
import { inspectModelFolder } from '../src/extension/model/modelFolder';
import { checkPackName, packNameFromDir } from '../src/extension/packs/packTreeModel';
import { buildTrainParams, checkpointDirFor, estimateTrainingSeconds, packDirFor, suggestPackName } from '../src/extension/training/trainPlan';
import { toTrainOptions } from '../src/worker/engineAdapter';
import { storiesModelDir } from './helpers/paths';

const scratch = mkdtempSync(join(tmpdir(), 'engram-settings-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function settingsFrom(values: Record<string, unknown>) {
  return readSettings((key) => values[key], '/ws', '/home/user');
}

test('settings defaults', () => {
  const settings = settingsFrom({});
  assert.equal(settings.modelFolder, undefined);
  assert.equal(settings.packsFolder, '/ws/.engram/packs');
  assert.equal(settings.backend, 'auto');
  assert.deepEqual(settings.training, settingDefaults.training);
  assert.equal(settings.cancelGraceMs, 60_000);
});

test('settings relative model folder', () => {
  assert.equal(settingsFrom({ modelFolder: 'models/a' }).modelFolder, '/ws/models/a');
});

test('settings home folder', () => {
  assert.equal(settingsFrom({ packsFolder: '~/packs' }).packsFolder, '/home/user/packs');
});

test('settings invalid values fall back', () => {
  const settings = settingsFrom({ backend: 'gpu', 'training.steps': -3, 'training.learningRate': 0, 'training.layers': [1, 'x'], 'training.batchSize': 2.5 });
  assert.equal(settings.backend, 'auto');
  assert.equal(settings.training.steps, settingDefaults.training.steps);
  assert.equal(settings.training.learningRate, settingDefaults.training.learningRate);
  assert.deepEqual(settings.training.layers, []);
  assert.equal(settings.training.batchSize, settingDefaults.training.batchSize);
});

test('settings valid overrides kept', () => {
  const settings = settingsFrom({ backend: 'wasm', 'training.steps': 50, 'training.layers': [0, 2], 'training.rowsPerHead': 1000 });
  assert.equal(settings.backend, 'wasm');
  assert.equal(settings.training.steps, 50);
  assert.deepEqual(settings.training.layers, [0, 2]);
  assert.equal(settings.training.rowsPerHead, 1000);
});

test('relative folder without workspace', () => {
  assert.equal(resolveFolder('.engram/packs', undefined, '/home/user'), undefined);
});

test('model folder fixture accepted', () => {
  const result = inspectModelFolder(storiesModelDir);
  assert.equal(result.ok, true);
  if (result.ok) assert.equal(result.info.architecture, 'LlamaForCausalLM');
});

test('model folder missing tokenizer', () => {
  const copy = join(scratch, 'no-tokenizer');
  cpSync(storiesModelDir, copy, { recursive: true });
  unlinkSync(join(copy, 'tokenizer.json'));
  const result = inspectModelFolder(copy);
  assert.deepEqual(result, { ok: false, problem: { kind: 'missing-files', files: ['tokenizer.json'] } });
});

test('model folder unsupported architecture', () => {
  const copy = join(scratch, 'gpt2');
  cpSync(storiesModelDir, copy, { recursive: true });
  writeFileSync(join(copy, 'config.json'), JSON.stringify({ architectures: ['GPT2LMHeadModel'], hidden_size: 2, num_hidden_layers: 1 }));
  const result = inspectModelFolder(copy);
  assert.deepEqual(result, { ok: false, problem: { kind: 'unsupported-architecture', found: ['GPT2LMHeadModel'] } });
});

test('model folder not found', () => {
  assert.deepEqual(inspectModelFolder(join(scratch, 'none')), { ok: false, problem: { kind: 'not-found' } });
});

test('pack name rules', () => {
  const cases: [string, ReturnType<typeof checkPackName>][] = [
    ['fresh', undefined],
    ['', 'empty'],
    ['a/b', 'separator'],
    ['a\\b', 'separator'],
    ['.hidden', 'leading-dot'],
    ['a:b', 'reserved-character'],
    ['x'.repeat(101), 'too-long'],
    ['Facts', 'clash'],
  ];
  for (const [name, expected] of cases) assert.equal(checkPackName(name, ['facts']), expected, name);
});

test('pack name from folder', () => {
  assert.equal(packNameFromDir('/p/facts.engram'), 'facts');
});

test('train params from choices', () => {
  const params = buildTrainParams({
    modelDir: '/m',
    corpus: ['corpus/*.txt'],
    packsFolder: '/ws/.engram/packs',
    packName: ' facts ',
    replace: false,
    resume: true,
    backend: 'wasm',
    training: { ...settingDefaults.training, layers: [], rowsPerHead: 0 },
  });
  assert.equal(params.packDir, '/ws/.engram/packs/facts.engram');
  assert.equal('layers' in params, false);
  assert.equal('rowsPerHead' in params, false);
  assert.equal(params.resume, true);
});

test('engine options from params', () => {
  const options = toTrainOptions({ modelDir: '/m', corpus: ['c.txt'], packDir: '/p.engram', replace: true, resume: false, backend: 'cpu', steps: 7, layers: [0], rowsPerHead: 500 });
  assert.equal(options.steps, 7);
  assert.deepEqual(options.engram.layers, [0]);
  assert.equal(options.engram.rowsPerHead, 500);
  assert.equal(options.engram.headsPerOrder, 8);
  assert.equal(options.replace, true);
  assert.equal(options.backend, 'cpu');
});

test('engine defaults kept when unset', () => {
  const options = toTrainOptions({ modelDir: '/m', corpus: ['c.txt'], packDir: '/p.engram', replace: false, resume: false, backend: 'auto', layers: [], rowsPerHead: 0 });
  const reference = toTrainOptions({ modelDir: '/m', corpus: ['c.txt'], packDir: '/p.engram', replace: false, resume: false, backend: 'auto' });
  assert.deepEqual(options.engram, reference.engram);
  assert.equal(options.steps, reference.steps);
});

test('checkpoint beside pack', () => {
  assert.equal(checkpointDirFor(packDirFor('/p', 'a')), '/p/a.engram.checkpoint');
});

test('time estimate from throughput', () => {
  // 100 steps × (8 corpus + 4 preservation sequences) × 128 tokens = 153,600 tokens.
  assert.equal(estimateTrainingSeconds({ steps: 100, batchSize: 8, seqLen: 128 }, 1536), 100);
  assert.equal(estimateTrainingSeconds({ steps: 100, batchSize: 8, seqLen: 128 }, undefined), undefined);
});

test('suggested pack name avoids clash', () => {
  assert.equal(suggestPackName(['corpus/facts.txt'], []), 'facts');
  assert.equal(suggestPackName(['corpus/facts.txt'], ['facts', 'facts-2']), 'facts-3');
  assert.equal(suggestPackName(['docs/**/*.md'], []), 'docs');
});
