import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from './helpers/engine';
import { countryFactsDir, repoRoot, storiesModelDir } from './helpers/paths';

const cli = join(repoRoot, 'bin/engram.js');

function engram(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('engram CLI', () => {
  const dir = tempDir('cli');
  const pack = join(dir.path, 'facts.engram');
  const smallTraining = ['--steps', '4', '--batch', '2', '--seq-len', '32', '--rows', '300', '--head-dim', '8', '--layers', '1,3', '--preservation-samples', '4', '--preservation-batch', '1', '--eval-fraction', '0.05', '--eval-every', '2'];

  before(() => {
    const trained = engram(['train', '--model', storiesModelDir, '--out', pack, ...smallTraining, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(trained.code, 0, trained.stderr);
  });
  after(() => dir.remove());

  test('help lists the commands', () => {
    const result = engram(['--help'], dir.path);
    assert.equal(result.code, 0);
    for (const command of ['train', 'eval', 'generate', 'inspect', 'doctor']) assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  });

  test('every command has help', () => {
    for (const command of ['train', 'eval', 'generate', 'inspect', 'doctor']) {
      const result = engram([command, '--help'], dir.path);
      assert.equal(result.code, 0, command);
      assert.match(result.stdout, new RegExp(`Usage: engram ${command}`));
    }
  });

  test('unknown option exits with 2', () => {
    const result = engram(['train', '--stepz', '3'], dir.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--stepz/);
  });

  test('bad number names the option', () => {
    const result = engram(['train', '--steps', 'many'], dir.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--steps must be an integer, got "many"/);
  });

  test('empty layer list is rejected', () => {
    const result = engram(['train', '--layers', '', '--out', join(dir.path, 'x.engram')], dir.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--layers must be a comma-separated list/);
  });

  test('empty pack name is rejected', () => {
    const result = engram(['train', '--name', ''], dir.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--name must be a non-empty name/);
  });

  test('existing checkpoint needs resume or restart', () => {
    const packDir = join(dir.path, 'ck.engram');
    const first = engram(['train', '--model', storiesModelDir, '--out', packDir, '--stop-after', '1', ...smallTraining, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(first.code, 0, first.stderr);
    const again = engram(['train', '--model', storiesModelDir, '--out', packDir, ...smallTraining, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Pass --resume to continue it, or --restart/);
    const resumed = engram(['train', '--model', storiesModelDir, '--out', packDir, '--resume', ...smallTraining, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming from the checkpoint/);
  });

  test('generation stops at the context length', () => {
    const result = engram(['generate', '--model', storiesModelDir, '--max-tokens', '100000', '--json', 'Once upon a time'], dir.path);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /context ends at 512 tokens/);
  });

  test('train writes the pack', () => {
    assert.ok(existsSync(join(pack, 'pack.json')));
    assert.ok(existsSync(join(pack, 'engram_adapters.safetensors')));
  });

  test('train refuses to overwrite a pack', () => {
    const result = engram(['train', '--model', storiesModelDir, '--out', pack, ...smallTraining, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /already exists.*--replace/);
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  test('train --json prints events', () => {
    const result = engram(['train', '--json', '--model', storiesModelDir, '--out', join(dir.path, 'json.engram'), ...smallTraining, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    assert.equal(events.filter((event) => event.type === 'step').length, 4);
    assert.ok(events.some((event) => event.type === 'done'));
  });

  test('eval scores probes with and without the pack', () => {
    const probes = join(dir.path, 'probes.tsv');
    writeFileSync(probes, 'prompt\tanswer\trelation\nThe capital of Peru is\tLima\tcapital\nPeru is a country in\tSouth America\tcontinent\n');
    const result = engram(['eval', '--json', '--model', storiesModelDir, '--pack', pack, '--probes', probes, join(countryFactsDir, 'facts.txt')], dir.path);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { probes: { base: { total: number }[]; pack: unknown[] }; text: { base: { loss: number }; pack: { loss: number } } };
    assert.equal(report.probes.base.length, 2);
    assert.equal(report.probes.pack.length, 2);
    assert.ok(report.text.pack.loss < report.text.base.loss, 'the pack lowers the loss on its own corpus');
  });

  test('eval rejects a probe file without header', () => {
    const probes = join(dir.path, 'bad.tsv');
    writeFileSync(probes, 'The capital of Peru is\tLima\n');
    const result = engram(['eval', '--model', storiesModelDir, '--probes', probes], dir.path);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /must name the columns "prompt" and "answer"/);
  });

  test('generate --compare prints both completions', () => {
    const result = engram(['generate', '--json', '--compare', '--max-tokens', '6', '--model', storiesModelDir, '--pack', pack, 'The capital of Peru is'], dir.path);
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout) as { completion: string; baseCompletion: string };
    assert.equal(typeof output.completion, 'string');
    assert.equal(typeof output.baseCompletion, 'string');
  });

  test('inspect --json reports every head', () => {
    const result = engram(['inspect', '--json', '--model', storiesModelDir, '--pack', pack, '--prompt', 'The capital of Peru is Lima.'], dir.path);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { layers: { layer: number; heads: unknown[]; gate?: { positions: number } }[] };
    assert.deepEqual(report.layers.map((layer) => layer.layer), [1, 3]);
    assert.equal(report.layers[0].heads.length, 16);
    assert.ok((report.layers[0].gate?.positions ?? 0) > 0);
  });

  test('doctor --json checks the model', () => {
    const result = engram(['doctor', '--json', '--model', storiesModelDir], dir.path);
    const report = JSON.parse(result.stdout) as { checks: { name: string; ok: boolean }[] };
    assert.ok(report.checks.length > 3);
    assert.equal(result.code, report.checks.every((check) => check.ok) ? 0 : 1);
  });

  test('missing model folder is a clear error', () => {
    const result = engram(['generate', '--model', join(dir.path, 'nowhere'), 'Hello'], dir.path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Model folder not found/);
  });
});
