/**
 * Inspection of a knowledge pack. ./inspect/tokens shows which table rows each token looks up
 * and how the memory changes predictions. ./inspect/summary collects statistics of the whole
 * pack (training hits, gate distribution and hash collisions) from the other modules. Every
 * result contains only JSON-safe values, so the worker can send it to the extension unchanged.
 */
export { type CorpusCollisions, corpusCollisions, type HeadCollisions, type LayerCollisions, type OrderCollisions } from './inspect/collisions';
export { closedGateThreshold, type GateHistogram, gateHistogram, gateHistogramBins, type GateStatistics, gateStatistics, gateValues, percentile } from './inspect/gates';
export { type TextRange, type TokenDecoder, tokenRanges } from './inspect/offsets';
export { type PackStatistics, packStatistics, type PackStatisticsOptions } from './inspect/summary';
export { type HeadStatistics, type LayerStatistics, rankFrequency, type RankFrequencyCurve, rankFrequencyPoints, tableStatistics } from './inspect/tables';
export {
  type HeadHit,
  type InspectedNGram,
  type InspectedToken,
  inspectText,
  type InspectTextOptions,
  type LayerInspection,
  type Prediction,
  type TokenInspection,
} from './inspect/tokens';
