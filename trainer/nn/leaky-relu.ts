/**
 * LeakyReLU (Maas et al. 2013) as x * step(x, alpha), step being 1 where x > 0 and alpha elsewhere, with the
 * gradient dy * step(x, alpha) from the same saved step. The same values as tf.leakyRelu (x, or alpha * x), but
 * on wasm tf.leakyRelu is a scalar loop: 6.5 ms for [64, 16, 16, 64], against 0.6 ms for step and mul together
 * (XNNPACK; one thread). tfjs's own gradient builds a mask, a scaled copy and a select.
 */
import { tf, type Tensor } from '../backend/tf.js';

export function leakyRelu(x: Tensor, alpha: number): Tensor {
  const op = tf.customGrad((input, save) => {
    const slope = tf.step(input as Tensor, alpha);
    (save as tf.GradSaveFunc)([slope]);
    return {
      value: tf.mul(input as Tensor, slope),
      gradFunc: (dy: Tensor, [saved]: Tensor[]) => tf.mul(dy, saved!),
    };
  });
  return op(x);
}
