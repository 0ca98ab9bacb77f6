/**
 * Batch normalisation in training mode and its gradient, each with the activation that follows it (ReLU or
 * LeakyReLU), as ONNX graphs for native-kernels.ts's sessions: the values of trainer/nn/batch-norm.ts and
 * trainer/nn/leaky-relu.ts (Ioffe & Szegedy 2015; the closed-form gradient of Algorithm 1), on the CPU's native
 * kernels, a few passes over the tensor instead of a dozen wasm kernels.
 *
 * x is NHWC, viewed as [rows, C] with the moments over the rows. onnxruntime broadcasts a [1, C] vector one row at a
 * time, so with few channels (32) a row is too short to be fast: a [65536, 32] - [1, 32] Sub took 4 ms (2 threads,
 * AMD EPYC). So the graphs view x as wide rows of `fold` rows each, [rows / fold, fold * C], with every per-channel
 * vector tiled `fold` times, and fold the sums back to [C] at the end.
 *
 * The gradient takes the forward output y (after the activation): y > 0 exactly where the pre-activation was, so it
 * gives the activation's slope without keeping both.
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

/** Rows folded into one: the largest power of 2 that divides the rows and keeps a wide row at most 1,024 values. */
function foldOf(rows: number, channels: number): number {
  let fold = 1;
  while (rows % (fold * 2) === 0 && fold * 2 * channels <= 1024) fold *= 2;
  return fold;
}

/** The geometry both graphs share: x as [rows / fold, fold * C], and how to tile a [C] vector and sum a wide tensor per channel. */
function layout(shape: number[]) {
  const channels = shape[shape.length - 1]!;
  const rows = shape.reduce((a, b) => a * b, 1) / channels;
  const fold = foldOf(rows, channels);
  const initializers = [
    int64s('wide', [rows / fold, fold * channels]),
    int64s('row', [1, channels]),
    int64s('tiles', [1, fold]),
    int64s('folded', [fold, channels]),
    int64s('axis0', [0]),
    int64s('shape', shape),
  ];
  /** A [C] input as a [1, fold * C] row. */
  const tiled = (input: string, output: string): OnnxNode[] => [op('Reshape', [input, 'row'], `${output}_row`), op('Tile', [`${output}_row`, 'tiles'], output)];
  /** A wide [rows / fold, fold * C] tensor's sum (or mean) per channel, [C]: over its rows, then over the fold's parts. */
  const perChannel = (input: string, output: string, reduce: 'ReduceSum' | 'ReduceMean'): OnnxNode[] => [
    op(reduce, [input, 'axis0'], `${output}_wide`, { keepdims: { i: 1 } }),
    op('Reshape', [`${output}_wide`, 'folded'], `${output}_folded`),
    op(reduce, [`${output}_folded`, 'axis0'], output, { keepdims: { i: 0 } }),
  ];
  return { channels, rows, fold, initializers, tiled, perChannel };
}

/** Inputs x (NHWC), gamma [C], beta [C]; outputs y (NHWC, after the activation), mean [C], variance [C]. */
export function batchNormForwardGraph(shape: number[], epsilon: number, slope: Slope): OnnxGraph {
  const { channels, initializers, tiled, perChannel } = layout(shape);
  const activation: OnnxNode[] = slope === null ? [op('Identity', ['normalised'], 'y2')] : slope === 0 ? [op('Relu', ['normalised'], 'y2')] : [op('LeakyRelu', ['normalised'], 'y2', { alpha: { f: slope } })];
  return {
    name: 'batch-norm',
    nodes: [
      op('Reshape', ['x', 'wide'], 'x2'),
      ...perChannel('x2', 'mean', 'ReduceMean'),
      ...tiled('mean', 'mean_tiled'),
      op('Sub', ['x2', 'mean_tiled'], 'centred'),
      op('Mul', ['centred', 'centred'], 'squares'),
      ...perChannel('squares', 'variance', 'ReduceMean'),
      op('Add', ['variance', 'epsilon'], 'var_eps'),
      op('Sqrt', ['var_eps'], 'deviation'),
      op('Div', ['gamma', 'deviation'], 'scale'),
      ...tiled('scale', 'scale_tiled'),
      ...tiled('beta', 'beta_tiled'),
      op('Mul', ['centred', 'scale_tiled'], 'scaled'),
      op('Add', ['scaled', 'beta_tiled'], 'normalised'),
      ...activation,
      op('Reshape', ['y2', 'shape'], 'y'),
    ],
    initializers: [...initializers, scalar('epsilon', epsilon)],
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
  const { channels, rows, initializers, tiled, perChannel } = layout(shape);
  const activation: OnnxNode[] =
    slope === null
      ? [op('Identity', ['dy2'], 'g')]
      : [op('Reshape', ['y', 'wide'], 'y2'), op('Greater', ['y2', 'zero'], 'positive'), op('Mul', ['dy2', 'alpha'], 'dy_alpha'), op('Where', ['positive', 'dy2', 'dy_alpha'], 'g')];
  return {
    name: 'batch-norm-gradient',
    nodes: [
      op('Reshape', ['dy', 'wide'], 'dy2'),
      ...activation,
      op('Reshape', ['x', 'wide'], 'x2'),
      op('Add', ['variance', 'epsilon'], 'var_eps'),
      op('Sqrt', ['var_eps'], 'deviation'),
      op('Reciprocal', ['deviation'], 'inv'),
      ...tiled('mean', 'mean_tiled'),
      ...tiled('inv', 'inv_tiled'),
      op('Sub', ['x2', 'mean_tiled'], 'centred'),
      op('Mul', ['centred', 'inv_tiled'], 'xhat'),
      ...perChannel('g', 'dbeta', 'ReduceSum'),
      op('Mul', ['g', 'xhat'], 'g_xhat'),
      ...perChannel('g_xhat', 'dgamma', 'ReduceSum'),
      // dx = k * g + (c2 * xhat + c1), with k = gamma * inv, c2 = -k * dgamma / m, c1 = -k * dbeta / m (per channel).
      op('Mul', ['gamma', 'inv'], 'k'),
      op('Mul', ['k', 'minus_one_over_m'], 'k_m'),
      op('Mul', ['k_m', 'dgamma'], 'c2'),
      op('Mul', ['k_m', 'dbeta'], 'c1'),
      ...tiled('k', 'k_tiled'),
      ...tiled('c2', 'c2_tiled'),
      ...tiled('c1', 'c1_tiled'),
      op('Mul', ['g', 'k_tiled'], 'gk'),
      op('Mul', ['xhat', 'c2_tiled'], 'xhat_c2'),
      op('Add', ['gk', 'xhat_c2'], 'dx_part'),
      op('Add', ['dx_part', 'c1_tiled'], 'dx2'),
      op('Reshape', ['dx2', 'shape'], 'dx'),
    ],
    initializers: [...initializers, scalar('epsilon', epsilon), scalar('minus_one_over_m', -1 / rows), ...(slope === null ? [] : [scalar('zero', 0), scalar('alpha', slope)])],
    inputs: [io('dy', shape), io('y', shape), io('x', shape), io('mean', [channels]), io('variance', [channels]), io('gamma', [channels])],
    outputs: [io('dx', shape), io('dgamma', [channels]), io('dbeta', [channels])],
  };
}
