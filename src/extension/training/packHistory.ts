/** Reads what a finished pack folder stores about its training run, for the dashboard's history view. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { historyRecord, type HistoryRecord } from '../../protocol/trainEvents';
import { check } from '../../protocol/validate';
import { parseHistoryJsonl } from './runHistory';

export interface PackHistory {
  /** Step events of `history.jsonl`, then the row-hits event of `row-hits.json` when the pack has one. */
  records: HistoryRecord[];
  /** 1-based line numbers of `history.jsonl` that were skipped. */
  invalidLines: number[];
  /** Block numbers of the Engram layers from `pack.json` (`engram.layers`), when readable. */
  layers: number[] | undefined;
  /** Reason an existing `row-hits.json` was skipped, for the log. Undefined when it was used or is absent. */
  rowHitsProblem: string | undefined;
}

/** Reads `history.jsonl`, `row-hits.json` and the layer list of `pack.json`; undefined when the pack has no history. */
export async function readPackHistoryFiles(packDir: string): Promise<PackHistory | undefined> {
  const historyFile = join(packDir, 'history.jsonl');
  if (!existsSync(historyFile)) return undefined;
  const { records, invalidLines } = parseHistoryJsonl(await readFile(historyFile, 'utf8'));

  let rowHitsProblem: string | undefined;
  const rowHitsFile = join(packDir, 'row-hits.json');
  if (existsSync(rowHitsFile)) {
    try {
      const result = check(historyRecord, JSON.parse(await readFile(rowHitsFile, 'utf8')));
      if (result.ok && result.value.type === 'row-hits') records.push(result.value);
      else rowHitsProblem = result.ok ? `expected a row-hits event, found type ${result.value.type}` : result.error.message;
    } catch (error) {
      rowHitsProblem = (error as Error).message;
    }
  }
  return { records, invalidLines, layers: await readPackLayers(packDir), rowHitsProblem };
}

async function readPackLayers(packDir: string): Promise<number[] | undefined> {
  try {
    const metadata = JSON.parse(await readFile(join(packDir, 'pack.json'), 'utf8')) as { engram?: { layers?: unknown } };
    const layers = metadata.engram?.layers;
    return Array.isArray(layers) && layers.every((layer) => Number.isSafeInteger(layer)) ? (layers as number[]) : undefined;
  } catch {
    return undefined;
  }
}
