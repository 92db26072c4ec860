import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { meanNextTokenLoss, type ProbeResult, scoreProbes, summariseProbes } from '../../engine/eval';
import type { Logger } from '../../engine/log';
import { readProbes } from '../../engine/probes';
import { EngramRuntime } from '../../engine/runtime';
import { loadCorpus } from '../../engine/train/corpus';
import { backendOption, intOption, parseCommandArgs, UsageError } from '../args';
import { defaultModelDir } from '../paths';

export const evalHelp = `Usage: engram eval [options] [FILE...]

Measures the mean next-token loss and perplexity on FILEs, and with --probes the share of
probes the model answers, for the base model and, with --pack, with the pack attached.

Options:
  --model DIR        Hugging Face model folder (default: bundled stories260K-hf)
  --pack DIR         pack to attach
  --probes FILE      tab-separated probes with a header line "prompt<TAB>answer<TAB>relation"
                     (relation optional); a probe passes when greedy decoding from the
                     prompt reproduces the whole answer
  --lines N          score each of the first N non-empty lines of the FILEs as its own text
                     (default: whole documents, cut into --seq-len chunks)
  --seq-len N        tokens per scored chunk (default 256)
  --show-failures N  list up to N failed probes (default 0)
  --backend NAME     auto, tensorflow, wasm or cpu (default auto)
  --json             print the result as JSON
  -h, --help         show this help`;

interface LossRow {
  loss: number;
  perplexity: number;
  tokens: number;
}

export async function runEval(argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    model: { type: 'string' },
    pack: { type: 'string' },
    probes: { type: 'string' },
    lines: { type: 'string' },
    'seq-len': { type: 'string' },
    'show-failures': { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length === 0 && !values.probes) throw new UsageError('Nothing to evaluate: pass text files, --probes FILE, or both.');
  // Read the probe file first, so a bad file fails before the model loads.
  const probes = values.probes ? readProbes(resolve(values.probes)) : undefined;
  const runtime = await EngramRuntime.load(resolve(values.model ?? defaultModelDir), { backend: backendOption(values.backend), log });
  try {
    if (values.pack) runtime.attach(resolve(values.pack));
    const memory = runtime.memory;
    const result: Record<string, unknown> = { model: runtime.fingerprint.name, pack: runtime.attachedPack?.name ?? null, backend: runtime.backend };

    if (positionals.length > 0) {
      const sequences = textSequences(positionals, intOption('lines', values.lines, 0), intOption('seq-len', values['seq-len'], 256), runtime);
      const base = await meanNextTokenLoss(runtime.model, undefined, sequences);
      const text: Record<string, LossRow | number> = { base: lossRow(base) };
      if (memory) {
        const withPack = await meanNextTokenLoss(runtime.model, memory, sequences);
        text.pack = lossRow(withPack);
        text.riseFraction = withPack.loss / base.loss - 1;
      }
      result.text = text;
    }

    if (probes) {
      const base = await scoreProbes(runtime.model, undefined, runtime.tokenizer, probes);
      const probeResult: Record<string, unknown> = { count: probes.length, base: summariseProbes(base) };
      let packResults: ProbeResult[] | undefined;
      if (memory) {
        packResults = await scoreProbes(runtime.model, memory, runtime.tokenizer, probes);
        probeResult.pack = summariseProbes(packResults);
      }
      const failures = intOption('show-failures', values['show-failures'], 0);
      if (failures > 0) probeResult.failures = (packResults ?? base).filter((probe) => !probe.passed).slice(0, failures);
      result.probes = probeResult;
    }

    if (values.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else {
      process.stdout.write(formatEval(result));
    }
    return 0;
  } finally {
    runtime.dispose();
  }
}

function lossRow(measured: { loss: number; tokens: number }): LossRow {
  return { loss: measured.loss, perplexity: Math.exp(measured.loss), tokens: measured.tokens };
}

function textSequences(files: string[], lines: number, seqLen: number, runtime: EngramRuntime): number[][] {
  const tokenizer = runtime.tokenizer;
  if (lines > 0) {
    const texts: string[] = [];
    for (const file of files) {
      for (const line of readFileSync(resolve(file), 'utf8').split('\n')) {
        if (line.trim().length > 0 && texts.length < lines) texts.push(line.trim());
      }
    }
    return texts.map((text) => tokenizer.encode(text, true).slice(0, seqLen));
  }
  const corpus = loadCorpus(files, { cwd: process.cwd() });
  const sequences: number[][] = [];
  for (const document of corpus.documents) {
    const ids = tokenizer.encode(document, true);
    for (let start = 0; start < ids.length - 1; start += seqLen) sequences.push(ids.slice(start, start + seqLen));
  }
  return sequences;
}

function formatEval(result: Record<string, unknown>): string {
  const out: string[] = [`model ${String(result.model)}, pack ${String(result.pack ?? '(none)')}, backend ${String(result.backend)}`];
  const text = result.text as { base: LossRow; pack?: LossRow; riseFraction?: number } | undefined;
  if (text) {
    out.push(`text loss   base ${text.base.loss.toFixed(4)} (perplexity ${text.base.perplexity.toFixed(2)}, ${text.base.tokens} tokens)`);
    if (text.pack) out.push(`            pack ${text.pack.loss.toFixed(4)} (perplexity ${text.pack.perplexity.toFixed(2)}), change ${((text.riseFraction ?? 0) * 100).toFixed(1)} %`);
  }
  const probes = result.probes as { base: { relation: string; passed: number; total: number }[]; pack?: { relation: string; passed: number; total: number }[]; failures?: ProbeResult[] } | undefined;
  if (probes) {
    out.push('probes      relation     base            pack');
    probes.base.forEach((row, i) => {
      const pack = probes.pack?.[i];
      const cell = (r: { passed: number; total: number }) => `${r.passed}/${r.total} (${((100 * r.passed) / r.total).toFixed(1)} %)`.padEnd(16);
      out.push(`            ${row.relation.padEnd(12)} ${cell(row)}${pack ? cell(pack) : '-'}`);
    });
    for (const failure of probes.failures ?? []) out.push(`  failed: ${failure.prompt} -> expected "${failure.answer}", got "${failure.predicted}"`);
  }
  return out.join('\n') + '\n';
}
