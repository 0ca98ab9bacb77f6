/**
 * LeakyReLU (Maas et al. 2013) with a two-pass gradient: dx = dy * step(x, alpha), step being 1 where x > 0 and
 * alpha elsewhere. tfjs's own gradient builds a mask, a scaled copy and a select (with broadcast copies for it).
 */
import { tf, type Tensor } from '../backend/tf.js';

export function leakyRelu(x: Tensor, alpha: number): Tensor {
  const op = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([input as Tensor]);
    return {
      value: tf.leakyRelu(input as Tensor, alpha),
      gradFunc: (dy: Tensor, [saved]: Tensor[]) => tf.mul(dy, tf.step(saved!, alpha)),
    };
  });
  return op(x);
}
