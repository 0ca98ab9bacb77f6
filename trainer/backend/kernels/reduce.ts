/**
 * Sum and Mean over every axis but the last (bias and batch-norm gradients, batch statistics) for the tfjs wasm
 * backend, as one XNNPACK average pooling. The stock kernels first transpose the reduced axes innermost, a full copy
 * with strided writes: a [64, 14, 14, 64] sum took 4.3 ms, pooled 0.4 ms. Other reductions go to the stock kernels.
 */
import { tf, type TensorInfo } from '../tf.js';
import { asTensor } from './conv-gradients.js';

export function leadingAxesReduction(kind: 'Sum' | 'Mean', stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args as unknown as { inputs: { x: TensorInfo }; attrs: { axis: number | number[]; keepDims: boolean } };
    const { x } = inputs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    const channels = x.shape[rank - 1]!;
    const rows = tf.util.sizeFromShape(x.shape) / Math.max(channels, 1);
    if (!leading || x.dtype !== 'float32' || rows === 0 || channels === 0) return stock(args);
    return tf.tidy(() => {
      // [1, rows, 1, channels] pooled over all its rows: one output pixel holding each channel's mean.
      const means = tf.avgPool(tf.reshape(asTensor(x), [1, rows, 1, channels]) as tf.Tensor4D, [rows, 1], [rows, 1], 'valid');
      const out = kind === 'Mean' ? means : tf.mul(means, rows);
      return tf.reshape(out, attrs.keepDims ? [...new Array<number>(rank - 1).fill(1), channels] : [channels]);
    });
  };
}
