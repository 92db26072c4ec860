/**
 * Selection of the TensorFlow.js backend that runs the engine's tensors.
 *
 * Three backends exist: 'tensorflow' (native libtensorflow, provided by the optional packages
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node), 'wasm' and 'cpu'. One backend is active
 * per process. This module also installs a fast `UnsortedSegmentSum` kernel on wasm and cpu,
 * because the gradient of `tf.gather` (embedding and Engram table lookups) depends on it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { EngramError } from './errors';
import type { Logger } from './log';
import type { BackendChoice, BackendName } from './types';

export interface BackendSelection {
  name: BackendName;
  /** Faster backends that 'auto' tried first, with the reason each one did not load. */
  skipped: { name: string; reason: string }[];
}

export interface BackendProbe {
  /** A package name for the native backend, otherwise the backend name. */
  name: string;
  loads: boolean;
  reason?: string;
}

/** Packages that register the 'tensorflow' backend, in the order 'auto' tries them. */
const nativePackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
type NativePackage = (typeof nativePackages)[number];

const nativeBuildFix =
  "Run 'npm run build:native' in the Engram Studio folder (Linux x86_64; builds @tensorflow/tfjs-node without network access), " +
  "or 'npm install @tensorflow/tfjs-node@4.22.0' on a machine that can reach storage.googleapis.com, or choose the 'wasm' backend.";

type LoadResult = { loads: true } | { loads: false; reason: string };

/**
 * Outcome of each native package's first `require` in this process. A failed load is not
 * retried: it would register the same kernels again and fail the same way.
 */
const nativeLoadResults = new Map<NativePackage, LoadResult>();

let lastSelection: { choice: BackendChoice; selection: BackendSelection } | undefined;

/**
 * Selects and initializes a backend, then waits for `tf.ready()`.
 *
 * 'auto' tries tfjs-node-gpu, tfjs-node, wasm and cpu in that order and returns the first one
 * that initializes, listing the skipped ones with their reasons. An explicit choice that cannot
 * initialize raises an EngramError with code 'backend-unavailable'. Calling it again with the
 * same choice while that backend is still active returns the earlier selection unchanged.
 */
export async function initBackend(choice: BackendChoice, log: Logger): Promise<BackendSelection> {
  if (lastSelection !== undefined && lastSelection.choice === choice && tf.getBackend() === lastSelection.selection.name) {
    return lastSelection.selection;
  }
  requireTfjsRegistrations();
  prepareBackends(log);

  const selection = choice === 'auto' ? await selectAutomatically(log) : await selectExplicitly(choice);
  await tf.ready();

  if (selection.skipped.length > 0) {
    const reasons = selection.skipped.map((entry) => `${entry.name}: ${entry.reason}`).join('; ');
    log.info(`TensorFlow.js backend '${selection.name}' selected (${choice}); skipped ${reasons}`);
  } else {
    log.info(`TensorFlow.js backend '${selection.name}' selected (${choice})`);
  }
  if (selection.name === 'cpu' && choice === 'auto') {
    log.warn("Training runs on the pure-JavaScript 'cpu' backend; its matrix products were measured about 30 times slower than those of 'wasm'.");
  }

  lastSelection = { choice, selection };
  return selection;
}

async function selectAutomatically(log: Logger): Promise<BackendSelection> {
  const skipped: { name: string; reason: string }[] = [];

  for (const id of nativePackages) {
    const result = loadNativePackage(id);
    if (result.loads && (await tf.setBackend('tensorflow'))) {
      return { name: 'tensorflow', skipped };
    }
    const reason = result.loads ? "tf.setBackend('tensorflow') returned false" : result.reason;
    log.debug(`Backend 'tensorflow' from ${id} is not available: ${reason}`);
    skipped.push({ name: id, reason });
  }

  const wasm = await activateWasm();
  if (wasm.loads) {
    return { name: 'wasm', skipped };
  }
  log.debug(`Backend 'wasm' is not available: ${wasm.reason}`);
  skipped.push({ name: 'wasm', reason: wasm.reason });

  if (!(await tf.setBackend('cpu'))) {
    throw new EngramError('backend-unavailable', "No TensorFlow.js backend could be initialized, not even 'cpu'. Reinstall the extension's dependencies with 'npm install'.");
  }
  return { name: 'cpu', skipped };
}

async function selectExplicitly(name: BackendName): Promise<BackendSelection> {
  if (name === 'tensorflow') {
    const reasons: string[] = [];
    for (const id of nativePackages) {
      const result = loadNativePackage(id);
      if (result.loads && (await tf.setBackend('tensorflow'))) {
        return { name, skipped: [] };
      }
      reasons.push(result.loads ? `${id}: tf.setBackend('tensorflow') returned false` : result.reason);
    }
    throw new EngramError('backend-unavailable', `Backend 'tensorflow' is not available: ${reasons.join('; ')}. ${nativeBuildFix}`);
  }

  if (name === 'wasm') {
    const wasm = await activateWasm();
    if (!wasm.loads) {
      throw new EngramError(
        'backend-unavailable',
        `Backend 'wasm' failed to initialize: ${wasm.reason}. Reinstall @tensorflow/tfjs-backend-wasm with 'npm install', or choose the 'cpu' backend.`,
      );
    }
    return { name, skipped: [] };
  }

  if (!(await tf.setBackend('cpu'))) {
    throw new EngramError('backend-unavailable', "Backend 'cpu' failed to initialize. Reinstall @tensorflow/tfjs-backend-cpu with 'npm install'.");
  }
  return { name, skipped: [] };
}

/** Bytes held by all live tensors on the active backend (`tf.memory().numBytes`). */
export function backendTensorBytes(): number {
  return tf.memory().numBytes;
}

/** Number of live tensors (`tf.memory().numTensors`). A count that grows per step is a leak. */
export function backendTensorCount(): number {
  return tf.memory().numTensors;
}

/**
 * Reports whether each backend loads in this process, for `engram doctor`.
 *
 * It keeps the active backend active, so it is safe while a training run awaits between steps:
 * wasm and cpu are tried on instances outside the engine. A native package that loads stays
 * loaded, and it selects 'tensorflow' when no backend was active before.
 */
export async function probeBackends(): Promise<BackendProbe[]> {
  requireTfjsRegistrations();
  prepareBackends(undefined);
  const probes: BackendProbe[] = [];

  const previous = activeBackendName();
  for (const id of nativePackages) {
    const result = loadNativePackage(id);
    probes.push(toProbe(id, result));
  }
  // tfjs-node selects its backend while it loads. Switching back to an initialized backend
  // completes synchronously, so no other task runs on the wrong backend in between.
  if (previous !== undefined && tf.getBackend() !== previous) {
    void tf.setBackend(previous);
  }

  probes.push(toProbe('wasm', await probeBackendInstance('wasm')));
  probes.push(toProbe('cpu', await probeBackendInstance('cpu')));
  return probes;
}

function toProbe(name: string, result: LoadResult): BackendProbe {
  return result.loads ? { name, loads: true } : { name, loads: false, reason: result.reason };
}

/** Creates and disposes an instance of a backend that is not initialized in the engine yet. */
async function probeBackendInstance(name: 'wasm' | 'cpu'): Promise<LoadResult> {
  if (tf.engine().registry[name] !== undefined) return { loads: true };
  const factory = tf.findBackendFactory(name);
  if (factory === null) {
    const packageName = name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu';
    return { loads: false, reason: `${packageName} registered no '${name}' backend` };
  }
  try {
    const instance = await factory();
    instance.dispose();
    return { loads: true };
  } catch (error) {
    return { loads: false, reason: `initialization failed: ${firstLine(error)}` };
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}

/** Name of the initialized active backend, or undefined when none is (or a failed one is). */
function activeBackendName(): string | undefined {
  const name = tf.getBackend();
  return name !== null && name !== undefined && tf.engine().registry[name] !== undefined ? name : undefined;
}

// --- Gradients and chained ops ---------------------------------------------------------------

/**
 * Source of the gradient functions and the chained tensor methods (`x.add(y)`), or undefined
 * when they are missing. The CommonJS build of tfjs-core 4.22.0 (its package "main") contains
 * neither. The ES modules that register them (dist/register_all_gradients.js) use extensionless
 * relative imports, which Node's own loader cannot resolve, so they load only where a bundler
 * has inlined them (scripts/build.mjs does). Unbundled code falls back to the CommonJS build of
 * @tensorflow/tfjs, which registers both on the registries that all tfjs-core copies share.
 */
export const tfjsRegistrationSource: string | undefined = registerGradientsAndChainedOps();

function registerGradientsAndChainedOps(): string | undefined {
  if (hasTfjsRegistrations()) return 'already registered';
  try {
    // The literal paths let esbuild inline these modules when it bundles tfjs-core subpaths.
    require('@tensorflow/tfjs-core/dist/register_all_gradients');
    require('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
    if (hasTfjsRegistrations()) return '@tensorflow/tfjs-core/dist/register_all_gradients';
  } catch {
    // Plain Node: ERR_MODULE_NOT_FOUND (require of ESM) or ERR_REQUIRE_ESM (Node before 20.19).
  }
  try {
    // A variable name keeps bundlers from inlining the whole @tensorflow/tfjs package.
    const unionPackage = '@tensorflow/tfjs';
    require(unionPackage);
    if (hasTfjsRegistrations()) return unionPackage;
  } catch {
    // Not installed.
  }
  return undefined;
}

function hasTfjsRegistrations(): boolean {
  const prototype = tf.Tensor.prototype as unknown as Record<string, unknown>;
  return tf.getGradient('GatherV2') !== undefined && typeof prototype.add === 'function';
}

function requireTfjsRegistrations(): void {
  if (tfjsRegistrationSource !== undefined || hasTfjsRegistrations()) return;
  throw new EngramError(
    'backend-unavailable',
    'TensorFlow.js gradients and chained tensor methods are not registered: the CommonJS build of @tensorflow/tfjs-core 4.22.0 ' +
      "has neither. Run the esbuild bundles that 'npm run build' writes to dist/, which include them, or install @tensorflow/tfjs@4.22.0 " +
      'to run the engine from unbundled sources.',
  );
}

// --- Native backend -----------------------------------------------------------------------

function loadNativePackage(id: NativePackage): LoadResult {
  const cached = nativeLoadResults.get(id);
  if (cached !== undefined) return cached;
  const loadedOther = nativePackages.find((other) => other !== id && nativeLoadResults.get(other)?.loads === true);
  if (loadedOther !== undefined) {
    // Both packages register the same backend name and kernels, so only one may load.
    return { loads: false, reason: `${id} was not loaded because ${loadedOther} already provides the 'tensorflow' backend in this process` };
  }

  // Level 1 hides libtensorflow's INFO log lines but keeps warnings and errors. A value the user
  // set is kept. NOTE: the oneDNN notice of the tensorflow-cpu 2.21 library still reaches
  // stderr at every level from 1 to 3.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';

  let result: LoadResult;
  try {
    // The package name is a variable so that bundlers leave this require to run time.
    require(id);
    if (tf.findBackendFactory('tensorflow') !== null) {
      result = { loads: true };
    } else {
      result = {
        loads: false,
        reason:
          `${id} loaded, but it registered its backend on a different copy of @tensorflow/tfjs-core than ` +
          `${require.resolve('@tensorflow/tfjs-core')}; run 'npm dedupe' or 'npm run build:native' so that only one copy is installed`,
      };
    }
  } catch (error) {
    result = { loads: false, reason: describeNativeLoadError(id, error) };
    discardPartialNativeRegistration();
  }
  nativeLoadResults.set(id, result);
  return result;
}

/**
 * Describes why `require(id)` failed. An optional dependency whose install failed is absent
 * (MODULE_NOT_FOUND naming the package itself). A present package whose native binding or
 * libtensorflow is missing throws its own error, of which the first line names the file.
 */
export function describeNativeLoadError(id: string, error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = firstLine(error);
  if (code === 'MODULE_NOT_FOUND' && message.includes(`'${id}'`)) {
    return `${id} is not installed`;
  }
  const shortened = message.length > 400 ? `${message.slice(0, 400)}…` : message;
  return `${id} is installed but failed to load: ${shortened}`;
}

/**
 * tfjs-node registers its 'tensorflow' kernels before it loads the binding, so a failed load
 * leaves them behind. Removing them lets the next package register its own without tfjs-core
 * printing an "already registered" warning for each kernel.
 */
function discardPartialNativeRegistration(): void {
  for (const kernel of tf.getKernelsForBackend('tensorflow')) {
    tf.unregisterKernel(kernel.kernelName, 'tensorflow');
  }
  if (tf.findBackendFactory('tensorflow') !== null && tf.engine().registry.tensorflow === undefined) {
    tf.removeBackend('tensorflow');
  }
}

// --- WebAssembly backend --------------------------------------------------------------------

let wasmPrepared = false;
let wasmInitError: unknown;

/**
 * Points the wasm backend at the `.wasm` files of the installed package and wraps its factory
 * to keep the initialization error, which `tf.setBackend` reduces to `false`.
 */
function prepareWasm(log: Logger | undefined): void {
  if (wasmPrepared) return;
  wasmPrepared = true;

  const distDir = wasmDistDir();
  if (distDir !== undefined) {
    try {
      setWasmPaths(distDir);
    } catch (error) {
      // setWasmPaths throws once the wasm backend has initialized, when the paths are in use already.
      log?.debug(`setWasmPaths(${distDir}) was not applied: ${(error as Error).message}`);
    }
  }

  const entry = tf.engine().registryFactory.wasm;
  if (entry === undefined || tf.engine().registry.wasm !== undefined) return;
  const factory = entry.factory;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        return await factory();
      } catch (error) {
        wasmInitError = error;
        throw error;
      }
    },
    entry.priority,
  );
}

/**
 * Folder holding tfjs-backend-wasm's `.wasm` files, with a trailing slash. It is resolved from
 * node_modules at run time because the bundles in dist/ keep @tensorflow packages external.
 */
function wasmDistDir(): string | undefined {
  try {
    const packageDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    return join(packageDir, 'dist') + '/';
  } catch {
    return undefined;
  }
}

async function activateWasm(): Promise<LoadResult> {
  const distDir = wasmDistDir();
  if (distDir === undefined) {
    return { loads: false, reason: '@tensorflow/tfjs-backend-wasm is not installed' };
  }
  wasmInitError = undefined;
  if (await tf.setBackend('wasm')) {
    return { loads: true };
  }
  // A failed setBackend leaves tfjs-core without an active backend. The next operation would
  // silently pick one by priority, so the caller must select another one explicitly.
  const cause = wasmInitError !== undefined ? firstLine(wasmInitError) : undefined;
  const missing = existsSync(join(distDir, 'tfjs-backend-wasm-simd.wasm')) ? '' : ` (no tfjs-backend-wasm-simd.wasm in ${distDir})`;
  return { loads: false, reason: `tf.setBackend('wasm') returned false${cause !== undefined ? `: ${cause}` : ''}${missing}` };
}

// --- UnsortedSegmentSum kernel ----------------------------------------------------------------

/**
 * `UnsortedSegmentSum` as a single `ScatterNd`, which adds the rows of `x` that share a segment
 * id. The gradient of `tf.gather` is this sum over the gathered indices. tfjs-backend-wasm
 * 4.22.0 has no kernel for it, and tfjs-backend-cpu 4.22.0 compares every id with every
 * segment, O(segments × N). The gradient of a 2048×64 table gathered at 2048 ids took 33 s
 * with that kernel and 65 ms with this one (Node 20, 2-core x86-64).
 *
 * Segment ids must lie in [0, numSegments); TensorFlow drops out-of-range ids, this raises.
 */
function unsortedSegmentSumByScatter(backendName: 'wasm' | 'cpu'): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const count = segmentIds.shape.reduce((product, size) => product * size, 1);
    if (segmentIds.shape.length !== 1 || x.shape[0] !== count) {
      throw new Error(`UnsortedSegmentSum: expected 1-D segmentIds of length x.shape[0] = ${x.shape[0]}, got shape [${segmentIds.shape.join(', ')}]`);
    }

    const ids = (backend as tf.KernelBackend).readSync(segmentIds.dataId) as Int32Array;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= numSegments) {
        throw new Error(`UnsortedSegmentSum: segment id ${ids[i]} at position ${i} is outside [0, ${numSegments})`);
      }
    }

    const scatterNd = tf.getKernel('ScatterNd', backendName);
    if (scatterNd === undefined) {
      throw new Error(`UnsortedSegmentSum: backend '${backendName}' has no ScatterNd kernel`);
    }
    // ScatterNd wants indices of shape [N, 1]. Both backends store data flat per dataId, so the
    // same data viewed with that shape needs no reshape kernel and no intermediate tensor.
    const indices: tf.TensorInfo = { dataId: segmentIds.dataId, shape: [count, 1], dtype: 'int32' };
    const outputShape = [numSegments, ...x.shape.slice(1)];
    return scatterNd.kernelFunc({ inputs: { indices, updates: x }, backend, attrs: { shape: outputShape } }) as tf.TensorInfo;
  };
}

let segmentSumKernelsInstalled = false;

function installSegmentSumKernels(): void {
  if (segmentSumKernelsInstalled) return;
  segmentSumKernelsInstalled = true;
  for (const backendName of ['wasm', 'cpu'] as const) {
    if (tf.getKernel('UnsortedSegmentSum', backendName) !== undefined) {
      tf.unregisterKernel('UnsortedSegmentSum', backendName);
    }
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSumByScatter(backendName) });
  }
}

function prepareBackends(log: Logger | undefined): void {
  installSegmentSumKernels();
  prepareWasm(log);
}
