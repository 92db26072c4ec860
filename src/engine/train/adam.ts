import * as tf from '@tensorflow/tfjs-core';

export const adamBeta1 = 0.9;
export const adamBeta2 = 0.999;
export const adamEpsilon = 1e-8;

/** Adam state for the dense Engram parameters: one first and second moment per tensor. */
export class DenseAdam {
  step = 0;

  constructor(
    readonly firstMoments: tf.Tensor[],
    readonly secondMoments: tf.Tensor[],
  ) {}

  static forParams(params: tf.Tensor[]): DenseAdam {
    return new DenseAdam(
      params.map((p) => tf.zerosLike(p)),
      params.map((p) => tf.zerosLike(p)),
    );
  }

  /** Returns the updated parameters; the caller disposes the old ones. Moments are replaced in place. */
  apply(params: tf.Tensor[], gradients: tf.Tensor[], learningRate: number): tf.Tensor[] {
    this.step++;
    const correction1 = 1 - Math.pow(adamBeta1, this.step);
    const correction2 = 1 - Math.pow(adamBeta2, this.step);
    return params.map((param, i) => {
      const [m, v, next] = tf.tidy(() => {
        const g = gradients[i];
        const m = tf.add(tf.mul(this.firstMoments[i], adamBeta1), tf.mul(g, 1 - adamBeta1));
        const v = tf.add(tf.mul(this.secondMoments[i], adamBeta2), tf.mul(tf.square(g), 1 - adamBeta2));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), adamEpsilon));
        return [m, v, tf.sub(param, tf.mul(update, learningRate))];
      });
      this.firstMoments[i].dispose();
      this.secondMoments[i].dispose();
      this.firstMoments[i] = m;
      this.secondMoments[i] = v;
      return next;
    });
  }

  dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments]);
  }
}
