/** Loss smoothing shared by the dashboard chart and the host's CSV export, so both show the same curve. */

/**
 * Debiased exponential moving average (as in Adam's bias correction): with strength `beta` in
 * [0, 1), each output is the EMA divided by 1 − beta^n, so the first values are not pulled to 0.
 */
export function debiasedEma(values: readonly number[], beta: number): number[] {
  const clamped = Math.min(Math.max(beta, 0), 0.999);
  const smoothed: number[] = [];
  let average = 0;
  let weight = 1;
  for (const value of values) {
    average = clamped * average + (1 - clamped) * value;
    weight *= clamped;
    smoothed.push(average / (1 - weight));
  }
  return smoothed;
}
