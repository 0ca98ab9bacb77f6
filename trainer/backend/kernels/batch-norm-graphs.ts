/**
 * Batch normalisation in training mode and its gradient, each with the activation that follows it (ReLU or
 * LeakyReLU), as ONNX graphs for native-kernels.ts's sessions: the values of trainer/nn/batch-norm.ts and
 * trainer/nn/leaky-relu.ts (Ioffe & Szegedy 2015; the closed-form gradient of Algorithm 1), on the CPU's native
 * kernels, a few passes over the tensor instead of a dozen wasm kernels.
 *
 * x is NHWC, viewed as [rows, C] with the moments over the rows. The gradient takes the forward output y (after the
 * activation): y > 0 exactly where the pre-activation was, so it gives the activation's slope without keeping both.
 */
import type { Initializer, OnnxGraph, OnnxNode } from '../../export/onnx-model.js';

/** What follows the batch norm: alpha 0 is ReLU, 0 < alpha < 1 LeakyReLU, null nothing. */
export type Slope = number | null;

const int64s = (name: string, values: number[]): Initializer => ({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
const scalar = (name: string, value: number): Initializer => ({ name, dims: [], data: Float32Array.of(value) });
const op = (type: string, inputs: string[], output: string, attrs?: OnnxNode['attrs']): OnnxNode => ({ op: type, inputs, outputs: [output], ...(attrs ? { attrs } : {}) });

function io(name: string, shape: number[]) {
  return { name, dtype: 'float32' as const, shape };
}

/** inv = 1 / sqrt(variance + epsilon), from 'variance' [1, C]. */
const inverseDeviation = (): OnnxNode[] => [op('Add', ['variance2', 'epsilon'], 'var_eps'), op('Sqrt', ['var_eps'], 'deviation'), op('Reciprocal', ['deviation'], 'inv')];

/** Inputs x (NHWC), gamma [C], beta [C]; outputs y (NHWC, after the activation), mean [C], variance [C]. */
export function batchNormForwardGraph(shape: number[], epsilon: number, slope: Slope): OnnxGraph {
  const channels = shape[shape.length - 1]!;
  const rows = shape.reduce((a, b) => a * b, 1) / channels;
  const activation: OnnxNode[] = slope === null ? [op('Identity', ['normalised'], 'y2')] : slope === 0 ? [op('Relu', ['normalised'], 'y2')] : [op('LeakyRelu', ['normalised'], 'y2', { alpha: { f: slope } })];
  return {
    name: 'batch-norm',
    nodes: [
      op('Reshape', ['x', 'rows'], 'x2'),
      op('ReduceMean', ['x2', 'axis0'], 'mean2', { keepdims: { i: 1 } }),
      op('Sub', ['x2', 'mean2'], 'centred'),
      op('Mul', ['centred', 'centred'], 'squares'),
      op('ReduceMean', ['squares', 'axis0'], 'variance2', { keepdims: { i: 1 } }),
      ...inverseDeviation(),
      op('Mul', ['inv', 'gamma'], 'scale'),
      op('Mul', ['centred', 'scale'], 'scaled'),
      op('Add', ['scaled', 'beta'], 'normalised'),
      ...activation,
      op('Reshape', ['y2', 'shape'], 'y'),
      op('Reshape', ['mean2', 'channels'], 'mean'),
      op('Reshape', ['variance2', 'channels'], 'variance'),
    ],
    initializers: [int64s('rows', [rows, channels]), int64s('axis0', [0]), int64s('shape', shape), int64s('channels', [channels]), scalar('epsilon', epsilon)],
    inputs: [io('x', shape), io('gamma', [channels]), io('beta', [channels])],
    outputs: [io('y', shape), io('mean', [channels]), io('variance', [channels])],
  };
}

/**
 * Inputs dy and y (NHWC, after the activation), x (NHWC), mean, variance and gamma [C]; outputs dx (NHWC), dgamma and
 * dbeta [C]. With g = dy times the activation's slope, xhat = (x - mean) * inv and m rows:
 * dbeta = sum(g), dgamma = sum(g * xhat), dx = gamma * inv * (g - (dbeta + xhat * dgamma) / m).
 */
export function batchNormGradientGraph(shape: number[], epsilon: number, slope: Slope): OnnxGraph {
  const channels = shape[shape.length - 1]!;
  const rows = shape.reduce((a, b) => a * b, 1) / channels;
  const activation: OnnxNode[] =
    slope === null
      ? [op('Identity', ['dy2'], 'g')]
      : [op('Reshape', ['y', 'rows'], 'y2'), op('Greater', ['y2', 'zero'], 'positive'), op('Mul', ['dy2', 'alpha'], 'dy_alpha'), op('Where', ['positive', 'dy2', 'dy_alpha'], 'g')];
  return {
    name: 'batch-norm-gradient',
    nodes: [
      op('Reshape', ['dy', 'rows'], 'dy2'),
      ...activation,
      op('Reshape', ['x', 'rows'], 'x2'),
      op('Reshape', ['mean', 'row'], 'mean2'),
      op('Reshape', ['variance', 'row'], 'variance2'),
      ...inverseDeviation(),
      op('Sub', ['x2', 'mean2'], 'centred'),
      op('Mul', ['centred', 'inv'], 'xhat'),
      op('ReduceSum', ['g', 'axis0'], 'dbeta2', { keepdims: { i: 1 } }),
      op('Mul', ['g', 'xhat'], 'g_xhat'),
      op('ReduceSum', ['g_xhat', 'axis0'], 'dgamma2', { keepdims: { i: 1 } }),
      // dx = k * g + (c2 * xhat + c1), with k = gamma * inv, c2 = -k * dgamma / m, c1 = -k * dbeta / m ([1, C] each).
      op('Reshape', ['gamma', 'row'], 'gamma2'),
      op('Mul', ['gamma2', 'inv'], 'k'),
      op('Mul', ['k', 'minus_one_over_m'], 'k_m'),
      op('Mul', ['k_m', 'dgamma2'], 'c2'),
      op('Mul', ['k_m', 'dbeta2'], 'c1'),
      op('Mul', ['g', 'k'], 'gk'),
      op('Mul', ['xhat', 'c2'], 'xhat_c2'),
      op('Add', ['gk', 'xhat_c2'], 'dx_part'),
      op('Add', ['dx_part', 'c1'], 'dx2'),
      op('Reshape', ['dx2', 'shape'], 'dx'),
      op('Reshape', ['dgamma2', 'channels'], 'dgamma'),
      op('Reshape', ['dbeta2', 'channels'], 'dbeta'),
    ],
    initializers: [
      int64s('rows', [rows, channels]),
      int64s('row', [1, channels]),
      int64s('axis0', [0]),
      int64s('shape', shape),
      int64s('channels', [channels]),
      scalar('epsilon', epsilon),
      scalar('minus_one_over_m', -1 / rows),
      ...(slope === null ? [] : [scalar('zero', 0), scalar('alpha', slope)]),
    ],
    inputs: [io('dy', shape), io('y', shape), io('x', shape), io('mean', [channels]), io('variance', [channels]), io('gamma', [channels])],
    outputs: [io('dx', shape), io('dgamma', [channels]), io('dbeta', [channels])],
  };
}
