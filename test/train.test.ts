import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { EngramMemory } from '../src/engine/engram/memory';
import { EngramError } from '../src/engine/errors';
import { silentLogger } from '../src/engine/log';
import { LlamaModel } from '../src/engine/model/llama';
import { DenseAdam } from '../src/engine/train/adam';
import { TrainStepper } from '../src/engine/train/step';
import { initBackend } from '../src/engine/backend';
import type { TrainStepEvent } from '../src/engine/types';
import { copyFixture, smallTrainOptions, tempDir, trainQuietly } from './helpers/engine';
import { openSafetensors, writeSafetensors } from '../src/engine/model/safetensors';
import { storiesModelDir } from './helpers/paths';

function stepLosses(events: { type: string }[]): number[] {
  return events.filter((event): event is TrainStepEvent => event.type === 'step').map((event) => event.loss);
}

describe('training', () => {
  const dir = tempDir('train');
  after(() => dir.remove());

  test('loss goes down on the facts corpus', async () => {
    const { events } = await trainQuietly(smallTrainOptions(join(dir.path, 'down.engram'), { steps: 30, learningRate: 5e-3 }));
    const losses = stepLosses(events);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first * 0.8, `first ${first}, last ${last}`);
  });

  test('resume continues exactly', async () => {
    const straight = await trainQuietly(smallTrainOptions(join(dir.path, 'straight.engram'), { steps: 8, preservation: { enabled: true, weight: 2, samples: 4, batchSize: 2 } }));
    const resumedDir = join(dir.path, 'resumed.engram');
    const firstHalf = await trainQuietly(smallTrainOptions(resumedDir, { steps: 8, stopAfterSteps: 4, preservation: { enabled: true, weight: 2, samples: 4, batchSize: 2 } }));
    assert.equal(firstHalf.done.cancelled, true);
    assert.ok(existsSync(`${resumedDir}.checkpoint`));
    const secondHalf = await trainQuietly(smallTrainOptions(resumedDir, { steps: 8, resume: true, preservation: { enabled: true, weight: 2, samples: 4, batchSize: 2 } }));
    const expected = stepLosses(straight.events);
    const resumed = [...stepLosses(firstHalf.events), ...stepLosses(secondHalf.events)];
    assert.equal(resumed.length, expected.length);
    resumed.forEach((loss, i) => assert.ok(Math.abs(loss - expected[i]) < 1e-5, `step ${i + 1}: ${loss} vs ${expected[i]}`));
    assert.equal(secondHalf.done.cancelled, false);
    assert.ok(!existsSync(`${resumedDir}.checkpoint`), 'checkpoint removed after the pack is written');
  });

  test('cancel writes a checkpoint and no pack', async () => {
    const packDir = join(dir.path, 'cancelled.engram');
    const controller = new AbortController();
    const { done } = await trainQuietly(smallTrainOptions(packDir, { steps: 50 }), controller.signal, (event) => {
      if (event.type === 'step' && event.step === 2) controller.abort();
    });
    assert.equal(done.cancelled, true);
    assert.equal(done.summary.steps, 2);
    assert.ok(existsSync(join(`${packDir}.checkpoint`, 'state.json')));
    assert.ok(!existsSync(packDir));
  });

  test('NaN loss stops and keeps the checkpoint', async () => {
    // Train two good steps, then resume on a copy of the model whose final norm contains a NaN.
    const model = copyFixture(storiesModelDir, join(dir.path, 'nan-model'));
    const packDir = join(dir.path, 'nan.engram');
    const options = smallTrainOptions(packDir, { modelDir: model, steps: 6, checkpointEvery: 1 });
    await trainQuietly({ ...options, stopAfterSteps: 2 });
    const weights = openSafetensors(join(model, 'model.safetensors'));
    const tensors = weights.tensorNames().map((name) => ({ name, shape: weights.info(name).shape, data: weights.readFloat32(name) }));
    weights.close();
    tensors.find((tensor) => tensor.name === 'model.norm.weight')!.data[0] = Number.NaN;
    writeSafetensors(join(model, 'model.safetensors'), tensors);

    await assert.rejects(
      trainQuietly({ ...options, resume: true }),
      (error: unknown) => error instanceof EngramError && error.code === 'non-finite-loss' && /step 3/.test(error.message) && error.message.includes('checkpoint'),
    );
    const state = JSON.parse(readFileSync(join(`${packDir}.checkpoint`, 'state.json'), 'utf8')) as { step: number };
    assert.equal(state.step, 2);
    assert.ok(!existsSync(packDir));
  });

  test('empty corpus is rejected', async () => {
    const empty = join(dir.path, 'empty.txt');
    writeFileSync(empty, '\n\n');
    await assert.rejects(trainQuietly(smallTrainOptions(join(dir.path, 'e.engram'), { corpus: [empty] })), (error: unknown) => error instanceof EngramError && error.code === 'invalid-corpus');
  });

  test('binary corpus is rejected with the reason', async () => {
    const binary = join(dir.path, 'data.txt');
    writeFileSync(binary, Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00]));
    await assert.rejects(trainQuietly(smallTrainOptions(join(dir.path, 'b.engram'), { corpus: [binary] })), (error: unknown) => error instanceof EngramError && /binary/.test(error.message));
  });

  test('layer beyond the model is rejected', async () => {
    await assert.rejects(
      trainQuietly(smallTrainOptions(join(dir.path, 'l.engram'), { engram: { layers: [1, 9], orders: [2, 3], headsPerOrder: 8, headDim: 8, rowsPerHead: 300, seed: 0 } })),
      (error: unknown) => error instanceof EngramError && /layer 9 does not exist/.test(error.message),
    );
  });

  test('sequence longer than the context is rejected', async () => {
    await assert.rejects(trainQuietly(smallTrainOptions(join(dir.path, 's.engram'), { seqLen: 1024 })), (error: unknown) => error instanceof EngramError && /context of 512 tokens/.test(error.message));
  });

  test('pack name must end in .engram', async () => {
    await assert.rejects(trainQuietly(smallTrainOptions(join(dir.path, 'plain'))), /must end in "\.engram"/);
  });

  test('backend tensor count stays constant', async () => {
    await initBackend('auto', silentLogger);
    const model = LlamaModel.load(storiesModelDir);
    const canonical = Int32Array.from({ length: 512 }, (_, i) => i);
    const memory = EngramMemory.initialise({ layers: [1, 3], orders: [2, 3], headsPerOrder: 8, headDim: 8, rowsPerHead: 300, seed: 0 }, 64, { canonical, size: 512, padCanonicalId: 2 });
    const optimizer = DenseAdam.forParams(memory.denseTensors());
    const stepper = new TrainStepper(model, memory, optimizer);
    const batch = (offset: number) => Array.from({ length: 2 }, (_, b) => Array.from({ length: 16 }, (_, t) => (offset + b * 31 + t * 7) % 512));
    const counts: number[] = [];
    for (let step = 0; step < 40; step++) {
      stepper.step({ corpus: batch(step), samples: batch(step + 100), preservationWeight: 2, learningRate: 1e-3 });
      counts.push(tf.memory().numTensors);
    }
    assert.equal(counts[39], counts[4]);
    memory.dispose();
    optimizer.dispose();
    model.dispose();
  });

  test('backend bytes do not grow with table size', async () => {
    await initBackend('auto', silentLogger);
    const model = LlamaModel.load(storiesModelDir);
    const canonical = Int32Array.from({ length: 512 }, (_, i) => i);
    const bytesFor = (rowsPerHead: number) => {
      const memory = EngramMemory.initialise({ layers: [1], orders: [2, 3], headsPerOrder: 8, headDim: 8, rowsPerHead, seed: 0 }, 64, { canonical, size: 512, padCanonicalId: 2 });
      const optimizer = DenseAdam.forParams(memory.denseTensors());
      new TrainStepper(model, memory, optimizer).step({ corpus: [[1, 2, 3, 4, 5, 6]], samples: [], preservationWeight: 0, learningRate: 1e-3 });
      const bytes = tf.memory().numBytes;
      memory.dispose();
      optimizer.dispose();
      return bytes;
    };
    assert.equal(bytesFor(200_000), bytesFor(500));
    model.dispose();
  });
});

describe('training limits', () => {
  test('tables larger than memory are rejected', async () => {
    const dir = tempDir('oom');
    try {
      await assert.rejects(
        trainQuietly(smallTrainOptions(join(dir.path, 'huge.engram'), { engram: { layers: [1, 3], orders: [2, 3], headsPerOrder: 8, headDim: 1024, rowsPerHead: 2 ** 30, seed: 0 } })),
        (error: unknown) => error instanceof EngramError && error.code === 'out-of-memory' && /Lower --rows/.test(error.message),
      );
    } finally {
      dir.remove();
    }
  });
});
