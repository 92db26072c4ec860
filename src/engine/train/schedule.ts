/**
 * Learning-rate multiplier at `step` (0-based): linear warmup over `warmupSteps`, then 1 until
 * 80 % of the run, 0.316 until 90 %, and 0.1 for the rest (a step decay, as the Engram paper's
 * models use).
 */
export function learningRateFactor(step: number, totalSteps: number, warmupSteps: number): number {
  if (warmupSteps > 0 && step < warmupSteps) return (step + 1) / warmupSteps;
  const progress = step / Math.max(1, totalSteps);
  if (progress < 0.8) return 1;
  if (progress < 0.9) return 0.316;
  return 0.1;
}
