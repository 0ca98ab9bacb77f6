/**
 * A convolution and both its gradients as gathers and matrix products, in NHWC, the layout tfjs keeps: the ONNX graphs
 * that native-conv.ts runs on onnxruntime-node.
 *
 * Why not ONNX's Conv and ConvTranspose: onnxruntime's CPU Conv takes NCHW (a transpose in and out) and multiplies one
 * image at a time, a matrix as narrow as the image's output positions (16 to 256 here). Gathering the whole batch's
 * patches first (im2col as one Gather of rows, with a zero row for the padding) makes one product [N*Ho*Wo, kh*kw*Ci]
 * x [kh*kw*Ci, Co] whose operands are tfjs's own layouts, the filter [kh, kw, Ci, Co] included. Measured for D's
 * 64 -> 128 layer at 16x16 (batch 64, 2 threads of an AMD EPYC, `scratch`-free: tests/bench/native-conv.ts prints the
 * per-layer times): Transpose + Conv + Transpose 13.9 ms a call, Gather + MatMul 7.2 ms, within 2e-5.
 *
 * - forward: y = im2col(x) . w;
 * - filter gradient: dw = im2col(x)^T . dy (onnxruntime fuses the transpose into its matrix product);
 * - input gradient: each input position's taps form s x s phases (Dumoulin & Visin 2016, "A guide to convolution
 *   arithmetic", section 4): the positions of one phase meet the same ceil(k/s)^2 taps, so dx is one batched product
 *   per phase, dy's gathered rows by that phase's filter taps, and a last Gather puts the phases' rows back in order.
 */
import type { Initializer, OnnxGraph, OnnxNode } from '../../export/onnx-model.js';

export type Shape4 = [number, number, number, number];

/** A convolution's geometry, as tfjs's computeConv2DInfo gives it (pads top, left, bottom, right). */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

const int64s = (name: string, dims: number[], values: ArrayLike<number>): Initializer => ({ name, dims, data: BigInt64Array.from(Array.from(values, BigInt)) });
const shape = (name: string, values: number[]): Initializer => int64s(name, [values.length], values);
const zeros = (name: string, dims: number[]): Initializer => ({ name, dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
const reshape = (input: string, to: string, output: string): OnnxNode => ({ op: 'Reshape', inputs: [input, to], outputs: [output] });
const gather = (data: string, indices: string, output: string): OnnxNode => ({ op: 'Gather', inputs: [data, indices], outputs: [output], attrs: { axis: { i: 0 } } });
/** `rows` with one zero row appended: the row every out-of-range index points at. */
const withZeroRow = (rows: string, zero: string, output: string): OnnxNode => ({ op: 'Concat', inputs: [rows, zero], outputs: [output], attrs: { axis: { i: 0 } } });

function graph(name: string, nodes: OnnxNode[], inputs: [string, Shape4][], output: [string, Shape4], initializers: Initializer[]): OnnxGraph {
  return {
    name,
    nodes,
    initializers,
    inputs: inputs.map(([n, s]) => ({ name: n, dtype: 'float32', shape: s })),
    outputs: [{ name: output[0], dtype: 'float32', shape: output[1] }],
  };
}

/**
 * im2col's row indices: for output position m = (n, oh, ow) and tap t = (kh, kw), the row (n, ih, iw) of x as
 * [N*H*W, Ci], or N*H*W (the zero row) where the tap falls in the padding.
 */
export function patchRows(g: ConvGeometry): Int32Array {
  const { batch: N, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw } = g;
  const zero = N * H * W;
  const rows = new Int32Array(N * Ho * Wo * kh * kw);
  let i = 0;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const ih = oh * g.strideHeight + a - g.padTop;
            const iw = ow * g.strideWidth + b - g.padLeft;
            rows[i++] = ih < 0 || iw < 0 || ih >= H || iw >= W ? zero : (n * H + ih) * W + iw;
          }
  return rows;
}

/** The gathered patches of x: [N*Ho*Wo, kh*kw*Ci] as 'cols'. */
function im2col(g: ConvGeometry): { nodes: OnnxNode[]; initializers: Initializer[] } {
  const M = g.batch * g.outHeight * g.outWidth;
  const taps = g.filterHeight * g.filterWidth;
  return {
    nodes: [reshape('x', 'x_rows', 'x2'), withZeroRow('x2', 'zero', 'xz'), gather('xz', 'patches', 'cols3'), reshape('cols3', 'cols_shape', 'cols')],
    initializers: [
      shape('x_rows', [g.batch * g.inHeight * g.inWidth, g.inChannels]),
      zeros('zero', [1, g.inChannels]),
      int64s('patches', [M, taps], patchRows(g)),
      shape('cols_shape', [M, taps * g.inChannels]),
    ],
  };
}

const inputShape = (g: ConvGeometry): Shape4 => [g.batch, g.inHeight, g.inWidth, g.inChannels];
const outputShape = (g: ConvGeometry): Shape4 => [g.batch, g.outHeight, g.outWidth, g.outChannels];
const filterShape = (g: ConvGeometry): Shape4 => [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];

/** y = conv(x, w): inputs x (NHWC) and w ([kh, kw, Ci, Co]), output y (NHWC). */
export function convForwardGraph(g: ConvGeometry): OnnxGraph {
  const cols = im2col(g);
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  return graph('conv', [
    ...cols.nodes,
    reshape('w', 'w_shape', 'w2'),
    { op: 'MatMul', inputs: ['cols', 'w2'], outputs: ['y2'] },
    reshape('y2', 'y_shape', 'y'),
  ], [['x', inputShape(g)], ['w', filterShape(g)]], ['y', outputShape(g)], [...cols.initializers, shape('w_shape', [K, g.outChannels]), shape('y_shape', outputShape(g))]);
}

/** dw of conv(x, w): inputs x (NHWC) and dy (NHWC), output y ([kh, kw, Ci, Co]). */
export function convFilterGradientGraph(g: ConvGeometry): OnnxGraph {
  const cols = im2col(g);
  const M = g.batch * g.outHeight * g.outWidth;
  return graph('conv-filter-gradient', [
    ...cols.nodes,
    { op: 'Transpose', inputs: ['cols'], outputs: ['colsT'], attrs: { perm: { ints: [1, 0] } } },
    reshape('dy', 'dy_rows', 'dy2'),
    { op: 'MatMul', inputs: ['colsT', 'dy2'], outputs: ['y2'] },
    reshape('y2', 'y_shape', 'y'),
  ], [['x', inputShape(g)], ['dy', outputShape(g)]], ['y', filterShape(g)], [...cols.initializers, shape('dy_rows', [M, g.outChannels]), shape('y_shape', filterShape(g))]);
}

/**
 * The input gradient's phases. An input position at padded coordinates (u, v) = (ih + top, iw + left) receives
 * dy[(u - a) / s] . w[a] from every tap a with u - a a multiple of s: a = u mod s, u mod s + s, ... So positions with
 * the same (u mod sh, v mod sw) share their taps: ceil(kh/sh) * ceil(kw/sw) of them (a tap past the filter's edge, or
 * a dy row out of range, reads the zero row).
 */
export function inputGradientPhases(g: ConvGeometry): { phases: number; slots: number; tapsPerPhase: number; dyRows: Int32Array; filterTaps: Int32Array; order: Int32Array } {
  const { batch: N, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = g;
  const th = Math.ceil(kh / sh);
  const tw = Math.ceil(kw / sw);
  const phases = sh * sw;
  const tapsPerPhase = th * tw;
  // Positions per phase: as many as the largest phase holds; smaller phases end in unused slots of zero rows.
  const count = new Int32Array(phases);
  const phaseOf = (ih: number, iw: number) => (((ih + g.padTop) % sh) * sw) + ((iw + g.padLeft) % sw);
  for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) count[phaseOf(ih, iw)]! += N;
  const slots = Math.max(...count);
  const zeroDy = N * Ho * Wo;
  const dyRows = new Int32Array(phases * slots * tapsPerPhase).fill(zeroDy);
  const order = new Int32Array(N * H * W);
  const filled = new Int32Array(phases);
  for (let n = 0; n < N; n++)
    for (let ih = 0; ih < H; ih++)
      for (let iw = 0; iw < W; iw++) {
        const u = ih + g.padTop;
        const v = iw + g.padLeft;
        const p = phaseOf(ih, iw);
        const slot = filled[p]!++;
        order[(n * H + ih) * W + iw] = p * slots + slot;
        for (let i = 0; i < th; i++)
          for (let j = 0; j < tw; j++) {
            const a = (u % sh) + i * sh;
            const b = (v % sw) + j * sw;
            const oh = (u - a) / sh;
            const ow = (v - b) / sw;
            if (a < kh && b < kw && oh >= 0 && ow >= 0 && oh < Ho && ow < Wo) dyRows[(p * slots + slot) * tapsPerPhase + i * tw + j] = (n * Ho + oh) * Wo + ow;
          }
      }
  // Each phase's filter taps, kh*kw (a zero block) past the filter's edge.
  const filterTaps = new Int32Array(phases * tapsPerPhase);
  for (let p = 0; p < phases; p++)
    for (let i = 0; i < th; i++)
      for (let j = 0; j < tw; j++) {
        const a = Math.floor(p / sw) + i * sh;
        const b = (p % sw) + j * sw;
        filterTaps[p * tapsPerPhase + i * tw + j] = a < kh && b < kw ? a * kw + b : kh * kw;
      }
  return { phases, slots, tapsPerPhase, dyRows, filterTaps, order };
}

/**
 * dx of conv(x, w), the transposed convolution: inputs dy (NHWC) and w ([kh, kw, Ci, Co]), output y (NHWC). Per
 * phase, [slots, taps*Co] (dy's gathered rows) x [taps*Co, Ci] (the phase's taps of w, transposed per tap).
 */
export function convInputGradientGraph(g: ConvGeometry): OnnxGraph {
  const { phases, slots, tapsPerPhase, dyRows, filterTaps, order } = inputGradientPhases(g);
  const { inChannels: Ci, outChannels: Co } = g;
  const taps = g.filterHeight * g.filterWidth;
  const inPlace = phases === 1 && order.every((o, i) => o === i) && slots === order.length;
  return graph('conv-input-gradient', [
    reshape('dy', 'dy_rows', 'dy2'),
    withZeroRow('dy2', 'zero', 'dyz'),
    gather('dyz', 'dy_taps', 'dy_cols4'),
    reshape('dy_cols4', 'dy_cols_shape', 'dy_cols'),
    reshape('w', 'w_taps', 'w3'),
    { op: 'Transpose', inputs: ['w3'], outputs: ['wt'], attrs: { perm: { ints: [0, 2, 1] } } },
    withZeroRow('wt', 'zero_tap', 'wtz'),
    gather('wtz', 'filter_taps', 'w_phases4'),
    reshape('w_phases4', 'w_phases_shape', 'w_phases'),
    { op: 'MatMul', inputs: ['dy_cols', 'w_phases'], outputs: ['dx3'] },
    reshape('dx3', 'dx_rows', 'dx2'),
    ...(inPlace ? [reshape('dx2', 'y_shape', 'y')] : [gather('dx2', 'order', 'dx_ordered'), reshape('dx_ordered', 'y_shape', 'y')]),
  ], [['dy', outputShape(g)], ['w', filterShape(g)]], ['y', inputShape(g)], [
    shape('dy_rows', [g.batch * g.outHeight * g.outWidth, Co]),
    zeros('zero', [1, Co]),
    int64s('dy_taps', [phases, slots, tapsPerPhase], dyRows),
    shape('dy_cols_shape', [phases, slots, tapsPerPhase * Co]),
    shape('w_taps', [taps, Ci, Co]),
    zeros('zero_tap', [1, Co, Ci]),
    int64s('filter_taps', [phases, tapsPerPhase], filterTaps),
    shape('w_phases_shape', [phases, tapsPerPhase * Co, Ci]),
    shape('dx_rows', [phases * slots, Ci]),
    ...(inPlace ? [] : [int64s('order', [order.length], order)]),
    shape('y_shape', inputShape(g)),
  ]);
}
