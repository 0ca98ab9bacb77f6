/**
 * Batch normalisation in training mode with its closed-form gradient (Ioffe & Szegedy 2015, Algorithm 1 and
 * section 3). Differentiating the forward ops one by one, as tfjs would, costs four reductions and about ten
 * full-size element-wise ops per layer in the backward pass; the closed form needs two and five.
 *
 *   xhat = (x - mean) / sqrt(var + eps),  y = gamma * xhat + beta
 *   dbeta = sum(dy),  dgamma = sum(dy * xhat),  dx = gamma / sqrt(var + eps) * (dy - (dbeta + xhat * dgamma) / m)
 *
 * with sums and moments over every axis but the channels (the last), m values per channel.
 *
 * The activation after it (ReLU or LeakyReLU, `slope`) may come with it: on the wasm backend with native kernels
 * (trainer/backend/kernels/batch-norm-graphs.ts) both are one native pass each way; a [64, 32, 32, 32] batch norm
 * with LeakyReLU took 35 ms forward and backward in wasm kernels (2 threads, AMD EPYC).
 */
import { tf, type Tensor, type TensorInfo } from '../backend/tf.js';
import { nativeKernelsInUse } from '../backend/kernels/register.js';
import type { Slope } from '../backend/kernels/batch-norm-graphs.js';
import { leakyRelu } from './leaky-relu.js';

export type { Slope };

export interface BatchStatistics {
  mean: Tensor;
  variance: Tensor;
}

/**
 * y for batch statistics, then the activation of `slope`. `onStatistics` sees the batch mean and variance (to move
 * running averages), valid only during the call.
 *
 * `leftOut` is the bias of the layer before, which that layer did not add (trainer/nn/network.ts): y is the same
 * without it, so its gradient is exactly 0, given as such so that the optimiser sees the same variables at every
 * step (tfjs's Adam keeps its moments by position), and the mean reported includes it.
 */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, onStatistics?: (s: BatchStatistics) => void, slope: Slope = null, leftOut?: Tensor): Tensor {
  const report =
    onStatistics && leftOut
      ? (s: BatchStatistics) => {
          const mean = tf.add(s.mean, leftOut);
          onStatistics({ mean, variance: s.variance });
          mean.dispose();
        }
      : onStatistics;
  const native = nativeKernelsInUse();
  if (native && tf.getBackend() === 'wasm' && x.dtype === 'float32') {
    const fresh = (info: TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);
    const op = tf.customGrad((...args) => {
      const [input, scale, offset] = args as Tensor[];
      const save = args.at(-1) as tf.GradSaveFunc;
      const [y, mean, variance] = native.batchNorm(input!, scale!, offset!, epsilon, slope).map(fresh) as [Tensor, Tensor, Tensor];
      report?.({ mean, variance });
      save([input!, y, mean, variance, scale!]);
      return {
        value: y,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [xs, ys, m, v, g] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
          const grads = native.batchNormGradient({ dy, y: ys, x: xs, mean: m, variance: v, gamma: g }, epsilon, slope).map(fresh);
          return leftOut ? [...grads, tf.zerosLike(leftOut)] : grads;
        },
      };
    });
    return leftOut ? op(x, gamma, beta, leftOut) : op(x, gamma, beta);
  }
  const y = batchNormWasm(x, gamma, beta, epsilon, report, leftOut);
  return slope === null ? y : slope === 0 ? tf.relu(y) : leakyRelu(y, slope);
}

function batchNormWasm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, onStatistics?: (s: BatchStatistics) => void, leftOut?: Tensor): Tensor {
  const axes = x.shape.slice(0, -1).map((_, a) => a);
  const m = x.size / x.shape[x.rank - 1]!;
  const op = tf.customGrad((...args) => {
    const [xs, scale, offset] = args as Tensor[];
    const save = args.at(-1) as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(xs!, axes);
    onStatistics?.({ mean, variance });
    save([xs!, mean, variance, scale!]);
    return {
      // One fused per-channel affine pass on wasm (FusedBatchNorm).
      value: tf.batchNorm(xs!, mean, variance, offset!, scale!, epsilon),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xSaved, meanSaved, varianceSaved, gammaSaved] = saved as [Tensor, Tensor, Tensor, Tensor];
        const xhat = tf.batchNorm(xSaved, meanSaved, varianceSaved, undefined, undefined, epsilon);
        const dbeta = tf.sum(dy, axes);
        const dgamma = tf.sum(tf.mul(dy, xhat), axes);
        const k = tf.mul(gammaSaved, tf.rsqrt(tf.add(varianceSaved, epsilon)));
        const centred = tf.sub(dy, tf.add(tf.mul(xhat, tf.div(dgamma, m)), tf.div(dbeta, m)));
        return [tf.mul(centred, k), dgamma, dbeta, ...(leftOut ? [tf.zerosLike(leftOut)] : [])];
      },
    };
  });
  return leftOut ? op(x, gamma, beta, leftOut) : op(x, gamma, beta);
}
