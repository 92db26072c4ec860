// Measures training throughput (tokens/s) and peak RSS of the facts job on every TensorFlow.js
// backend that loads on this machine. Each backend runs in its own process, because a process
// can hold only one active backend.
//
// Usage: npm run bench -- [--steps N] [--cpu-steps N] [--json]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin/engram.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const steps = option('steps', 60);
// The pure-JS cpu backend is about two orders of magnitude slower, so it runs fewer steps.
const cpuSteps = option('cpu-steps', 6);
const json = args.includes('--json');

const results = [];
for (const backend of ['tensorflow', 'wasm', 'cpu']) {
  const workDir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const runSteps = backend === 'cpu' ? cpuSteps : steps;
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [cli, 'train', '--json', '--backend', backend, '--steps', String(runSteps), '--warmup', '2', '--out', join(workDir, 'bench.engram'), '--checkpoint-every', '0', '--eval-every', String(runSteps)],
    { cwd: workDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  rmSync(workDir, { recursive: true, force: true });
  if (run.status !== 0) {
    const reason = (run.stderr || '').trim().split('\n').filter((line) => line.startsWith('engram')).pop() ?? `exit code ${run.status}`;
    results.push({ backend, loads: false, reason });
    continue;
  }
  const events = run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const stepEvents = events.filter((event) => event.type === 'step');
  // Skip the first steps: they include kernel compilation and warm-up allocations.
  const measured = stepEvents.slice(Math.min(3, stepEvents.length - 1)).map((event) => event.tokensPerSecond).sort((a, b) => a - b);
  const resources = events.find((event) => event.type === 'resources');
  results.push({
    backend,
    loads: true,
    steps: runSteps,
    medianTokensPerSecond: Math.round(measured[Math.floor(measured.length / 2)]),
    secondsPerStep: Number((measured.length > 0 ? 1536 / measured[Math.floor(measured.length / 2)] : Number.NaN).toFixed(3)),
    peakRssMiB: resources ? Math.round(resources.maxRssBytes / 1048576) : undefined,
    wallSeconds: Math.round((Date.now() - started) / 1000),
  });
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
if (json) {
  process.stdout.write(JSON.stringify({ machine, job: 'stories260K + country-facts, batch 8 + 4 preservation samples, 128 tokens', results }, null, 2) + '\n');
} else {
  process.stdout.write(`Facts job (stories260K-hf, country-facts, 8 + 4 sequences of 128 tokens per step) on ${machine}\n\n`);
  process.stdout.write('| backend | steps | tokens/s (median) | s/step | peak RSS (MiB) |\n| --- | ---: | ---: | ---: | ---: |\n');
  for (const result of results) {
    if (!result.loads) process.stdout.write(`| ${result.backend} | - | does not load: ${result.reason} | | |\n`);
    else process.stdout.write(`| ${result.backend} | ${result.steps} | ${result.medianTokensPerSecond} | ${result.secondsPerStep} | ${result.peakRssMiB ?? '?'} |\n`);
  }
}
