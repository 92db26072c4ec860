import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { EngramError } from '../src/engine/errors';
import { forwardLogits, scoreProbes } from '../src/engine/eval';
import { silentLogger } from '../src/engine/log';
import { checkPackForModel, listPacks, loadPack, packTensors, readPackInfo, readPackMetadata, savePack } from '../src/engine/pack/pack';
import { EngramRuntime } from '../src/engine/runtime';
import { copyFixture, smallTrainOptions, tempDir, trainQuietly } from './helpers/engine';
import { storiesModelDir, tinyRandomLlamaDir } from './helpers/paths';

describe('knowledge packs', () => {
  const dir = tempDir('packs');
  const packA = join(dir.path, 'a.engram');
  const packB = join(dir.path, 'b.engram');
  let runtime: EngramRuntime;

  before(async () => {
    await trainQuietly(smallTrainOptions(packA, { steps: 6 }));
    await trainQuietly(smallTrainOptions(packB, { steps: 6, engram: { layers: [0, 2], orders: [2, 3], headsPerOrder: 8, headDim: 8, rowsPerHead: 300, seed: 3 } }));
    runtime = await EngramRuntime.load(storiesModelDir, { backend: 'auto', log: silentLogger });
  });
  after(() => {
    runtime.dispose();
    dir.remove();
  });

  test('pack folder has the documented files', () => {
    for (const name of ['config.json', 'engram_adapters.safetensors', 'pack.json', 'history.jsonl', 'row-hits.json']) assert.ok(existsSync(join(packA, name)), name);
    const config = JSON.parse(readFileSync(join(packA, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.model_type, 'engram');
    assert.deepEqual(config.target_layers, [1, 3]);
    const metadata = readPackMetadata(packA);
    assert.equal(metadata.baseModel.architecture, 'LlamaForCausalLM');
    assert.equal(metadata.compression.size, 350);
    assert.equal(metadata.hashing[0].multipliers.length, 3);
    assert.ok(metadata.summary);
    assert.equal(metadata.summary.steps, 6);
  });

  test('save and load round trip keeps every tensor', async () => {
    const { memory } = loadPack(packA);
    const copy = join(dir.path, 'copy.engram');
    await savePack(copy, { memory, baseModel: readPackMetadata(packA).baseModel }, { replace: false });
    const reloaded = loadPack(copy).memory;
    const first = await packTensors(memory);
    const second = await packTensors(reloaded);
    assert.equal(first.length, second.length);
    first.forEach((tensor, i) => {
      assert.equal(tensor.name, second[i].name);
      assert.deepEqual(tensor.shape, second[i].shape);
      assert.ok(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).equals(Buffer.from(second[i].data.buffer, second[i].data.byteOffset, second[i].data.byteLength)), tensor.name);
    });
    memory.dispose();
    reloaded.dispose();
  });

  test('existing pack is not overwritten', async () => {
    const { memory } = loadPack(packA);
    await assert.rejects(savePack(packB, { memory, baseModel: readPackMetadata(packA).baseModel }, { replace: false }), (error: unknown) => error instanceof EngramError && error.code === 'pack-exists');
    assert.equal(readPackMetadata(packB).engram.seed, 3);
    memory.dispose();
  });

  test('attach changes logits and detach restores them exactly', async () => {
    const ids = [[1, 403, 407, 261, 378, 432, 383, 286]];
    const base = await forwardLogits(runtime.model, undefined, ids).data();
    runtime.attach(packA);
    const attached = await forwardLogits(runtime.model, runtime.memory, ids).data();
    assert.ok(attached.some((value, i) => value !== base[i]));
    runtime.detach();
    const detached = await forwardLogits(runtime.model, runtime.memory, ids).data();
    assert.ok(Buffer.from(detached.buffer).equals(Buffer.from(base.buffer)));
  });

  test('switching packs keeps the base model', () => {
    const model = runtime.model;
    runtime.attach(packA);
    const tensorsWithA = tf.memory().numTensors;
    runtime.attach(packB);
    assert.equal(runtime.model, model);
    assert.equal(runtime.attachedPack?.name, 'b');
    assert.equal(tf.memory().numTensors, tensorsWithA);
    runtime.detach();
  });

  test('generation differs with the pack attached', async () => {
    const options = { maxNewTokens: 8, temperature: 0, topP: 1, stopAtEos: true };
    runtime.attach(packA);
    const withPack = await runtime.generate('The capital of Peru is', options);
    const base = await runtime.generate('The capital of Peru is', options, undefined, false);
    runtime.detach();
    const plain = await runtime.generate('The capital of Peru is', options);
    assert.equal(plain, base);
    assert.equal(typeof withPack, 'string');
  });

  test('probe predictions are greedy continuations', async () => {
    const probes = [
      { prompt: 'Once upon a', answer: 'time', relation: 'story' },
      { prompt: 'The capital of Peru is', answer: 'Lima', relation: 'capital' },
    ];
    const results = await scoreProbes(runtime.model, undefined, runtime.tokenizer, probes);
    assert.equal(results[0].passed, true);
    assert.equal(results[0].predicted.trim(), 'time');
    assert.equal(results[1].passed, false);
    const greedy = await runtime.generate(probes[1].prompt, { maxNewTokens: 8, temperature: 0, topP: 1, stopAtEos: false }, undefined, false);
    assert.ok(greedy.startsWith(results[1].predicted), `greedy "${greedy}" vs predicted "${results[1].predicted}"`);
  });

  test('pack for another model is rejected', async () => {
    const other = await EngramRuntime.load(tinyRandomLlamaDir.replace(/tiny-random-llama-hf$/, 'tiny-random-llama-hf'), { backend: 'auto', log: silentLogger }).catch((error: unknown) => error);
    // The random model has no tokenizer.json; a copy of the stories tokenizer makes it loadable.
    if (other instanceof EngramError) {
      const model = copyFixture(tinyRandomLlamaDir, join(dir.path, 'random-model'));
      writeFileSync(join(model, 'tokenizer.json'), readFileSync(join(storiesModelDir, 'tokenizer.json')));
      const runtimeOther = await EngramRuntime.load(model, { backend: 'auto', log: silentLogger });
      assert.throws(
        () => runtimeOther.attach(packA),
        (error: unknown) => error instanceof EngramError && error.code === 'pack-mismatch' && /stories260K-hf/.test(error.message) && /hidden size 64/.test(error.message),
      );
      runtimeOther.dispose();
    } else {
      assert.fail('the random model should need a tokenizer');
    }
  });

  test('reformatted model files keep the fingerprint', () => {
    const model = copyFixture(storiesModelDir, join(dir.path, 'reformatted-model'));
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(model, 'config.json'), JSON.stringify({ _name_or_path: '/somewhere/else', transformers_version: '4.99.0', ...config }, null, 4));
    writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(JSON.parse(readFileSync(join(model, 'tokenizer.json'), 'utf8'))));
    assert.equal(checkPackForModel(packA, model), undefined);
    const changed = { ...config, rms_norm_eps: 1e-6 };
    writeFileSync(join(model, 'config.json'), JSON.stringify(changed));
    assert.match(checkPackForModel(packA, model) ?? '', /config\.json/);
  });

  test('tensor shape mismatch names both shapes', () => {
    const broken = copyFixture(packA, join(dir.path, 'broken.engram'));
    const metadata = JSON.parse(readFileSync(join(broken, 'pack.json'), 'utf8')) as { hiddenSize: number };
    metadata.hiddenSize = 32;
    writeFileSync(join(broken, 'pack.json'), JSON.stringify(metadata));
    assert.throws(() => loadPack(broken), (error: unknown) => error instanceof EngramError && /has shape \[\d+, 64\], expected \[\d+, 32\]/.test(error.message));
  });

  test('unknown keys in pack.json are ignored', () => {
    const extra = copyFixture(packA, join(dir.path, 'extra.engram'));
    const metadata = JSON.parse(readFileSync(join(extra, 'pack.json'), 'utf8')) as Record<string, unknown>;
    metadata.somethingNew = { nested: true };
    writeFileSync(join(extra, 'pack.json'), JSON.stringify(metadata));
    const { memory } = loadPack(extra);
    assert.equal(memory.shape.layers.length, 2);
    memory.dispose();
  });

  test('folder without pack.json is not a pack', () => {
    assert.throws(() => readPackInfo(dir.path), (error: unknown) => error instanceof EngramError && error.code === 'invalid-pack');
  });

  test('listPacks finds packs and reports broken ones', () => {
    const listed = listPacks(dir.path);
    const names = listed.map((entry) => entry.info?.name ?? entry.error);
    assert.ok(names.includes('a'));
    assert.ok(names.includes('b'));
  });
});
