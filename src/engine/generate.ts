import type { Rng } from './random';

export interface SamplingSettings {
  /** 0 means greedy. */
  temperature: number;
  /** Nucleus size in (0, 1]; 1 keeps every token. */
  topP: number;
}

/** Picks the next token id from one row of logits. */
export function sampleToken(logits: Float32Array | number[], settings: SamplingSettings, rng: Rng): number {
  if (settings.temperature <= 0) return argmax(logits);
  const count = logits.length;
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, logits[i]);
  const probabilities = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    probabilities[i] = Math.exp((logits[i] - max) / settings.temperature);
    total += probabilities[i];
  }
  let candidates: number[];
  if (settings.topP < 1) {
    // Smallest set of most likely tokens whose mass reaches topP.
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => probabilities[b] - probabilities[a]);
    candidates = [];
    let mass = 0;
    for (const id of order) {
      candidates.push(id);
      mass += probabilities[id] / total;
      if (mass >= settings.topP) break;
    }
  } else {
    candidates = Array.from({ length: count }, (_, i) => i);
  }
  const candidateMass = candidates.reduce((sum, id) => sum + probabilities[id], 0);
  let draw = rng.nextFloat() * candidateMass;
  for (const id of candidates) {
    draw -= probabilities[id];
    if (draw <= 0) return id;
  }
  return candidates[candidates.length - 1];
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
