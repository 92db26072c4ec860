import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { EngramError } from '../src/engine/errors';
import { silentLogger } from '../src/engine/log';
import { parseModelConfig, readModelConfig } from '../src/engine/model/config';
import { LlamaModel } from '../src/engine/model/llama';
import { ropeInverseFrequencies } from '../src/engine/model/rope';
import { ModelTokenizer } from '../src/engine/tokenizer';
import { copyFixture, tempDir } from './helpers/engine';
import { sharedDir, storiesModelDir, tinyRandomLlamaDir } from './helpers/paths';

interface Reference {
  input_ids: number[];
  last_position_logits: number[];
  first_position_logits_top5: { ids: number[]; values: number[] };
  greedy: { prompt: string; input_ids: number[]; output_ids: number[]; text: string };
}

const reference = JSON.parse(readFileSync(join(storiesModelDir, 'reference-logits.json'), 'utf8')) as Reference;

describe('Llama forward pass', () => {
  let model: LlamaModel;
  before(async () => {
    await initBackend('auto', silentLogger);
    model = LlamaModel.load(storiesModelDir);
  });
  after(() => model.dispose());

  test('last-position logits match PyTorch', async () => {
    const ids = tf.tensor2d([reference.input_ids], [1, reference.input_ids.length], 'int32');
    const logits = (await model.forward(ids).array())[0];
    const last = logits[logits.length - 1];
    const maxDifference = Math.max(...last.map((value, i) => Math.abs(value - reference.last_position_logits[i])));
    assert.ok(maxDifference < 1e-3, `max difference ${maxDifference}`);
    const first = logits[0];
    reference.first_position_logits_top5.ids.forEach((id, i) => {
      assert.ok(Math.abs(first[id] - reference.first_position_logits_top5.values[i]) < 1e-3, `first position id ${id}`);
    });
    ids.dispose();
  });

  test('greedy continuation with KV cache matches PyTorch', async () => {
    const tokenizer = ModelTokenizer.load(storiesModelDir, 1, [2]);
    const prompt = tokenizer.encode(reference.greedy.prompt);
    assert.deepEqual(prompt, reference.greedy.input_ids);
    const cache = model.newCache();
    const output = [...prompt];
    let input = prompt;
    while (output.length < reference.greedy.output_ids.length) {
      const logits = tf.tidy(() => model.forward(tf.tensor2d([input], [1, input.length], 'int32'), { cache }));
      const rows = (await logits.array())[0];
      logits.dispose();
      const last = rows[rows.length - 1];
      const next = last.indexOf(Math.max(...last));
      output.push(next);
      input = [next];
    }
    tf.dispose([...cache.keys, ...cache.values].filter(Boolean) as tf.Tensor[]);
    assert.deepEqual(output, reference.greedy.output_ids);
    assert.equal(tokenizer.decode(output), reference.greedy.text);
  });

  test('cached decoding equals a full forward pass', async () => {
    const ids = reference.input_ids;
    const full = (await model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).array())[0];
    const cache = model.newCache();
    model.forward(tf.tensor2d([ids.slice(0, 10)], [1, 10], 'int32'), { cache }).dispose();
    const rest = (await model.forward(tf.tensor2d([ids.slice(10)], [1, ids.length - 10], 'int32'), { cache }).array())[0];
    for (let t = 10; t < ids.length; t++) {
      const difference = Math.max(...rest[t - 10].map((value, i) => Math.abs(value - full[t][i])));
      assert.ok(difference < 1e-4, `position ${t}: ${difference}`);
    }
    tf.dispose([...cache.keys, ...cache.values].filter(Boolean) as tf.Tensor[]);
  });

  test('untied output head loads', async () => {
    const random = LlamaModel.load(tinyRandomLlamaDir);
    const logits = random.forward(tf.tensor2d([[1, 5, 9]], [1, 3], 'int32'));
    assert.deepEqual(logits.shape, [1, 3, 32000]);
    assert.ok((await logits.data()).every(Number.isFinite));
    random.dispose();
  });
});

describe('model config', () => {
  const llama = JSON.parse(readFileSync(join(storiesModelDir, 'config.json'), 'utf8')) as Record<string, unknown>;

  test('unsupported architecture lists supported ones', () => {
    assert.throws(
      () => readModelConfig(join(sharedDir, 'fixtures/models/tiny-gpt2-hf')),
      (error: unknown) => error instanceof EngramError && /GPT2LMHeadModel/.test(error.message) && /LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM/.test(error.message),
    );
  });

  test('Qwen2 enables q/k/v bias', () => {
    const config = parseModelConfig({ ...llama, architectures: ['Qwen2ForCausalLM'] });
    assert.equal(config.attentionBias, true);
  });

  test('Mistral is accepted', () => {
    assert.equal(parseModelConfig({ ...llama, architectures: ['MistralForCausalLM'] }).architecture, 'MistralForCausalLM');
  });

  test('grouped-query heads must divide', () => {
    assert.throws(() => parseModelConfig({ ...llama, num_key_value_heads: 3 }), /multiple of num_key_value_heads/);
  });

  test('Llama 3 rope scaling rescales low frequencies', () => {
    const plain = parseModelConfig({ ...llama, hidden_size: 512, num_attention_heads: 4, num_key_value_heads: 4, rope_theta: 500000 });
    const scaled = parseModelConfig({
      ...llama,
      hidden_size: 512,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      rope_theta: 500000,
      rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    });
    const a = ropeInverseFrequencies(plain);
    const b = ropeInverseFrequencies(scaled);
    assert.equal(b[0], a[0]);
    assert.ok(Math.abs(b[a.length - 1] - a[a.length - 1] / 8) < 1e-12);
  });

  test('unknown rope scaling is rejected', () => {
    assert.throws(() => parseModelConfig({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /"yarn" is not supported/);
  });

  test('missing config.json names the folder', () => {
    const dir = tempDir('noconfig');
    try {
      assert.throws(() => readModelConfig(dir.path), (error: unknown) => error instanceof EngramError && error.message.includes(dir.path));
    } finally {
      dir.remove();
    }
  });

  test('truncated weights give a clear error', () => {
    const dir = tempDir('truncated');
    try {
      const model = copyFixture(storiesModelDir, join(dir.path, 'model'));
      const weights = readFileSync(join(model, 'model.safetensors'));
      writeFileSync(join(model, 'model.safetensors'), weights.subarray(0, weights.length - 1000));
      assert.throws(() => LlamaModel.load(model), (error: unknown) => error instanceof EngramError && error.code === 'invalid-safetensors');
    } finally {
      dir.remove();
    }
  });
});

describe('tokenizer', () => {
  test('BOS is added once', () => {
    const tokenizer = ModelTokenizer.load(storiesModelDir, 1, [2]);
    const ids = tokenizer.encode('Once upon a time');
    assert.deepEqual(ids, [1, 403, 407, 261, 378]);
  });

  test('BOS comes from the config without a post-processor', () => {
    const dir = tempDir('nobos');
    try {
      const model = copyFixture(storiesModelDir, join(dir.path, 'model'));
      const tokenizerJson = JSON.parse(readFileSync(join(model, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
      tokenizerJson.post_processor = null;
      writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(tokenizerJson));
      const tokenizer = ModelTokenizer.load(model, 1, [2]);
      assert.deepEqual(tokenizer.encode('Once upon a time'), [1, 403, 407, 261, 378]);
      assert.deepEqual(tokenizer.encode('Once upon a time', false), [403, 407, 261, 378]);
    } finally {
      dir.remove();
    }
  });
});
