/**
 * Environment check behind `engram doctor`: Node version, system, TensorFlow.js backends, NVIDIA
 * GPUs and, when given, a model folder. It loads the native backend packages in-process (see
 * `probeBackends`), so run it in the CLI or worker process, not in the extension host.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { probeBackends, tfjsRegistrationSource, type BackendProbe } from './backend';
import { isEngramError } from './errors';
import type { Logger } from './log';
import { readModelConfig } from './model/config';
import { openModelWeights } from './model/safetensors';

/** Lowest supported Node.js major version, as in the "engines" field of package.json. */
const minimumNodeMajor = 20;
const nvidiaSmiTimeoutMs = 10_000;

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GpuInfo {
  name: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
  driverVersion: string;
}

export interface DoctorReport {
  /** True when every check passed. Optional backends that do not load still pass (see `backendCheck`). */
  ok: boolean;
  node: { version: string; supported: boolean };
  system: {
    platform: string;
    arch: string;
    release: string;
    cpus: number;
    cpuModel: string;
    totalMemoryBytes: number;
    freeMemoryBytes: number;
  };
  backends: BackendProbe[];
  /** Backend that `--backend auto` would select, or null when none loads. */
  autoBackend: string | null;
  /** NVIDIA GPUs that nvidia-smi lists, or null when nvidia-smi is missing or failed. */
  gpus: GpuInfo[] | null;
  model: { dir: string; architecture: string; hiddenSize: number; numLayers: number; vocabSize: number } | null;
  checks: DoctorCheck[];
}

/** Collects the report. A failed check is recorded in the report and never raises. */
export async function runDoctor(options: { modelDir?: string }, log: Logger): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];

  const nodeVersion = process.versions.node;
  const nodeSupported = Number(nodeVersion.split('.')[0]) >= minimumNodeMajor;
  checks.push({ name: 'Node.js', ok: nodeSupported, detail: `v${nodeVersion} (${minimumNodeMajor} or newer required)` });

  const system = {
    platform: process.platform,
    arch: process.arch,
    release: os.release(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    freeMemoryBytes: os.freemem(),
  };
  checks.push({
    name: 'System',
    ok: true,
    detail: `${system.platform} ${system.arch} ${system.release}, ${system.cpus} CPUs (${system.cpuModel}), ${formatGiB(system.totalMemoryBytes)} memory, ${formatGiB(system.freeMemoryBytes)} free`,
  });

  const gpuCheck = await checkNvidiaGpus(log);
  checks.push(gpuCheck.check);
  const hasNvidiaGpu = gpuCheck.gpus !== null && gpuCheck.gpus.length > 0;

  const registrationsOk = tfjsRegistrationSource !== undefined;
  checks.push({
    name: 'TensorFlow.js gradients',
    ok: registrationsOk,
    detail: registrationsOk
      ? `registered from ${tfjsRegistrationSource}`
      : "not registered; run the bundles from 'npm run build', or install @tensorflow/tfjs@4.22.0 to run unbundled sources",
  });

  const backends = registrationsOk ? await probeBackends() : [];
  for (const probe of backends) checks.push(backendCheck(probe, backends, hasNvidiaGpu));
  const autoBackend = selectAutoBackend(backends);
  if (registrationsOk) {
    checks.push({ name: 'Backend for auto', ok: autoBackend !== null, detail: autoBackend ?? 'no backend loads' });
  }

  let model: DoctorReport['model'] = null;
  if (options.modelDir !== undefined) {
    const modelChecks = checkModelFolder(resolve(options.modelDir));
    model = modelChecks.model;
    checks.push(...modelChecks.checks);
  }

  const failed = checks.filter((check) => !check.ok);
  log.debug(`doctor: ${failed.length} of ${checks.length} checks failed${failed.length > 0 ? `: ${failed.map((check) => check.name).join(', ')}` : ''}`);
  return { ok: failed.length === 0, node: { version: nodeVersion, supported: nodeSupported }, system, backends, autoBackend, gpus: gpuCheck.gpus, model, checks };
}

/**
 * A native backend that does not load fails the check only where it should work: the GPU package
 * on a machine with an NVIDIA GPU. wasm and cpu ship with the extension, so they must load.
 */
function backendCheck(probe: BackendProbe, backends: BackendProbe[], hasNvidiaGpu: boolean): DoctorCheck {
  const name = `Backend ${probe.name}`;
  if (probe.loads) return { name, ok: true, detail: 'loads' };
  const reason = probe.reason ?? 'does not load';

  if (probe.name === '@tensorflow/tfjs-node-gpu') {
    if (hasNvidiaGpu) {
      return {
        name,
        ok: false,
        detail:
          `${reason}. The NVIDIA GPU stays unused: install @tensorflow/tfjs-node-gpu@4.22.0 with npm where storage.googleapis.com is reachable, ` +
          'with the CUDA and cuDNN versions its README lists',
      };
    }
    return { name, ok: true, detail: `${reason} (optional; it needs an NVIDIA GPU and none was found)` };
  }
  if (probe.name === '@tensorflow/tfjs-node') {
    const gpuLoads = backends.some((other) => other.name === '@tensorflow/tfjs-node-gpu' && other.loads);
    const hint = gpuLoads ? '' : "; run 'npm run build:native' (Linux x86_64) for faster large matrix products than wasm";
    return { name, ok: true, detail: `${reason} (optional${hint})` };
  }
  return { name, ok: false, detail: `${reason}. Reinstall the dependencies with 'npm install'.` };
}

/** Mirrors the order of `initBackend('auto')`: native GPU, native CPU, wasm, cpu. */
function selectAutoBackend(backends: BackendProbe[]): string | null {
  const first = backends.find((probe) => probe.loads);
  if (first === undefined) return null;
  return first.name.startsWith('@tensorflow/tfjs-node') ? 'tensorflow' : first.name;
}

// --- NVIDIA GPUs ------------------------------------------------------------------------------

async function checkNvidiaGpus(log: Logger): Promise<{ gpus: GpuInfo[] | null; check: DoctorCheck }> {
  const args = ['--query-gpu=name,memory.total,memory.used,driver_version', '--format=csv,noheader,nounits'];
  const result = await runCommand('nvidia-smi', args, nvidiaSmiTimeoutMs);

  if (result.kind === 'missing') {
    return { gpus: null, check: { name: 'GPU', ok: true, detail: 'nvidia-smi not found on PATH, so no NVIDIA GPU is used; training runs on the CPU' } };
  }
  if (result.kind === 'failed') {
    log.warn(`nvidia-smi failed: ${result.message}`);
    return { gpus: null, check: { name: 'GPU', ok: false, detail: `nvidia-smi failed: ${result.message}. Check the NVIDIA driver installation.` } };
  }

  const gpus = parseNvidiaSmi(result.stdout);
  if (gpus.length === 0) {
    return { gpus, check: { name: 'GPU', ok: true, detail: 'nvidia-smi lists no GPU' } };
  }
  const described = gpus.map((gpu) => `${gpu.name}, ${gpu.memoryTotalMiB} MiB (${gpu.memoryUsedMiB} MiB used), driver ${gpu.driverVersion}`);
  return { gpus, check: { name: 'GPU', ok: true, detail: described.join('; ') } };
}

/** Parses `name, memory.total, memory.used, driver_version` lines (MiB, no units, no header). */
export function parseNvidiaSmi(stdout: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < 4) continue;
    // The name may contain commas, so the last three fields are read from the end.
    const driverVersion = fields[fields.length - 1];
    const memoryUsedMiB = Number(fields[fields.length - 2]);
    const memoryTotalMiB = Number(fields[fields.length - 3]);
    const name = fields.slice(0, fields.length - 3).join(', ');
    gpus.push({ name, memoryTotalMiB, memoryUsedMiB, driverVersion });
  }
  return gpus;
}

type CommandResult = { kind: 'ok'; stdout: string } | { kind: 'missing' } | { kind: 'failed'; message: string };

function runCommand(file: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
      if (error === null) {
        resolvePromise({ kind: 'ok', stdout });
        return;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolvePromise({ kind: 'missing' });
        return;
      }
      const output = stderr.trim() || stdout.trim();
      const reason = error.killed ? `timed out after ${timeoutMs / 1000} s` : error.message.split('\n')[0];
      resolvePromise({ kind: 'failed', message: output !== '' ? `${reason}: ${output.split('\n')[0]}` : reason });
    });
  });
}

// --- Model folder -------------------------------------------------------------------------------

function checkModelFolder(modelDir: string): { model: DoctorReport['model']; checks: DoctorCheck[] } {
  const checks: DoctorCheck[] = [];
  let model: DoctorReport['model'] = null;

  try {
    const config = readModelConfig(modelDir);
    model = {
      dir: modelDir,
      architecture: config.architecture,
      hiddenSize: config.hiddenSize,
      numLayers: config.numLayers,
      vocabSize: config.vocabSize,
    };
    checks.push({
      name: 'Model config.json',
      ok: true,
      detail: `${config.architecture}, hidden size ${config.hiddenSize}, ${config.numLayers} layers, vocabulary ${config.vocabSize}`,
    });
  } catch (error) {
    checks.push({ name: 'Model config.json', ok: false, detail: describeError(error) });
  }

  try {
    const weights = openModelWeights(modelDir);
    try {
      const bytes = weights.files.reduce((total, file) => total + statSync(file).size, 0);
      const files = weights.files.map((file) => basename(file)).join(', ');
      checks.push({ name: 'Model weights', ok: true, detail: `${weights.names().length} tensors in ${files} (${formatBytes(bytes)})` });
    } finally {
      weights.close();
    }
  } catch (error) {
    checks.push({ name: 'Model weights', ok: false, detail: describeError(error) });
  }

  checks.push(checkTokenizer(modelDir));
  return { model, checks };
}

function checkTokenizer(modelDir: string): DoctorCheck {
  const name = 'Model tokenizer.json';
  const file = join(modelDir, 'tokenizer.json');
  if (!existsSync(file)) {
    const hint = existsSync(join(modelDir, 'tokenizer.model'))
      ? ' The folder has only tokenizer.model (SentencePiece); download the tokenizer.json of the same model.'
      : ' Download the tokenizer.json of the same model into the folder.';
    return { name, ok: false, detail: `${file} not found.${hint}` };
  }
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { model?: { type?: unknown } };
    const type = typeof json.model?.type === 'string' ? json.model.type : 'unknown';
    return { name, ok: true, detail: `present, model type ${type}` };
  } catch (error) {
    return { name, ok: false, detail: `${file} is not valid JSON (${(error as Error).message}). Download it again.` };
  }
}

function describeError(error: unknown): string {
  if (isEngramError(error)) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return formatGiB(bytes);
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

// --- Text output ----------------------------------------------------------------------------------

/** Formats the report as aligned text lines for a terminal, ending in a one-line verdict. */
export function formatDoctorReport(report: DoctorReport): string {
  const nameWidth = Math.max(...report.checks.map((check) => check.name.length));
  const lines = ['Engram Studio environment check', ''];
  for (const check of report.checks) {
    lines.push(`${check.ok ? ' ok ' : 'FAIL'}  ${check.name.padEnd(nameWidth)}  ${check.detail}`);
  }
  lines.push('');
  if (report.ok) {
    lines.push(`Ready to train${report.autoBackend !== null ? ` (--backend auto selects '${report.autoBackend}')` : ''}.`);
  } else {
    lines.push('Not ready to train: fix the FAIL lines above.');
  }
  return lines.join('\n');
}
