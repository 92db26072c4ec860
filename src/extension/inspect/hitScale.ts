/**
 * Color buckets of memory hits: which of a few background colors a token gets, from its gate
 * or from the norm of the memory's contribution. Pure functions, so unit tests need no VS Code.
 */
import type { InspectedTokenMessage } from '../../protocol/inspect';

/** Measures that a token's color can show. */
export const hitMetrics = ['gate', 'contribution'] as const;
export type HitMetric = (typeof hitMetrics)[number];

export function isHitMetric(value: unknown): value is HitMetric {
  return typeof value === 'string' && (hitMetrics as readonly string[]).includes(value);
}

/** Number of color buckets; bucket 0 is the weakest shown, `bucketCount − 1` the strongest. */
export const bucketCount = 4;

/**
 * Gate below which a token gets no color: the memory adds almost nothing there. Equal to the
 * engine's closed-gate threshold of the pack statistics.
 */
export const closedGate = 0.01;

/** Contribution norms below this share of the text's largest norm get no color. */
export const minContributionShare = 0.05;

/**
 * Lower bounds of the buckets, ascending, in the metric's unit on a 0..1 scale: the gate itself,
 * or the contribution norm divided by the largest norm in the inspected text.
 */
export const bucketLowerBounds: Record<HitMetric, readonly number[]> = {
  gate: [closedGate, 0.25, 0.5, 0.75],
  contribution: [minContributionShare, 0.25, 0.5, 0.75],
};

/**
 * Returns the strength of a token for `metric`: its largest value over the Engram layers,
 * because a token counts as hit when memory acted strongly at any layer.
 */
export function tokenStrength(token: Pick<InspectedTokenMessage, 'layers'>, metric: HitMetric): number {
  let strongest = 0;
  for (const layer of token.layers) strongest = Math.max(strongest, metric === 'gate' ? layer.gate : layer.contributionNorm);
  return strongest;
}

/** Scale of one inspection: the divisor that maps a strength to 0..1. */
export interface HitScale {
  metric: HitMetric;
  /** 1 for the gate; the largest contribution norm of the text for the contribution. */
  maxValue: number;
}

export function hitScale(tokens: readonly Pick<InspectedTokenMessage, 'layers'>[], metric: HitMetric): HitScale {
  if (metric === 'gate') return { metric, maxValue: 1 };
  let maxValue = 0;
  for (const token of tokens) maxValue = Math.max(maxValue, tokenStrength(token, metric));
  return { metric, maxValue };
}

/** Bucket of a strength (0 to bucketCount − 1), or undefined when it is too weak to color. */
export function bucketOf(strength: number, scale: HitScale): number | undefined {
  if (!(scale.maxValue > 0) || !Number.isFinite(strength)) return undefined;
  const share = strength / scale.maxValue;
  const bounds = bucketLowerBounds[scale.metric];
  for (let bucket = bounds.length - 1; bucket >= 0; bucket--) {
    if (share >= bounds[bucket]) return bucket;
  }
  return undefined;
}

/** Range of one bucket in the metric's own unit, for the legend; `upper` is exclusive except for the last bucket. */
export function bucketRange(bucket: number, scale: HitScale): { lower: number; upper: number } {
  const bounds = bucketLowerBounds[scale.metric];
  const upperShare = bucket + 1 < bounds.length ? bounds[bucket + 1] : 1;
  return { lower: bounds[bucket] * scale.maxValue, upper: upperShare * scale.maxValue };
}

/** Token indices per bucket; tokens without a text range or below the first bound are left out. */
export function groupByBucket(tokens: readonly Pick<InspectedTokenMessage, 'layers' | 'range'>[], scale: HitScale): number[][] {
  const groups: number[][] = Array.from({ length: bucketCount }, () => []);
  tokens.forEach((token, index) => {
    if (!token.range || token.range.end <= token.range.start) return;
    const bucket = bucketOf(tokenStrength(token, scale.metric), scale);
    if (bucket !== undefined) groups[bucket].push(index);
  });
  return groups;
}
