/**
 * The full event history of one training run, kept by the extension host so the dashboard can
 * replay it whenever its webview (re)loads. Pure: no `vscode` import.
 */
import { historyRecord, type HistoryRecord } from '../../protocol/trainEvents';
import { debiasedEma } from '../../protocol/smoothing';
import { check, type Infer } from '../../protocol/validate';
import type { runInfo } from '../../protocol/dashboard';
import type { TrainStepEvent } from '../../engine/types';

export type RunInfo = Infer<typeof runInfo>;
export type RunState = RunInfo['state'];

export class RunHistory {
  readonly records: HistoryRecord[] = [];

  constructor(public info: RunInfo) {}

  add(record: HistoryRecord): void {
    this.records.push(record);
  }

  get steps(): TrainStepEvent[] {
    return this.records.filter((record): record is TrainStepEvent => record.type === 'step');
  }

  /** Block numbers of the Engram layers: from the start event, else from the run info, else from a row-hits event. */
  get layers(): number[] | undefined {
    return layerBlocks(this.records, this.info.layers);
  }

  get lastStep(): TrainStepEvent | undefined {
    for (let index = this.records.length - 1; index >= 0; index--) {
      const record = this.records[index];
      if (record.type === 'step') return record;
    }
    return undefined;
  }
}

/**
 * Parses a pack's `history.jsonl` (one engine event per line). Invalid lines are skipped and
 * counted, so one bad line does not hide the rest of a run.
 */
export function parseHistoryJsonl(text: string): { records: HistoryRecord[]; invalidLines: number[] } {
  const records: HistoryRecord[] = [];
  const invalidLines: number[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim().length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      invalidLines.push(index + 1);
      return;
    }
    const result = check(historyRecord, parsed);
    if (result.ok) records.push(result.value);
    else invalidLines.push(index + 1);
  });
  return { records, invalidLines };
}

/**
 * Returns the block numbers of a run's Engram layers. The start event has them; a pack's saved
 * history has no start event, so `fallback` (from pack.json) or a row-hits event supplies them.
 */
export function layerBlocks(records: readonly HistoryRecord[], fallback?: readonly number[]): number[] | undefined {
  const start = records.find((record) => record.type === 'start');
  if (start?.type === 'start' && start.layers.length > 0) return [...start.layers];
  if (fallback && fallback.length > 0) return [...fallback];
  const rowHits = records.find((record) => record.type === 'row-hits');
  if (rowHits?.type === 'row-hits' && rowHits.layers.length > 0) return [...rowHits.layers];
  return undefined;
}

function csvCell(value: number | string | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV of the step events, one row per step, with the smoothed loss at strength `smoothing`. The
 * per-layer columns are named by block number (`rows_touched_<block>`) when `layers` gives them,
 * as the dashboard labels them, and by position otherwise.
 */
export function historyToCsv(records: readonly HistoryRecord[], smoothing: number, layers: readonly number[] = layerBlocks(records) ?? []): string {
  const steps = records.filter((record): record is TrainStepEvent => record.type === 'step');
  const layerCount = steps.reduce((count, step) => Math.max(count, step.rowsTouched.length), 0);
  const smoothed = debiasedEma(
    steps.map((step) => step.loss),
    smoothing,
  );
  const header = [
    'step',
    'loss',
    'loss_smoothed',
    'eval_loss',
    'preservation_loss',
    'learning_rate',
    'tokens_per_second',
    'backend_bytes',
    'rss_bytes',
    'elapsed_ms',
  ];
  for (let layer = 0; layer < layerCount; layer++) {
    const block = layers[layer] ?? layer;
    header.push(`rows_touched_${block}`, `rows_touched_share_${block}`);
  }
  const lines = [header.join(',')];
  steps.forEach((step, index) => {
    const cells: (number | string | undefined)[] = [
      step.step,
      step.loss,
      smoothed[index],
      step.evalLoss,
      step.preservationLoss,
      step.learningRate,
      step.tokensPerSecond,
      step.backendBytes,
      step.rssBytes,
      step.elapsedMs,
    ];
    for (let layer = 0; layer < layerCount; layer++) cells.push(step.rowsTouched[layer], step.rowsTouchedShare[layer]);
    lines.push(cells.map(csvCell).join(','));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Collects records and flushes them at most once per `intervalMs`, so a fast run sends the
 * webview at most 1000 / intervalMs messages per second. An explicit `drain()` (at a state
 * change) flushes at once and may add one message.
 */
export class RecordBatcher {
  private queue: HistoryRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;

  constructor(
    private readonly flush: (records: HistoryRecord[]) => void,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  push(record: HistoryRecord): void {
    this.queue.push(record);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.drain(), wait);
  }

  /** Sends what is queued now, for example when the run ends. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const records = this.queue;
    this.queue = [];
    this.lastFlush = this.now();
    this.flush(records);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}
