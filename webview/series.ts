/**
 * Turns a run's history records into the point series that the dashboard charts draw.
 * Pure and DOM-free, so the same code is unit-tested in Node.
 */
import type { RowHitsEvent, TrainStartEvent, TrainStepEvent } from '../src/engine/types';
import { debiasedEma } from '../src/protocol/smoothing';
import type { HistoryRecord } from '../src/protocol/trainEvents';

/** Points as [step, value]. */
export type Points = [number, number][];

export interface DashboardSeries {
  loss: Points;
  lossSmoothed: Points;
  evalLoss: Points;
  preservationLoss: Points;
  learningRate: Points;
  tokensPerSecond: Points;
  backendBytes: Points;
  rssBytes: Points;
  gpuUsedBytes: Points;
  /** [layer] → points of unique rows touched per step. */
  rowsTouched: Points[];
  /** [layer] → points of the share of rows touched so far (0..1). */
  rowsTouchedShare: Points[];
  /** Engram layer indices, from the start event, for legends. */
  layers: number[];
  headsPerLayer: number;
  latestRowHits: RowHitsEvent | undefined;
  start: TrainStartEvent | undefined;
  lastStep: TrainStepEvent | undefined;
}

export function buildSeries(records: readonly HistoryRecord[], smoothing: number): DashboardSeries {
  const series: DashboardSeries = {
    loss: [],
    lossSmoothed: [],
    evalLoss: [],
    preservationLoss: [],
    learningRate: [],
    tokensPerSecond: [],
    backendBytes: [],
    rssBytes: [],
    gpuUsedBytes: [],
    rowsTouched: [],
    rowsTouchedShare: [],
    layers: [],
    headsPerLayer: 0,
    latestRowHits: undefined,
    start: undefined,
    lastStep: undefined,
  };
  for (const record of records) {
    switch (record.type) {
      case 'start':
        series.start = record;
        series.layers = record.layers;
        series.headsPerLayer = record.headsPerLayer;
        break;
      case 'step':
        addStep(series, record);
        break;
      case 'row-hits':
        series.latestRowHits = record;
        // A saved pack's history has no start event; the row-hits event names the same blocks.
        if (series.layers.length === 0) series.layers = record.layers;
        break;
      case 'gpu-memory':
        series.gpuUsedBytes.push([record.step, record.usedBytes]);
        break;
      default:
        break;
    }
  }
  const smoothed = debiasedEma(
    series.loss.map((point) => point[1]),
    smoothing,
  );
  series.lossSmoothed = series.loss.map((point, index) => [point[0], smoothed[index]]);
  return series;
}

function addStep(series: DashboardSeries, step: TrainStepEvent): void {
  series.lastStep = step;
  series.loss.push([step.step, step.loss]);
  if (step.evalLoss !== undefined) series.evalLoss.push([step.step, step.evalLoss]);
  if (step.preservationLoss !== undefined) series.preservationLoss.push([step.step, step.preservationLoss]);
  series.learningRate.push([step.step, step.learningRate]);
  series.tokensPerSecond.push([step.step, step.tokensPerSecond]);
  series.backendBytes.push([step.step, step.backendBytes]);
  series.rssBytes.push([step.step, step.rssBytes]);
  step.rowsTouched.forEach((rows, layer) => {
    (series.rowsTouched[layer] ??= []).push([step.step, rows]);
  });
  step.rowsTouchedShare.forEach((share, layer) => {
    (series.rowsTouchedShare[layer] ??= []).push([step.step, share]);
  });
}

/** Estimated seconds left, from the mean step time of the steps run so far. */
export function estimateSecondsLeft(start: TrainStartEvent | undefined, last: TrainStepEvent | undefined): number | undefined {
  if (!last || last.step <= (start?.startStep ?? 0)) return undefined;
  const stepsDone = last.step - (start?.startStep ?? 0);
  return ((last.totalSteps - last.step) * last.elapsedMs) / stepsDone / 1000;
}
