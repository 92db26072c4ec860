import * as tf from '@tensorflow/tfjs-core';

/** Float32 machine epsilon, the gate norms' eps (torch.nn.RMSNorm's default). */
const gateNormEps = 1.1920928955078125e-7;
const convNormEps = 1e-5;
/** Depthwise causal convolution: kernel 4, dilation 3, so taps at t, t-3, t-6, t-9. */
export const convKernel = 4;
export const convDilation = 3;
export const convHistory = (convKernel - 1) * convDilation;

/** Trainable dense parameters of one Engram layer (d = hidden size, dMem = memory width). */
export interface EngramDenseParams {
  /** (dMem, d) value projection; zero at initialisation. */
  valueProjection: tf.Tensor2D;
  /** (dMem, d) key projection. */
  keyProjection: tf.Tensor2D;
  /** (d) gain of the RMSNorm on the hidden state in the gate. */
  queryNorm: tf.Tensor1D;
  /** (d) gain of the RMSNorm on the key in the gate. */
  keyNorm: tf.Tensor1D;
  /** (d) gain of the RMSNorm before the convolution. */
  convNorm: tf.Tensor1D;
  /** (convKernel, d) depthwise weights, oldest tap first; zero at initialisation. */
  convWeights: tf.Tensor2D;
}

export const denseParamNames = ['valueProjection', 'keyProjection', 'queryNorm', 'keyNorm', 'convNorm', 'convWeights'] as const;
export type DenseParamName = (typeof denseParamNames)[number];

export interface EngramLayerOutput {
  /** (batch, time, d) residual stream with the memory added. */
  hidden: tf.Tensor3D;
  /** (batch, time) gate in (0, 1). */
  gate: tf.Tensor2D;
  /** (batch, time, d) memory contribution y. */
  memory: tf.Tensor3D;
  /** (batch, time, d) normalised convolution inputs, kept by incremental decoding. */
  convInputs: tf.Tensor3D;
}

function rms(x: tf.Tensor, gain: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), gain);
}

/**
 * Applies one Engram layer. `rows` (batch, time, dMem) are the gathered table rows per position.
 * `history` (batch, convHistory, d) contains earlier convolution inputs during incremental
 * decoding. Without it, zeros stand in for the positions before the start.
 */
export function engramLayer(hidden: tf.Tensor3D, rows: tf.Tensor3D, params: EngramDenseParams, history?: tf.Tensor3D): EngramLayerOutput {
  const [batch, time, d] = hidden.shape;
  const dMem = rows.shape[2];
  const flatRows = tf.reshape(rows, [batch * time, dMem]);
  const value = tf.reshape(tf.matMul(flatRows, params.valueProjection), [batch, time, d]);
  const key = tf.reshape(tf.matMul(flatRows, params.keyProjection), [batch, time, d]);

  // Gate: scaled dot product of the normalised hidden state and key, then a signed square
  // root that keeps the sigmoid away from saturation.
  const score = tf.div(tf.sum(tf.mul(rms(hidden, params.queryNorm, gateNormEps), rms(key, params.keyNorm, gateNormEps)), -1), Math.sqrt(d));
  const signedRoot = tf.mul(tf.sign(score), tf.sqrt(tf.maximum(tf.abs(score), 1e-6)));
  const gate = tf.sigmoid(signedRoot) as tf.Tensor2D;
  const gated = tf.mul(tf.expandDims(gate, -1), value) as tf.Tensor3D;

  // Causal depthwise convolution as front padding plus shifted slices: exact, and it has
  // gradients on every backend.
  const convInputs = rms(gated, params.convNorm, convNormEps) as tf.Tensor3D;
  const past = history ?? tf.zeros([batch, convHistory, d]);
  const padded = tf.concat([past, convInputs], 1);
  let convolved: tf.Tensor = tf.zeros([batch, time, d]);
  const tapWeights = tf.unstack(params.convWeights);
  for (let tap = 0; tap < convKernel; tap++) {
    // Tap `tap` reads position t - (convKernel - 1 - tap) * dilation.
    const shifted = tf.slice(padded, [0, tap * convDilation, 0], [batch, time, d]);
    convolved = tf.add(convolved, tf.mul(shifted, tapWeights[tap]));
  }
  const memory = tf.add(tf.mul(convolved, tf.sigmoid(convolved)), gated) as tf.Tensor3D;
  return { hidden: tf.add(hidden, memory) as tf.Tensor3D, gate, memory, convInputs };
}
