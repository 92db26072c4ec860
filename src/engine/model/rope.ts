import type { ModelConfig } from './config';

/** Inverse RoPE frequencies (headDim / 2 values), with Llama 3 rescaling when configured. */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inverse = new Float64Array(half);
  for (let i = 0; i < half; i++) inverse[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
  const scaling = config.ropeScaling;
  if (!scaling) return inverse;

  // Long wavelengths are divided by `factor`, short ones kept, the band between interpolated.
  const lowFreqWavelength = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highFreqWavelength = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelength = (2 * Math.PI) / inverse[i];
    if (wavelength < highFreqWavelength) continue;
    if (wavelength > lowFreqWavelength) {
      inverse[i] /= scaling.factor;
      continue;
    }
    const smooth = (scaling.originalMaxPositionEmbeddings / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
    inverse[i] = (1 - smooth) * (inverse[i] / scaling.factor) + smooth * inverse[i];
  }
  return inverse;
}

/**
 * Cosine and sine tables, each (length, headDim) row-major, for positions offset..offset+length-1
 * in the half-rotation layout of Hugging Face Llama (frequency i pairs dims i and i + headDim/2).
 */
export function ropeTables(inverse: Float64Array, offset: number, length: number): { cos: Float32Array; sin: Float32Array } {
  const half = inverse.length;
  const headDim = half * 2;
  const cos = new Float32Array(length * headDim);
  const sin = new Float32Array(length * headDim);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      // float32 angle, as transformers computes it, so long positions round the same way.
      const angle = Math.fround(Math.fround(offset + t) * Math.fround(inverse[i]));
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * headDim + i] = c;
      cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = s;
      sin[t * headDim + i + half] = s;
    }
  }
  return { cos, sin };
}
