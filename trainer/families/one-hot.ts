/**
 * One-hot codes and label maps built in JS: tf.oneHot(..., 'float32') returns garbage on the wasm backend
 * (docs/architecture.md, "Measured facts"), and these are constants for the gradient anyway.
 */
import { tf } from '../backend/tf.js';

/** Labels [n] to a float matrix [n, classes]. */
export function oneHot(labels: Uint8Array, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (out[i * classes + l] = 1));
  return out;
}

/** The concatenation [z | onehot(y)]: a conditional generator's input (Mirza & Osindero 2014). */
export function withClassCode(z: tf.Tensor2D, labels: Uint8Array, classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.concat([z, tf.tensor2d(oneHot(labels, classes), [labels.length, classes])], 1));
}

/** Images [n, h, w, c] with `classes` constant label planes appended: a conditional discriminator's input. */
export function withLabelMaps(images: tf.Tensor4D, labels: Uint8Array, classes: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = images.shape;
    const code = tf.tensor4d(oneHot(labels, classes), [n, 1, 1, classes]);
    return tf.concat([images, tf.mul(tf.ones([n, h, w, 1]), code) as tf.Tensor4D], 3);
  });
}
