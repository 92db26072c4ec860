import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultTrainOptions } from '../../engine/defaults';
import type { Logger } from '../../engine/log';
import { trainPack } from '../../engine/train/trainer';
import type { TrainEvent } from '../../engine/types';
import { backendOption, intListOption, intOption, numberOption, parseCommandArgs, UsageError } from '../args';
import { defaultCorpus, defaultModelDir, defaultPacksDir } from '../paths';
import { formatSeconds, ProgressBar } from '../progress';

export const trainHelp = `Usage: engram train [options] [CORPUS...]

Trains an Engram knowledge pack on CORPUS (files, folders or glob patterns of .txt, .md and
.jsonl files) while the model stays frozen. With no arguments it trains the bundled
stories260K model on the bundled country-facts corpus.

Options:
  --model DIR                 Hugging Face model folder (default: bundled stories260K-hf)
  --out DIR                   pack folder to write, ending in .engram
                              (default: .engram/packs/<name>.engram)
  --name NAME                 pack name when --out is not given (default: country-facts, or
                              the first corpus file's name)
  --replace                   overwrite an existing pack
  --steps N                   optimisation steps (default 1000)
  --batch N                   corpus sequences per step (default 8)
  --seq-len N                 tokens per sequence (default 128)
  --lr X                      learning rate of the dense parameters; tables use 5x (default 3e-3)
  --warmup N                  linear warmup steps (default 30)
  --layers LIST               0-based decoder blocks that get memory (default 1,2,3)
  --rows N                    rows per hash head, rounded up to distinct primes (default 40000)
  --head-dim N                width of one head's row (default 32)
  --heads N                   hash heads per n-gram order (default 8)
  --seed N                    seed for hashing, initial weights and batches (default 0)
  --eval-fraction X           share of the corpus held out for the eval loss (default 0.02)
  --eval-every N              steps between eval-loss measurements (default 50)
  --checkpoint-every N        steps between checkpoints, 0 for none (default 200)
  --resume                    continue from the checkpoint next to the pack
  --restart                   discard that checkpoint and start over
  --no-preservation           train for recall only, without the preservation term
  --preservation-weight X     weight of the KL term on base-model samples (default 2)
  --preservation-samples N    sequences sampled from the base model (default 400)
  --preservation-batch N      sampled sequences per step (default 4)
  --backend NAME              auto, tensorflow, wasm or cpu (default auto)
  --stop-after N              stop after N steps and keep a checkpoint (for testing resume)
  --json                      print every training event as one JSON line on stdout
  -h, --help                  show this help

Ctrl+C finishes the current step, writes a checkpoint and exits; --resume continues from it.`;

export async function runTrain(argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    model: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    replace: { type: 'boolean' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    'seq-len': { type: 'string' },
    lr: { type: 'string' },
    warmup: { type: 'string' },
    layers: { type: 'string' },
    rows: { type: 'string' },
    'head-dim': { type: 'string' },
    heads: { type: 'string' },
    seed: { type: 'string' },
    'eval-fraction': { type: 'string' },
    'eval-every': { type: 'string' },
    'checkpoint-every': { type: 'string' },
    resume: { type: 'boolean' },
    restart: { type: 'boolean' },
    'no-preservation': { type: 'boolean' },
    'preservation-weight': { type: 'string' },
    'preservation-samples': { type: 'string' },
    'preservation-batch': { type: 'string' },
    backend: { type: 'string' },
    'stop-after': { type: 'string' },
    json: { type: 'boolean' },
  });
  const corpus = positionals.length > 0 ? positionals : [defaultCorpus];
  const name = values.name ?? (positionals.length > 0 ? baseName(positionals[0]) : 'country-facts');
  if (name.trim() === '' || name.startsWith('.') || /[\\/]/.test(name)) {
    throw new UsageError(`--name must be a non-empty name without path separators or a leading dot, got "${name}".`);
  }
  const packDir = resolve(values.out ?? join(defaultPacksDir, `${name}.engram`));
  const defaults = defaultTrainOptions({ modelDir: '', corpus: [], packDir: '' });
  const options = defaultTrainOptions({
    modelDir: resolve(values.model ?? defaultModelDir),
    corpus,
    packDir,
    replace: values.replace ?? false,
    steps: intOption('steps', values.steps, defaults.steps),
    batchSize: intOption('batch', values.batch, defaults.batchSize),
    seqLen: intOption('seq-len', values['seq-len'], defaults.seqLen),
    learningRate: numberOption('lr', values.lr, defaults.learningRate),
    warmupSteps: intOption('warmup', values.warmup, defaults.warmupSteps),
    evalFraction: numberOption('eval-fraction', values['eval-fraction'], defaults.evalFraction),
    evalEvery: intOption('eval-every', values['eval-every'], defaults.evalEvery),
    checkpointEvery: intOption('checkpoint-every', values['checkpoint-every'], defaults.checkpointEvery),
    resume: values.resume ?? false,
    backend: backendOption(values.backend),
    stopAfterSteps: values['stop-after'] === undefined ? undefined : intOption('stop-after', values['stop-after'], 0),
    engram: {
      ...defaults.engram,
      layers: intListOption('layers', values.layers, defaults.engram.layers),
      rowsPerHead: intOption('rows', values.rows, defaults.engram.rowsPerHead),
      headDim: intOption('head-dim', values['head-dim'], defaults.engram.headDim),
      headsPerOrder: intOption('heads', values.heads, defaults.engram.headsPerOrder),
      seed: intOption('seed', values.seed, defaults.engram.seed),
    },
    preservation: {
      enabled: !(values['no-preservation'] ?? false),
      weight: numberOption('preservation-weight', values['preservation-weight'], defaults.preservation.weight),
      samples: intOption('preservation-samples', values['preservation-samples'], defaults.preservation.samples),
      batchSize: intOption('preservation-batch', values['preservation-batch'], defaults.preservation.batchSize),
    },
  });

  const checkpointDir = `${packDir}.checkpoint`;
  if (values.resume && values.restart) throw new UsageError('--resume and --restart exclude each other: pass one of them.');
  if (existsSync(join(checkpointDir, 'state.json')) && !values.resume) {
    if (!values.restart) {
      throw new UsageError(`A checkpoint of an earlier run of this pack is in ${checkpointDir}. Pass --resume to continue it, or --restart to discard it and start over.`);
    }
    log.info(`Discarding the checkpoint in ${checkpointDir}`);
    rmSync(checkpointDir, { recursive: true, force: true });
  }

  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping after this step and writing a checkpoint (press Ctrl+C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  let bar: ProgressBar | undefined;
  const json = values.json ?? false;
  const onEvent = (event: TrainEvent) => {
    if (json) {
      process.stdout.write(JSON.stringify(event) + '\n');
      return;
    }
    switch (event.type) {
      case 'phase':
        if (event.phase !== 'training' && !(event.phase === 'sampling' && event.progress !== undefined && event.progress > 0 && event.progress < 1)) log.info(event.message);
        break;
      case 'start':
        log.info(`Backend ${event.backend}; ${event.trainTokens} training tokens, ${event.evalTokens} held out; tables of ${event.tableRows.join(', ')} rows at layers ${event.layers.join(', ')}`);
        bar = new ProgressBar(event.totalSteps, 'train');
        bar.update(event.startStep);
        break;
      case 'step': {
        const parts = [`loss ${event.loss.toFixed(3)}`];
        if (event.preservationLoss !== undefined) parts.push(`kl ${event.preservationLoss.toFixed(4)}`);
        if (event.evalLoss !== undefined) parts.push(`eval ${event.evalLoss.toFixed(3)}`);
        parts.push(`${Math.round(event.tokensPerSecond)} tok/s`);
        bar?.update(event.step, parts.join(' '));
        break;
      }
      case 'checkpoint':
        log.debug(`Checkpoint at step ${event.step} in ${event.path}`);
        break;
      case 'done':
        bar?.finish();
        if (event.cancelled) {
          log.info(`Stopped at step ${event.summary.steps}. A checkpoint was written; run the same command with --resume to continue.`);
        } else {
          log.info(`Pack written to ${event.packDir} (${event.summary.steps} steps in ${formatSeconds(event.summary.seconds)}, final loss ${event.summary.finalLoss.toFixed(3)})`);
        }
        break;
      case 'row-hits':
        break;
    }
  };
  try {
    const done = await trainPack(options, { onEvent, signal: controller.signal, log });
    if (json) process.stdout.write(JSON.stringify({ type: 'resources', maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
    return done.cancelled && controller.signal.aborted ? 130 : 0;
  } finally {
    bar?.finish();
    process.off('SIGINT', onInterrupt);
  }
}

function baseName(path: string): string {
  const last = path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? 'pack';
  const stem = last.replace(/\.[^.]*$/, '').replace(/[*?]/g, '');
  return stem.length > 0 ? stem : 'pack';
}
