// Backend selection, the ScatterNd-based UnsortedSegmentSum kernel, tensor accounting and the
// doctor report. All tests share one process and therefore one tfjs engine: each test selects the
// backend it needs instead of relying on the previous test's choice.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  backendTensorBytes,
  backendTensorCount,
  describeNativeLoadError,
  initBackend,
  probeBackends,
  type BackendSelection,
} from '../src/engine/backend';
import { formatDoctorReport, parseNvidiaSmi, runDoctor } from '../src/engine/doctor';
import { EngramError } from '../src/engine/errors';
import { createLogger, silentLogger, type Logger } from '../src/engine/log';
import { storiesModelDir } from './helpers/paths';

const autoOrder = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'wasm', 'cpu'];

function collectingLogger(): { log: Logger; messages: string[] } {
  const messages: string[] = [];
  return { log: createLogger((level, message) => messages.push(`${level}: ${message}`), 'debug'), messages };
}

/** Path of the compiled tfjs-node binding, or undefined when the package or binding is absent. */
function nativeBindingPath(): string | undefined {
  try {
    const packageDir = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    const binding = join(packageDir, 'lib', 'napi-v8', 'tfjs_binding.node');
    return existsSync(binding) ? binding : undefined;
  } catch {
    return undefined;
  }
}

/** Sum of the rows of `table` selected by `ids`, weighted by `weights`: the gather gradient. */
function referenceGatherGradient(rows: number, width: number, ids: number[], weights: number[]): Float32Array {
  const gradient = new Float32Array(rows * width);
  ids.forEach((id, position) => {
    for (let column = 0; column < width; column++) {
      gradient[id * width + column] += weights[position * width + column];
    }
  });
  return gradient;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'arrays differ in length');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

test('auto selects a backend and lists skipped ones', async () => {
  const { log, messages } = collectingLogger();
  const selection = await initBackend('auto', log);

  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(selection.name), `unexpected backend ${selection.name}`);
  assert.equal(tf.getBackend(), selection.name);

  // The skipped entries are a prefix of the order, and the next entry is the selected one.
  const skippedCount = selection.skipped.length;
  assert.deepEqual(
    selection.skipped.map((entry) => entry.name),
    autoOrder.slice(0, skippedCount),
  );
  const selectedEntry = autoOrder[skippedCount];
  assert.equal(selectedEntry.startsWith('@tensorflow/tfjs-node') ? 'tensorflow' : selectedEntry, selection.name);
  for (const entry of selection.skipped) {
    assert.ok(entry.reason.length > 0, `${entry.name} has an empty reason`);
  }

  const selectedLine = messages.find((message) => message.startsWith('info: ') && message.includes(`'${selection.name}' selected`));
  assert.ok(selectedLine !== undefined, `no info line names the selection; got ${JSON.stringify(messages)}`);
  for (const entry of selection.skipped) {
    assert.ok(selectedLine.includes(entry.reason), `the info line omits the reason for ${entry.name}`);
  }
});

test('auto twice returns the same selection', async () => {
  const first: BackendSelection = await initBackend('auto', silentLogger);
  const second = await initBackend('auto', silentLogger);
  assert.equal(second, first);
  assert.equal(tf.getBackend(), first.name);
});

test('explicit wasm loads', async () => {
  const selection = await initBackend('wasm', silentLogger);
  assert.deepEqual(selection, { name: 'wasm', skipped: [] });
  assert.equal(tf.getBackend(), 'wasm');
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
  assert.deepEqual(Array.from(sum), [4, 6]);
});

test('explicit cpu loads', async () => {
  const selection = await initBackend('cpu', silentLogger);
  assert.deepEqual(selection, { name: 'cpu', skipped: [] });
  assert.equal(tf.getBackend(), 'cpu');
});

test('explicit tensorflow loads when built', async (t) => {
  if (nativeBindingPath() === undefined) {
    await assert.rejects(
      initBackend('tensorflow', silentLogger),
      (error: unknown) => error instanceof EngramError && error.code === 'backend-unavailable' && error.message.includes('npm run build:native'),
    );
    t.skip('@tensorflow/tfjs-node is not built here; run npm run build:native to enable this test');
    return;
  }
  const selection = await initBackend('tensorflow', silentLogger);
  assert.equal(selection.name, 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.ok(tf.findBackend('tensorflow'), "the project's tfjs-core does not hold the 'tensorflow' backend");
});

test('gather gradient on wasm matches cpu', async () => {
  const rows = 64;
  const width = 8;
  const table = Array.from({ length: rows * width }, (_, i) => Math.sin(i));
  // Repeated ids check that ScatterNd adds duplicate rows instead of overwriting them.
  const ids = [3, 1, 3, 0, 63, 3, 17, 1, 63, 40];
  const weights = Array.from({ length: ids.length * width }, (_, i) => Math.cos(i * 0.7));
  const expected = referenceGatherGradient(rows, width, ids, weights);

  const gradientOn = async (backend: 'wasm' | 'cpu'): Promise<Float32Array> => {
    await initBackend(backend, silentLogger);
    return tf.tidy(() => {
      const values = tf.tensor2d(table, [rows, width]);
      const indices = tf.tensor1d(ids, 'int32');
      const upstream = tf.tensor2d(weights, [ids.length, width]);
      const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, indices), upstream)))(values);
      return gradient.dataSync() as Float32Array;
    });
  };

  const wasmGradient = await gradientOn('wasm');
  const cpuGradient = await gradientOn('cpu');
  assert.ok(maxAbsDifference(wasmGradient, cpuGradient) < 1e-6, `wasm and cpu differ by ${maxAbsDifference(wasmGradient, cpuGradient)}`);
  assert.ok(maxAbsDifference(wasmGradient, expected) < 1e-6, `wasm differs from the reference by ${maxAbsDifference(wasmGradient, expected)}`);
});

test('gather gradient along axis 1 on wasm', async () => {
  await initBackend('wasm', silentLogger);
  // Gathering columns makes the gradient transpose around UnsortedSegmentSum.
  const gradient = tf.tidy(() => {
    const values = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const indices = tf.tensor1d([2, 0, 2], 'int32');
    return tf.grad((x: tf.Tensor) => tf.sum(tf.gather(x, indices, 1)))(values).arraySync();
  });
  assert.deepEqual(gradient, [
    [1, 0, 2],
    [1, 0, 2],
  ]);
});

test('segment sum rejects out-of-range ids', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend, silentLogger);
    assert.throws(
      () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2]), tf.tensor1d([0, 5], 'int32'), 3)),
      /segment id 5 at position 1 is outside \[0, 3\)/,
      backend,
    );
  }
});

test('segment sum handles rank-3 input', async () => {
  await initBackend('wasm', silentLogger);
  const summed = tf.tidy(() => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [4, 1, 2]);
    return tf.unsortedSegmentSum(x, tf.tensor1d([1, 0, 1, 1], 'int32'), 2).arraySync();
  });
  assert.deepEqual(summed, [[[3, 4]], [[13, 16]]]);
});

test('tensor count stays flat over 50 steps', async () => {
  await initBackend('wasm', silentLogger);
  const table = tf.variable(tf.randomNormal([256, 16], 0, 1, 'float32', 7));
  const ids = tf.tensor1d(Array.from({ length: 64 }, (_, i) => (i * 37) % 256), 'int32');
  const learningRate = 0.1;

  const step = (): number =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.gather(table, ids))) as tf.Scalar, [table]);
      table.assign(tf.sub(table, tf.mul(grads[table.name], learningRate)));
      return value.dataSync()[0];
    });

  const firstLoss = step();
  const countAfterFirst = backendTensorCount();
  const bytesAfterFirst = backendTensorBytes();
  let lastLoss = firstLoss;
  for (let i = 1; i < 50; i++) lastLoss = step();

  assert.equal(backendTensorCount(), countAfterFirst, 'tensor count grew during the loop');
  assert.equal(backendTensorBytes(), bytesAfterFirst, 'tensor bytes grew during the loop');
  assert.ok(lastLoss < firstLoss, `the loss did not fall: ${firstLoss} -> ${lastLoss}`);
  tf.dispose([table, ids]);
});

test('tensor bytes and count follow allocation', async () => {
  await initBackend('cpu', silentLogger);
  const countBefore = backendTensorCount();
  const bytesBefore = backendTensorBytes();
  const tensor = tf.zeros([1000], 'float32');
  assert.equal(backendTensorCount(), countBefore + 1);
  assert.equal(backendTensorBytes(), bytesBefore + 4000);
  tensor.dispose();
  assert.equal(backendTensorCount(), countBefore);
  assert.equal(backendTensorBytes(), bytesBefore);
});

test('probeBackends keeps the active backend', async () => {
  await initBackend('wasm', silentLogger);
  const probes = await probeBackends();
  assert.equal(tf.getBackend(), 'wasm');

  assert.deepEqual(
    probes.map((probe) => probe.name),
    autoOrder,
  );
  const byName = new Map(probes.map((probe) => [probe.name, probe]));
  assert.equal(byName.get('wasm')?.loads, true);
  assert.equal(byName.get('cpu')?.loads, true);
  for (const probe of probes) {
    if (!probe.loads) assert.ok((probe.reason ?? '').length > 0, `${probe.name} does not load but gives no reason`);
  }
  assert.equal(byName.get('@tensorflow/tfjs-node')?.loads, nativeBindingPath() !== undefined);
});

test('native load errors are classified', () => {
  const absent = Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node-gpu'\nRequire stack:\n- /x.js"), { code: 'MODULE_NOT_FOUND' });
  assert.equal(describeNativeLoadError('@tensorflow/tfjs-node-gpu', absent), '@tensorflow/tfjs-node-gpu is not installed');

  const brokenDependency = Object.assign(new Error("Cannot find module '@tensorflow/tfjs'\nRequire stack:\n- /y.js"), { code: 'MODULE_NOT_FOUND' });
  assert.equal(
    describeNativeLoadError('@tensorflow/tfjs-node', brokenDependency),
    "@tensorflow/tfjs-node is installed but failed to load: Cannot find module '@tensorflow/tfjs'",
  );

  const missingBinding = new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /m/lib/napi-v8/tfjs_binding.node. \nPlease run command ...');
  assert.equal(
    describeNativeLoadError('@tensorflow/tfjs-node', missingBinding),
    '@tensorflow/tfjs-node is installed but failed to load: The Node.js native addon module (tfjs_binding.node) can not be found at path: /m/lib/napi-v8/tfjs_binding.node.',
  );
});

test('nvidia-smi output is parsed', () => {
  const gpus = parseNvidiaSmi('NVIDIA H200, 143771, 0, 570.124.06\nNVIDIA GeForce RTX 4090, Founders, 24564, 1021, 550.54\n\n');
  assert.deepEqual(gpus, [
    { name: 'NVIDIA H200', memoryTotalMiB: 143771, memoryUsedMiB: 0, driverVersion: '570.124.06' },
    { name: 'NVIDIA GeForce RTX 4090, Founders', memoryTotalMiB: 24564, memoryUsedMiB: 1021, driverVersion: '550.54' },
  ]);
});

test('doctor report shape for a model folder', async () => {
  const report = await runDoctor({ modelDir: storiesModelDir }, silentLogger);

  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report must survive JSON unchanged');
  for (const check of report.checks) {
    assert.equal(typeof check.name, 'string');
    assert.equal(typeof check.ok, 'boolean');
    assert.ok(check.detail.length > 0, `${check.name} has an empty detail`);
  }
  const names = report.checks.map((check) => check.name);
  for (const required of ['Node.js', 'System', 'GPU', 'TensorFlow.js gradients', 'Backend wasm', 'Backend cpu', 'Backend for auto', 'Model config.json', 'Model weights', 'Model tokenizer.json']) {
    assert.ok(names.includes(required), `missing check ${required}`);
  }

  assert.equal(report.node.supported, true);
  assert.equal(report.node.version, process.versions.node);
  assert.ok(report.system.cpus > 0);
  assert.ok(report.system.totalMemoryBytes > 0);
  assert.deepEqual(report.model, { dir: storiesModelDir, architecture: 'LlamaForCausalLM', hiddenSize: 64, numLayers: 5, vocabSize: 512 });
  assert.ok(report.autoBackend !== null);
  assert.equal(report.ok, report.checks.every((check) => check.ok));
  assert.equal(report.ok, true, `failed checks: ${JSON.stringify(report.checks.filter((check) => !check.ok))}`);

  const text = formatDoctorReport(report);
  for (const name of names) assert.ok(text.includes(name), `formatted report omits ${name}`);
});

test('doctor fails a folder without a model', async () => {
  const report = await runDoctor({ modelDir: join(storiesModelDir, 'does-not-exist') }, silentLogger);
  assert.equal(report.ok, false);
  assert.equal(report.model, null);
  for (const name of ['Model config.json', 'Model weights', 'Model tokenizer.json']) {
    const check = report.checks.find((entry) => entry.name === name);
    assert.equal(check?.ok, false, `${name} should fail`);
  }
  assert.match(formatDoctorReport(report), /Not ready to train/);
});
