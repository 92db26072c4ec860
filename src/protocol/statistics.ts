/**
 * Messages between the extension host and the Pack Statistics webview. Both sides validate what
 * they receive. The webview's first message is `ready` with its protocol version; the host then
 * sends `loading` and `statistics` (or `failed`) for the attached pack.
 */
import { packStatisticsResult } from './inspect';
import { integer, literal, nullable, object, string, tagged, type Infer } from './validate';

/** Raised by one on every incompatible change to this file or to the statistics in `inspect.ts`. */
export const STATISTICS_PROTOCOL_VERSION = 1;

export const hostToStatistics = tagged('type', {
  loading: object({ type: literal('loading'), pack: string }),
  statistics: object({
    type: literal('statistics'),
    result: packStatisticsResult,
    /** The editor file that the gate was measured on, when `result.gateSource` is "text". */
    textSource: nullable(string),
    /** Tokens at most that the gate was measured on, BOS included. */
    maxTokens: integer,
  }),
  failed: object({ type: literal('failed'), message: string }),
});
export type HostToStatistics = Infer<typeof hostToStatistics>;

export const statisticsToHost = tagged('type', {
  ready: object({ type: literal('ready'), protocolVersion: integer }),
  /** Measure again, on the active editor's text when one is open. */
  refresh: object({ type: literal('refresh') }),
  /** Save the shown statistics as JSON, in the layout of `engram inspect --json`. */
  saveJson: object({ type: literal('saveJson') }),
  error: object({ type: literal('error'), message: string }),
});
export type StatisticsToHost = Infer<typeof statisticsToHost>;

export const statisticsStringKeys = [
  'title',
  'loading',
  'refresh',
  'saveJson',
  'layer',
  'gateSourceText',
  'gateSourceCorpus',
  'gateSourceNone',
  'corpusSummary',
  'corpusNone',
  'corpusFileMissing',
  'corpusFileChanged',
  'tableHeading',
  'order',
  'head',
  'tableRows',
  'lookups',
  'uniqueRows',
  'coverage',
  'topRow',
  'rankFrequency',
  'rank',
  'hits',
  'positions',
  'orderSeries',
  'collisionsHeading',
  'distinctNGrams',
  'occupiedRows',
  'collidingNGrams',
  'collidingOnAllHeads',
  'gateHeading',
  'gateSummary',
  'closedShare',
  'noGate',
] as const;
export type StatisticsStrings = Record<(typeof statisticsStringKeys)[number], string>;
