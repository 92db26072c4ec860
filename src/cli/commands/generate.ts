import { resolve } from 'node:path';
import type { Logger } from '../../engine/log';
import { EngramRuntime } from '../../engine/runtime';
import type { GenerateOptions } from '../../engine/types';
import { backendOption, intOption, numberOption, parseCommandArgs, UsageError } from '../args';
import { defaultModelDir } from '../paths';

export const generateHelp = `Usage: engram generate [options] PROMPT

Continues PROMPT with the model, with the pack attached when --pack is given.

Options:
  --model DIR         Hugging Face model folder (default: bundled stories260K-hf)
  --pack DIR          pack to attach
  --compare           also generate without the pack and print both side by side
  --max-tokens N      tokens to generate (default 32)
  --temperature X     0 for greedy decoding (default 0)
  --top-p X           nucleus sampling share, 0 < X <= 1 (default 1)
  --seed N            sampling seed (default 0)
  --backend NAME      auto, tensorflow, wasm or cpu (default auto)
  --json              print the result as JSON
  -h, --help          show this help`;

export async function runGenerate(argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    model: { type: 'string' },
    pack: { type: 'string' },
    compare: { type: 'boolean' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  const prompt = positionals.join(' ');
  if (prompt.length === 0) throw new UsageError('Pass a prompt, for example: engram generate "The capital of Peru is"');
  if (values.compare && !values.pack) throw new UsageError('--compare needs --pack: it compares the model with and without that pack.');
  const options: GenerateOptions = {
    maxNewTokens: intOption('max-tokens', values['max-tokens'], 32),
    temperature: numberOption('temperature', values.temperature, 0),
    topP: numberOption('top-p', values['top-p'], 1),
    seed: intOption('seed', values.seed, 0),
    stopAtEos: true,
  };
  if (options.maxNewTokens < 1) throw new UsageError(`--max-tokens must be at least 1, got ${options.maxNewTokens}.`);
  if (options.temperature < 0) throw new UsageError(`--temperature must be 0 or more, got ${options.temperature}.`);
  if (!(options.topP > 0 && options.topP <= 1)) throw new UsageError(`--top-p must be in (0, 1], got ${options.topP}.`);

  const runtime = await EngramRuntime.load(resolve(values.model ?? defaultModelDir), { backend: backendOption(values.backend), log });
  try {
    if (values.pack) runtime.attach(resolve(values.pack));
    const streaming = !values.json && !values.compare;
    let printed = 0;
    const withPack = await runtime.generate(prompt, options, streaming ? (text) => {
      process.stdout.write(text.slice(printed));
      printed = text.length;
    } : undefined);
    const base = values.compare ? await runtime.generate(prompt, options, undefined, false) : undefined;
    if (values.json) {
      process.stdout.write(JSON.stringify({ prompt, pack: runtime.attachedPack?.name ?? null, completion: withPack, baseCompletion: base }, null, 2) + '\n');
    } else if (values.compare) {
      process.stdout.write(`prompt: ${prompt}\nbase:   ${base}\npack:   ${withPack}\n`);
    } else {
      process.stdout.write('\n');
    }
    return 0;
  } finally {
    runtime.dispose();
  }
}
