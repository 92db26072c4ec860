import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { silentLogger } from '../../src/engine/log';
import { LlamaModel } from '../../src/engine/model/llama';
import type { BackendName } from '../../src/engine/types';
import { smallTrainOptions, tempDir, trainQuietly } from './engine';
import { storiesModelDir } from './paths';

/** Registers the forward-parity and training tests for one backend; each test file is its own process. */
export function backendParityTests(backend: BackendName): void {
  test(`${backend} logits match PyTorch`, async () => {
    const selection = await initBackend(backend, silentLogger);
    assert.equal(selection.name, backend);
    const reference = JSON.parse(readFileSync(join(storiesModelDir, 'reference-logits.json'), 'utf8')) as { input_ids: number[]; last_position_logits: number[] };
    const model = LlamaModel.load(storiesModelDir);
    const logits = (await model.forward(tf.tensor2d([reference.input_ids], [1, reference.input_ids.length], 'int32')).array())[0];
    const last = logits[logits.length - 1];
    const maxDifference = Math.max(...last.map((value, i) => Math.abs(value - reference.last_position_logits[i])));
    assert.ok(maxDifference < 1e-3, `max difference ${maxDifference}`);
    model.dispose();
  });

  test(`${backend} trains a pack`, async () => {
    const dir = tempDir(`${backend}-train`);
    try {
      const { done } = await trainQuietly(smallTrainOptions(join(dir.path, 'p.engram'), { steps: 3, backend, preservation: { enabled: true, weight: 2, samples: 2, batchSize: 1 } }));
      assert.equal(done.summary.backend, backend);
      assert.ok(Number.isFinite(done.summary.finalLoss));
    } finally {
      dir.remove();
    }
  });
}
