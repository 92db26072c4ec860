import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gateStatistics, gateValues, type LayerStatistics, tableStatistics } from '../../engine/inspect';
import type { Logger } from '../../engine/log';
import { EngramRuntime } from '../../engine/runtime';
import { backendOption, intOption, parseCommandArgs, UsageError } from '../args';
import { defaultModelDir } from '../paths';

export const inspectHelp = `Usage: engram inspect --pack DIR [options]

Prints, per Engram layer and hash head, how often the tables were looked up during training,
how many rows were hit, the share of the table ever trained and the most-hit rows. With
--text or --prompt it also runs the model with the pack on that text and reports the gate:
mean, percentiles and the share of positions where it is nearly closed (below 0.01).

Options:
  --pack DIR        pack to inspect (required)
  --model DIR       model the pack was trained on (default: bundled stories260K-hf)
  --text FILE       text file to measure the gate on
  --prompt TEXT     text to measure the gate on
  --max-tokens N    tokens of the text to use (default 1024)
  --top N           most-hit rows to list per head (default 5)
  --backend NAME    auto, tensorflow, wasm or cpu (default auto)
  --json            print the statistics as JSON
  -h, --help        show this help`;

export async function runInspect(argv: string[], log: Logger): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      pack: { type: 'string' },
      model: { type: 'string' },
      text: { type: 'string' },
      prompt: { type: 'string' },
      'max-tokens': { type: 'string' },
      top: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
  );
  if (!values.pack) throw new UsageError('--pack is required.');
  const runtime = await EngramRuntime.load(resolve(values.model ?? defaultModelDir), { backend: backendOption(values.backend), log });
  try {
    runtime.attach(resolve(values.pack));
    const memory = runtime.memory!;
    const layers: LayerStatistics[] = tableStatistics(memory, intOption('top', values.top, 5));
    const text = values.text ? readFileSync(resolve(values.text), 'utf8') : values.prompt;
    if (text !== undefined) {
      const ids = runtime.tokenizer.encode(text, true).slice(0, intOption('max-tokens', values['max-tokens'], 1024));
      const gates = await gateValues(runtime.model, memory, ids);
      layers.forEach((layer, l) => (layer.gate = gateStatistics(gates[l])));
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ pack: runtime.attachedPack?.name, layers }, null, 2) + '\n');
      return 0;
    }
    const out: string[] = [];
    for (const layer of layers) {
      out.push(`layer ${layer.layer}`);
      out.push('  order head   rows      lookups   unique    coverage  most-hit rows (row:hits)');
      for (const head of layer.heads) {
        const top = head.topRows.map(([row, hits]) => `${row}:${hits}`).join(' ');
        out.push(
          `  ${String(head.order).padEnd(5)} ${String(head.head).padEnd(6)} ${String(head.tableRows).padEnd(9)} ${String(head.lookups).padEnd(9)} ${String(head.uniqueRows).padEnd(9)} ${(head.coverage * 100).toFixed(2).padStart(6)} %  ${top}`,
        );
      }
      if (layer.gate) {
        const g = layer.gate;
        out.push(
          `  gate over ${g.positions} positions: mean ${g.mean.toFixed(3)}, p5 ${g.p5.toFixed(3)}, p50 ${g.p50.toFixed(3)}, p95 ${g.p95.toFixed(3)}, below 0.01: ${(g.closedShare * 100).toFixed(1)} %`,
        );
      }
    }
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  } finally {
    runtime.dispose();
  }
}
