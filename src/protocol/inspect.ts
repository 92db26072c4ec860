/**
 * Validators for the inspection results that the worker sends to the extension: per-token memory
 * hits (`inspect`), pack statistics (`packStatistics`) and probe scores (`runProbes`). The shapes
 * are those of `src/engine/inspect`; `src/worker/inspectEngine.ts` returns the engine's results as
 * these types, so the compiler checks that they match.
 */
import { array, boolean, integer, nullable, number, object, oneOf, optional, string, type Infer, type Validator } from './validate';

const textRange = object({ start: integer, end: integer });

const headHit = object({ order: integer, head: integer, row: integer, trainingHits: number });

const layerInspection = object({ layer: integer, gate: number, contributionNorm: number, heads: array(headHit) });

const prediction = object({ id: integer, token: string, text: string, probability: number });

const inspectedNGram = object({ order: integer, canonicalIds: array(integer), text: string, padPositions: integer });

export const inspectedToken = object({
  position: integer,
  range: nullable(textRange),
  id: integer,
  token: string,
  canonicalId: integer,
  ngrams: array(inspectedNGram),
  layers: array(layerInspection),
  withPack: array(prediction),
  withoutPack: array(prediction),
  next: nullable(object({ id: integer, probabilityWithPack: number, probabilityWithoutPack: number })),
});
export type InspectedTokenMessage = Infer<typeof inspectedToken>;

export const tokenInspection = object({
  pack: string,
  layers: array(integer),
  textLength: integer,
  totalTokens: integer,
  truncated: boolean,
  tokens: array(inspectedToken),
});
export type TokenInspectionMessage = Infer<typeof tokenInspection>;

/** A [row, hits] pair of a head's most-hit rows. */
const rowHits: Validator<[number, number]> = (value, path = '$') => {
  const [row, hits] = array(number, 2)(value, path);
  return [integer(row, `${path}[0]`), number(hits, `${path}[1]`)];
};

const headStatistics = object({
  order: integer,
  head: integer,
  tableRows: integer,
  lookups: number,
  uniqueRows: integer,
  coverage: number,
  topRows: array(rowHits),
  rankFrequency: object({ ranks: array(integer), hits: array(number) }),
});

const gateStatistics = object({
  positions: integer,
  mean: number,
  p5: number,
  p25: number,
  p50: number,
  p75: number,
  p95: number,
  closedShare: number,
  histogram: object({ bins: integer, counts: array(integer) }),
});

const orderCollisions = object({
  order: integer,
  distinctNGrams: integer,
  heads: array(object({ head: integer, tableRows: integer, occupiedRows: integer, collidingNGrams: integer })),
  collidingOnAllHeads: integer,
});

export const layerStatistics = object({
  layer: integer,
  heads: array(headStatistics),
  gate: nullable(gateStatistics),
  collisions: nullable(array(orderCollisions)),
});
export type LayerStatisticsMessage = Infer<typeof layerStatistics>;

export const packStatistics = object({
  pack: string,
  layers: array(layerStatistics),
  text: nullable(object({ tokens: integer, totalTokens: integer, truncated: boolean })),
  corpus: nullable(object({ documents: integer, tokens: integer })),
});
export type PackStatisticsMessage = Infer<typeof packStatistics>;

/** States of a file of the pack's stored corpus manifest when collisions are counted. */
export const corpusFileStates = ['used', 'missing', 'changed'] as const;

export const packStatisticsParams = object({
  /** Text to measure the gate on; without it the worker uses the start of the pack's corpus. */
  text: optional(string),
  /** Tokens of the text to use at most, BOS included. */
  maxTokens: integer,
  /** True to count hash collisions on the pack's corpus files, which are read relative to the worker's folder. */
  collisions: boolean,
});
export type PackStatisticsParams = Infer<typeof packStatisticsParams>;

export const packStatisticsResult = object({
  statistics: packStatistics,
  /** Source of the gate values: the given text, the pack's corpus, or none when there was no text and no corpus file. */
  gateSource: oneOf(['text', 'corpus', 'none']),
  /** Each file of the pack's corpus manifest. A changed file (other SHA-256) is left out of the counts. */
  corpusFiles: array(object({ path: string, state: oneOf(corpusFileStates) })),
});
export type PackStatisticsResult = Infer<typeof packStatisticsResult>;

const probeScore = object({ passed: boolean, predicted: string });

export const probeRunResult = object({
  file: string,
  probes: array(object({ prompt: string, answer: string, relation: string, withPack: probeScore, withoutPack: probeScore })),
});
export type ProbeRunResult = Infer<typeof probeRunResult>;
