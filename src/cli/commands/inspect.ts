import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { closedGateThreshold, gateHistogramBins, inspectText, type LayerStatistics, type PackStatistics, packStatistics, type TokenInspection } from '../../engine/inspect';
import type { Logger } from '../../engine/log';
import { EngramRuntime } from '../../engine/runtime';
import { loadCorpus } from '../../engine/train/corpus';
import { backendOption, EngramError, intOption, parseCommandArgs, UsageError } from '../args';
import { defaultModelDir } from '../paths';

export const inspectHelp = `Usage: engram inspect --pack DIR [options]

Prints, per Engram layer and hash head, how often the tables were looked up during training,
how many rows were hit, the share of the table ever trained and the most-hit rows. With
--text or --prompt it also runs the model with the pack on that text and reports the gate:
mean, percentiles, a histogram and the share of positions where it is nearly closed (below
0.01). With --corpus it counts, per head, the distinct n-grams of the corpus that share a
table row with another n-gram, and the n-grams that do so on every head of their order.

Options:
  --pack DIR          pack to inspect (required)
  --model DIR         model the pack was trained on (default: bundled stories260K-hf)
  --text FILE         text file to measure the gate on
  --prompt TEXT       text to measure the gate on
  --max-tokens N      tokens of the text to use, BOS included (default 1024). The gate is
                      measured in windows of the model's context length, and --tokens stops
                      at that length
  --tokens            also print one line per token of the text: its character range and
                      canonical id, per layer the gate, the norm of the memory contribution
                      and the fewest training hits among the rows it looked up, and the most
                      likely next token with and without the pack
  --corpus FILES...   corpus files, folders or globs to count hash collisions on, normally the
                      pack's training corpus; repeat the option or list several paths after it
  --top N             most-hit rows to list per head (default 5)
  --backend NAME      auto, tensorflow, wasm or cpu (default auto)
  --json              print the statistics as JSON, with the per-token inspection under
                      "tokens" when --tokens is given
  -h, --help          show this help`;

export async function runInspect(argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    pack: { type: 'string' },
    model: { type: 'string' },
    text: { type: 'string' },
    prompt: { type: 'string' },
    'max-tokens': { type: 'string' },
    tokens: { type: 'boolean' },
    corpus: { type: 'string', multiple: true },
    top: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!values.pack) throw new UsageError('--pack is required.');
  if (positionals.length > 0 && !values.corpus) {
    throw new UsageError(`Unexpected argument "${positionals[0]}". To count collisions on corpus files, pass them after --corpus.`);
  }
  if (values.text !== undefined && values.prompt !== undefined) throw new UsageError('Pass either --text FILE or --prompt TEXT, not both.');
  const text = values.text !== undefined ? readTextFile(values.text) : values.prompt;
  if (values.tokens && text === undefined) throw new UsageError('--tokens requires a text. Pass --text FILE or --prompt TEXT.');
  const maxTokens = intOption('max-tokens', values['max-tokens'], 1024);
  if (maxTokens < 1) throw new UsageError(`--max-tokens must be at least 1, got ${maxTokens}.`);
  const topRows = intOption('top', values.top, 5);
  if (topRows < 0) throw new UsageError(`--top must be 0 or more, got ${topRows}.`);
  const corpusDocuments = values.corpus ? readCorpus([...values.corpus, ...positionals], log) : undefined;

  const runtime = await EngramRuntime.load(resolve(values.model ?? defaultModelDir), { backend: backendOption(values.backend), log });
  try {
    runtime.attach(resolve(values.pack));
    const statistics = await packStatistics(runtime, { topRows, text, maxTokens, corpusDocuments });
    const tokens = values.tokens && text !== undefined ? await inspectText(runtime, text, { maxTokens }) : null;
    if (values.json) {
      process.stdout.write(JSON.stringify({ ...statistics, tokens }, null, 2) + '\n');
    } else {
      process.stdout.write(formatStatistics(statistics) + (tokens ? formatTokens(tokens) : ''));
    }
    return 0;
  } finally {
    runtime.dispose();
  }
}

function readTextFile(path: string): string {
  const file = resolve(path);
  if (!existsSync(file)) throw new EngramError('not-found', `Text file not found: ${file}. Check the --text path.`);
  return readFileSync(file, 'utf8');
}

function readCorpus(patterns: string[], log: Logger): string[] {
  const corpus = loadCorpus(patterns, { cwd: process.cwd() });
  for (const skipped of corpus.skipped) log.warn(`Skipped corpus file ${skipped.path}: ${skipped.reason}`);
  return corpus.documents;
}

function percent(share: number, digits: number): string {
  return `${(share * 100).toFixed(digits)} %`;
}

function formatStatistics(statistics: PackStatistics): string {
  const out: string[] = [];
  if (statistics.corpus) out.push(`corpus: ${statistics.corpus.documents} documents, ${statistics.corpus.tokens} tokens`);
  if (statistics.text?.truncated) out.push(`text: first ${statistics.text.tokens} of ${statistics.text.totalTokens} tokens`);
  for (const layer of statistics.layers) out.push(...formatLayer(layer));
  return out.join('\n') + '\n';
}

function formatLayer(layer: LayerStatistics): string[] {
  const out = [`layer ${layer.layer}`, '  order head   rows      lookups   unique    coverage  most-hit rows (row:hits)'];
  for (const head of layer.heads) {
    const top = head.topRows.map(([row, hits]) => `${row}:${hits}`).join(' ');
    out.push(
      `  ${String(head.order).padEnd(5)} ${String(head.head).padEnd(6)} ${String(head.tableRows).padEnd(9)} ${String(head.lookups).padEnd(9)} ${String(head.uniqueRows).padEnd(9)} ${(head.coverage * 100).toFixed(2).padStart(6)} %  ${top}`,
    );
  }
  if (layer.gate) {
    const g = layer.gate;
    out.push(
      `  gate over ${g.positions} positions: mean ${g.mean.toFixed(3)}, p5 ${g.p5.toFixed(3)}, p50 ${g.p50.toFixed(3)}, p95 ${g.p95.toFixed(3)}, below ${closedGateThreshold}: ${percent(g.closedShare, 1)}`,
    );
    out.push(`  gate histogram, ${gateHistogramBins} bins over [0, 1]: ${g.histogram.counts.join(' ')}`);
  }
  if (layer.collisions) {
    out.push('  corpus n-grams sharing a row with another n-gram');
    for (const order of layer.collisions) {
      const perHead = order.heads.map((head) => head.collidingNGrams).join(' ');
      const allHeads = order.distinctNGrams > 0 ? order.collidingOnAllHeads / order.distinctNGrams : 0;
      out.push(
        `  order ${order.order}: ${order.distinctNGrams} distinct; per head: ${perHead}; on all ${order.heads.length} heads: ${order.collidingOnAllHeads} (${percent(allHeads, 2)})`,
      );
    }
  }
  return out;
}

function formatTokens(inspection: TokenInspection): string {
  const out = [
    '',
    `tokens: ${inspection.tokens.length} of ${inspection.totalTokens}${inspection.truncated ? ' (cut at --max-tokens or the model context)' : ''}`,
    `  ${'pos'.padEnd(5)} ${'range'.padEnd(12)} ${'token'.padEnd(17)} ${'canon'.padEnd(6)} ${inspection.layers.map((layer) => `${`L${layer} gate`.padStart(8)} ${'norm'.padStart(7)} ${'min hits'.padStart(8)}`.padEnd(26)).join(' ')}  ${'next with pack'.padEnd(21)} next without pack`,
  ];
  for (const token of inspection.tokens) {
    const range = token.range ? `${token.range.start}-${token.range.end}` : '-';
    const layers = token.layers.map((layer) => {
      const leastHits = Math.min(...layer.heads.map((head) => head.trainingHits));
      return `${layer.gate.toFixed(3).padStart(8)} ${layer.contributionNorm.toFixed(3).padStart(7)} ${String(leastHits).padStart(8)}`.padEnd(26);
    });
    const best = (predictions: TokenInspection['tokens'][number]['withPack']) =>
      predictions.length > 0 ? `${JSON.stringify(predictions[0].text)} ${predictions[0].probability.toFixed(3)}`.padEnd(21) : '-'.padEnd(21);
    out.push(
      `  ${String(token.position).padEnd(5)} ${range.padEnd(12)} ${JSON.stringify(token.token).padEnd(17)} ${String(token.canonicalId).padEnd(6)} ${layers.join(' ')}  ${best(token.withPack)} ${best(token.withoutPack)}`,
    );
  }
  return out.join('\n') + '\n';
}
