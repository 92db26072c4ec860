/** Axis ranges and tick positions for the dashboard charts (linear and base-10 log). */

export interface AxisScale {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

/** Rounds a raw tick step up to 1, 2 or 5 times a power of ten. */
function niceStep(rawStep: number): number {
  const power = 10 ** Math.floor(Math.log10(rawStep));
  const fraction = rawStep / power;
  for (const nice of [1, 2, 5]) {
    if (fraction <= nice) return nice * power;
  }
  return 10 * power;
}

/**
 * Picks a range that contains [dataMin, dataMax] and about `targetTicks` ticks. A log scale
 * ignores values ≤ 0 (the caller drops them) and puts ticks on powers of ten, or on 1-2-5
 * multiples when the data spans less than two decades.
 */
export function computeScale(dataMin: number, dataMax: number, log: boolean, targetTicks = 5): AxisScale {
  if (!Number.isFinite(dataMin) || !Number.isFinite(dataMax)) return { min: 0, max: 1, log: false, ticks: [0, 0.5, 1] };

  if (log && dataMin > 0) {
    let low = Math.floor(Math.log10(dataMin));
    let high = Math.ceil(Math.log10(dataMax));
    if (high === low) high = low + 1;
    const ticks: number[] = [];
    if (high - low >= 2) {
      for (let exponent = low; exponent <= high; exponent++) ticks.push(10 ** exponent);
    } else {
      for (let exponent = low; exponent <= high; exponent++) {
        for (const multiple of [1, 2, 5]) {
          const tick = multiple * 10 ** exponent;
          if (tick >= 10 ** low && tick <= 10 ** high) ticks.push(tick);
        }
      }
    }
    if (low === high) low -= 1;
    return { min: 10 ** low, max: 10 ** high, log: true, ticks };
  }

  let low = dataMin;
  let high = dataMax;
  // Float noise around zero (a KL term of -1e-9) would otherwise add a whole negative tick step.
  if (low < 0 && -low < (high - low) * 1e-6) low = 0;
  if (low === high) {
    const pad = Math.abs(low) > 0 ? Math.abs(low) * 0.1 : 1;
    low -= pad;
    high += pad;
  }

  const step = niceStep((high - low) / Math.max(1, targetTicks));
  const min = Math.floor(low / step) * step;
  const max = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let tick = min; tick <= max + step / 2; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { min, max, log: false, ticks };
}

/** Maps `value` to 0..1 along the axis. */
export function normalize(scale: AxisScale, value: number): number {
  if (scale.log) return (Math.log10(value) - Math.log10(scale.min)) / (Math.log10(scale.max) - Math.log10(scale.min));
  return (value - scale.min) / (scale.max - scale.min);
}

/** Short tick label: SI suffixes for large values, exponent form for tiny ones. */
export function formatTick(value: number, unit: 'plain' | 'bytes' = 'plain'): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let scaled = value;
    let index = 0;
    while (Math.abs(scaled) >= 1024 && index < units.length - 1) {
      scaled /= 1024;
      index++;
    }
    return `${Number(scaled.toPrecision(3))} ${units[index]}`;
  }
  if (magnitude >= 1e9) return `${Number((value / 1e9).toPrecision(3))}G`;
  if (magnitude >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (magnitude >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (magnitude < 1e-3) return Number(value.toPrecision(2)).toExponential();
  return String(Number(value.toPrecision(3)));
}
