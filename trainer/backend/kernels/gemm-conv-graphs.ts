/**
 * A convolution and both its gradients as gathers and matrix products, in NHWC, the layout tfjs keeps: the ONNX graphs
 * that native-kernels.ts runs on onnxruntime-node.
 *
 * Why not ONNX's Conv and ConvTranspose: onnxruntime's CPU Conv takes NCHW (a transpose in and out) and multiplies one
 * image at a time, a matrix as narrow as the image's output positions (16 to 256 here). Gathering the whole batch's
 * patches first (im2col as one Gather of rows, with a zero row for the padding) makes one product [N*Ho*Wo, kh*kw*Ci]
 * x [kh*kw*Ci, Co] whose operands are tfjs's own layouts, the filter [kh, kw, Ci, Co] included. Measured for D's
 * 64 -> 128 layer at 16x16 (batch 64, 2 threads of an AMD EPYC, onnxruntime alone): Transpose + Conv + Transpose
 * 13.9 ms a call, Gather + MatMul 7.2 ms, within 2e-5 of each other. `node --import tsx tests/bench/native-conv.ts`
 * prints each layer's time against XNNPACK's.
 *
 * - forward: y = im2col(x) . w;
 * - filter gradient: dw = im2col(x)^T . dy (onnxruntime fuses the transpose into its matrix product);
 * - input gradient (the transposed convolution): the s x s input positions of a stride's window read the same
 *   ceil(k/s)^2 rows of dy, each with its own taps of w (its phase; Dumoulin & Visin 2016, "A guide to convolution
 *   arithmetic", section 4), so dx is one product of dy's gathered windows by w's taps arranged by phase, and a last
 *   Gather puts the rows back in order.
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

const inputShape = (g: ConvGeometry): Shape4 => [g.batch, g.inHeight, g.inWidth, g.inChannels];
const outputShape = (g: ConvGeometry): Shape4 => [g.batch, g.outHeight, g.outWidth, g.outChannels];
const filterShape = (g: ConvGeometry): Shape4 => [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];

/**
 * The gathered patches of x, [N*Ho*Wo, kh*kw*Ci] as 'cols', and how to turn the filter [kh, kw, Ci, Co] into the
 * matching rows ('w' to 'w2') and those rows back ('dw2' to 'y'). Columns are (kh, kw, ci), or for a folded image
 * (foldedIm2col) (j, l, r, c, ci).
 */
interface Patches {
  nodes: OnnxNode[];
  initializers: Initializer[];
  filterToRows: { nodes: OnnxNode[]; initializers: Initializer[] };
  rowsToFilter: { nodes: OnnxNode[]; initializers: Initializer[] };
}

/** Below this many channels a row of x is too short for a fast Gather: fold the image by the stride first. */
const FOLD_BELOW_CHANNELS = 8;

function im2col(g: ConvGeometry): Patches {
  const folded = g.inChannels < FOLD_BELOW_CHANNELS ? foldedIm2col(g) : null;
  if (folded) return folded;
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
    filterToRows: { nodes: [reshape('w', 'w_rows', 'w2')], initializers: [shape('w_rows', [taps * g.inChannels, g.outChannels])] },
    rowsToFilter: { nodes: [reshape('dw2', 'w_shape', 'y')], initializers: [shape('w_shape', filterShape(g))] },
  };
}

/**
 * im2col for an image of few channels (D's first layer on RGB), where a Gather of 3-float rows is slow: x padded and
 * folded by the stride (space-to-depth: [N, qh, qw, sh*sw*Ci]), so that tap kh = j*sh + r of output row oh is phase r
 * of folded row oh + j, and each patch gathers (kh/sh)*(kw/sw) rows of sh*sw*Ci floats instead of kh*kw rows of Ci.
 * Measured for D's first layer at 64x64 (2 threads, AMD EPYC), the filter gradient: 13.7 ms a call gathering rows
 * of 3 floats. Needs a kernel that the stride divides, and padding that the folded image covers; null otherwise.
 */
function foldedIm2col(g: ConvGeometry): Patches | null {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = g;
  if (kh % sh !== 0 || kw % sw !== 0) return null;
  const [th, tw] = [kh / sh, kw / sw];
  const [qh, qw] = [Ho + th - 1, Wo + tw - 1];
  const bottom = sh * qh - H - g.padTop;
  const right = sw * qw - W - g.padLeft;
  if (bottom < 0 || right < 0) return null;
  const rows = new Int32Array(N * Ho * Wo * th * tw);
  let i = 0;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let j = 0; j < th; j++) for (let l = 0; l < tw; l++) rows[i++] = (n * qh + oh + j) * qw + ow + l;
  const swapMiddle = { perm: { ints: [0, 2, 1, 3, 4, 5] } };
  return {
    nodes: [
      { op: 'Pad', inputs: ['x', 'pads'], outputs: ['xp'] },
      reshape('xp', 'fold_shape', 'xp6'),
      { op: 'Transpose', inputs: ['xp6'], outputs: ['xf6'], attrs: { perm: { ints: [0, 1, 3, 2, 4, 5] } } },
      reshape('xf6', 'folded_rows', 'xf'),
      gather('xf', 'patches', 'cols3'),
      reshape('cols3', 'cols_shape', 'cols'),
    ],
    initializers: [
      shape('pads', [0, g.padTop, g.padLeft, 0, 0, bottom, right, 0]),
      shape('fold_shape', [N, qh, sh, qw, sw, C]),
      shape('folded_rows', [N * qh * qw, sh * sw * C]),
      int64s('patches', [N * Ho * Wo, th * tw], rows),
      shape('cols_shape', [N * Ho * Wo, kh * kw * C]),
    ],
    // w[j*sh + r, l*sw + c] as rows (j, l, r, c, ci), and back.
    filterToRows: {
      nodes: [reshape('w', 'w_six', 'w6'), { op: 'Transpose', inputs: ['w6'], outputs: ['w6t'], attrs: swapMiddle }, reshape('w6t', 'w_rows', 'w2')],
      initializers: [shape('w_six', [th, sh, tw, sw, C, g.outChannels]), shape('w_rows', [kh * kw * C, g.outChannels])],
    },
    rowsToFilter: {
      nodes: [reshape('dw2', 'dw_six', 'dw6'), { op: 'Transpose', inputs: ['dw6'], outputs: ['dw6t'], attrs: swapMiddle }, reshape('dw6t', 'w_shape', 'y')],
      initializers: [shape('dw_six', [th, tw, sh, sw, C, g.outChannels]), shape('w_shape', filterShape(g))],
    },
  };
}

/** y = conv(x, w): inputs x (NHWC) and w ([kh, kw, Ci, Co]), output y (NHWC). */
export function convForwardGraph(g: ConvGeometry): OnnxGraph {
  const cols = im2col(g);
  return graph('conv', [
    ...cols.nodes,
    ...cols.filterToRows.nodes,
    { op: 'MatMul', inputs: ['cols', 'w2'], outputs: ['y2'] },
    reshape('y2', 'y_shape', 'y'),
  ], [['x', inputShape(g)], ['w', filterShape(g)]], ['y', outputShape(g)], [...cols.initializers, ...cols.filterToRows.initializers, shape('y_shape', outputShape(g))]);
}

/**
 * The filter gradient's product is [K, M] x [M, Co] with K = kh*kw*Ci: for D's first layer on RGB (K = 48, Co = 32 at
 * 64x64) the output has too few tiles for onnxruntime to share between threads, and its long sum (M = 65,536) runs on
 * one. So a small output is summed in SPLIT parts of M, a batched product whose parts run in parallel, then added up.
 * The number of parts is fixed, not the thread count, so that the sums' order (and the result) is the same on any.
 */
const SPLIT = 8;
const SPLIT_MAX_OUTPUT = 16384;

/** dw of conv(x, w): inputs x (NHWC) and dy (NHWC), output y ([kh, kw, Ci, Co]). */
export function convFilterGradientGraph(g: ConvGeometry): OnnxGraph {
  const cols = im2col(g);
  const M = g.batch * g.outHeight * g.outWidth;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const parts = K * g.outChannels <= SPLIT_MAX_OUTPUT && M % SPLIT === 0 ? SPLIT : 1;
  const product: OnnxNode[] =
    parts === 1
      ? [{ op: 'Transpose', inputs: ['cols'], outputs: ['colsT'], attrs: { perm: { ints: [1, 0] } } }, reshape('dy', 'dy_rows', 'dy2'), { op: 'MatMul', inputs: ['colsT', 'dy2'], outputs: ['dw2'] }]
      : [
          reshape('cols', 'cols_parts', 'cols_p'),
          { op: 'Transpose', inputs: ['cols_p'], outputs: ['colsT'], attrs: { perm: { ints: [0, 2, 1] } } },
          reshape('dy', 'dy_parts', 'dy_p'),
          { op: 'MatMul', inputs: ['colsT', 'dy_p'], outputs: ['dw_parts'] },
          { op: 'ReduceSum', inputs: ['dw_parts', 'axis0'], outputs: ['dw2'], attrs: { keepdims: { i: 0 } } },
        ];
  return graph('conv-filter-gradient', [...cols.nodes, ...product, ...cols.rowsToFilter.nodes], [['x', inputShape(g)], ['dy', outputShape(g)]], ['y', filterShape(g)], [
    ...cols.initializers,
    ...cols.rowsToFilter.initializers,
    ...(parts === 1 ? [shape('dy_rows', [M, g.outChannels])] : [shape('cols_parts', [parts, M / parts, K]), shape('dy_parts', [parts, M / parts, g.outChannels]), shape('axis0', [0])]),
  ]);
}

/**
 * The input gradient's windows. An input position at padded coordinate u = ih + top receives dy[(u - a) / s] . w[a]
 * from every tap a with u - a a multiple of s: a = r + s*j for its phase r = u mod s and j = 0, 1, ..., reading
 * dy[q - j] where q = floor(u / s). So every position with the same q (any phase) reads the same window of
 * t = ceil(k / s) rows of dy, q - t + 1 .. q, and one product [windows, th*tw*Co] x [th*tw*Co, sh*sw*Ci] gives every
 * phase of every window at once (a tap past the filter's edge has a zero block of weights; a dy row out of range reads
 * the zero row). A last Gather puts each input position's row back in NHWC order.
 */
export function inputGradientWindows(g: ConvGeometry): { windows: number; taps: number; dyRows: Int32Array; filterTaps: Int32Array; order: Int32Array } {
  const { batch: N, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const th = Math.ceil(kh / sh);
  const tw = Math.ceil(kw / sw);
  const [q0h, q0w] = [Math.floor(pt / sh), Math.floor(pl / sw)];
  const qh = Math.floor((H - 1 + pt) / sh) - q0h + 1;
  const qw = Math.floor((W - 1 + pl) / sw) - q0w + 1;
  const windows = N * qh * qw;
  const taps = th * tw;
  const dyRows = new Int32Array(windows * taps);
  let i = 0;
  for (let n = 0; n < N; n++)
    for (let a = 0; a < qh; a++)
      for (let b = 0; b < qw; b++)
        for (let j = 0; j < th; j++)
          for (let l = 0; l < tw; l++) {
            const oh = q0h + a - j;
            const ow = q0w + b - l;
            dyRows[i++] = oh >= 0 && ow >= 0 && oh < Ho && ow < Wo ? (n * Ho + oh) * Wo + ow : N * Ho * Wo;
          }
  // The weights' rows are taps (j, l) and columns phases (r, c): w[r + s*j, c + s*l], or kh*kw (a zero block).
  const filterTaps = new Int32Array(taps * sh * sw);
  i = 0;
  for (let j = 0; j < th; j++)
    for (let l = 0; l < tw; l++)
      for (let r = 0; r < sh; r++)
        for (let c = 0; c < sw; c++) {
          const [a, b] = [r + sh * j, c + sw * l];
          filterTaps[i++] = a < kh && b < kw ? a * kw + b : kh * kw;
        }
  // The product's rows are (window, phase) pairs: input position (n, ih, iw) is row ((n, q_h, q_w), (r_h, r_w)).
  const order = new Int32Array(N * H * W);
  i = 0;
  for (let n = 0; n < N; n++)
    for (let ih = 0; ih < H; ih++)
      for (let iw = 0; iw < W; iw++) {
        const [u, v] = [ih + pt, iw + pl];
        const window = (n * qh + Math.floor(u / sh) - q0h) * qw + Math.floor(v / sw) - q0w;
        order[i++] = window * sh * sw + (u % sh) * sw + (v % sw);
      }
  return { windows, taps, dyRows, filterTaps, order };
}

/**
 * dx of conv(x, w), the transposed convolution: inputs dy (NHWC) and w ([kh, kw, Ci, Co]), output y (NHWC). By
 * windows, or where dy has at most COL2IM_MAX_POSITIONS positions an image, by col2im (convInputGradientCol2imGraph).
 */
export function convInputGradientGraph(g: ConvGeometry): OnnxGraph {
  return g.outHeight * g.outWidth <= COL2IM_MAX_POSITIONS ? convInputGradientCol2imGraph(g) : convInputGradientWindowsGraph(g);
}

/**
 * On a small dy the windows waste work: a 4x4 dy has 5x5 windows of a 4x4 filter at stride 2, 1.56 times the
 * products the gradient needs. Measured for dy [64, 4, 4, 256] -> dx [64, 8, 8, 128] (2 threads, AMD EPYC): windows
 * 14.4 ms, col2im 7.3-8.3; for dy [64, 16, 16, 64], windows 9.7 ms and col2im 11.8-13.0.
 */
const COL2IM_MAX_POSITIONS = 16;

/**
 * dx by col2im: every output position's contribution to each tap, [N*Ho*Wo, Co] x [Co, kh*kw*Ci] (dy with a zero
 * row appended, so the product ends in kh*kw zero rows), then each input position gathers and sums the rows that land
 * on it, as [taps, N*H*W, Ci] summed over its first axis.
 */
export function convInputGradientCol2imGraph(g: ConvGeometry): OnnxGraph {
  const { batch: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = g;
  const M = N * Ho * Wo;
  const taps = g.filterHeight * g.filterWidth;
  const patches = patchRows(g);
  // For each input row, the rows (m, tap) of the product that land on it; the longest list sets the depth.
  const lists: number[][] = Array.from({ length: N * H * W }, () => []);
  patches.forEach((row, i) => {
    if (row < N * H * W) lists[row]!.push(i);
  });
  const depth = Math.max(1, ...lists.map((l) => l.length));
  const landing = new Int32Array(depth * N * H * W).fill(M * taps);
  lists.forEach((l, row) => l.forEach((i, d) => (landing[d * N * H * W + row] = i)));
  return graph('conv-input-gradient-col2im', [
    reshape('dy', 'dy_rows', 'dy2'),
    withZeroRow('dy2', 'zero', 'dyz'),
    reshape('w', 'w_shape', 'w2'),
    { op: 'Transpose', inputs: ['w2'], outputs: ['wT'], attrs: { perm: { ints: [1, 0] } } },
    { op: 'MatMul', inputs: ['dyz', 'wT'], outputs: ['cols'] },
    reshape('cols', 'col_rows', 'cols2'),
    gather('cols2', 'landing', 'parts'),
    { op: 'ReduceSum', inputs: ['parts', 'axis0'], outputs: ['dx2'], attrs: { keepdims: { i: 0 } } },
    reshape('dx2', 'y_shape', 'y'),
  ], [['dy', outputShape(g)], ['w', filterShape(g)]], ['y', inputShape(g)], [
    shape('dy_rows', [M, Co]),
    zeros('zero', [1, Co]),
    shape('w_shape', [taps * Ci, Co]),
    shape('col_rows', [(M + 1) * taps, Ci]),
    int64s('landing', [depth, N * H * W], landing),
    shape('axis0', [0]),
    shape('y_shape', inputShape(g)),
  ]);
}

/** dx by windows: [windows, taps*Co] (dy's gathered windows) x [taps*Co, phases*Ci] (w's taps by phase). */
export function convInputGradientWindowsGraph(g: ConvGeometry): OnnxGraph {
  const { windows, taps, dyRows, filterTaps, order } = inputGradientWindows(g);
  const { inChannels: Ci, outChannels: Co } = g;
  const phases = g.strideHeight * g.strideWidth;
  const inPlace = phases === 1 && order.every((o, i) => o === i) && windows === order.length;
  return graph('conv-input-gradient', [
    reshape('dy', 'dy_rows', 'dy2'),
    withZeroRow('dy2', 'zero', 'dyz'),
    gather('dyz', 'dy_taps', 'dy_cols3'),
    reshape('dy_cols3', 'dy_cols_shape', 'dy_cols'),
    // w as [kh*kw, Co, Ci] with a zero block, gathered to [taps, phases, Co, Ci], then rows (tap, co), columns (phase, ci).
    reshape('w', 'w_taps', 'w3'),
    { op: 'Transpose', inputs: ['w3'], outputs: ['wt'], attrs: { perm: { ints: [0, 2, 1] } } },
    withZeroRow('wt', 'zero_tap', 'wtz'),
    gather('wtz', 'filter_taps', 'w_taps4'),
    { op: 'Transpose', inputs: ['w_taps4'], outputs: ['w_taps4t'], attrs: { perm: { ints: [0, 2, 1, 3] } } },
    reshape('w_taps4t', 'w_cols_shape', 'w_cols'),
    { op: 'MatMul', inputs: ['dy_cols', 'w_cols'], outputs: ['dx_windows'] },
    reshape('dx_windows', 'dx_rows', 'dx2'),
    ...(inPlace ? [reshape('dx2', 'y_shape', 'y')] : [gather('dx2', 'order', 'dx_ordered'), reshape('dx_ordered', 'y_shape', 'y')]),
  ], [['dy', outputShape(g)], ['w', filterShape(g)]], ['y', inputShape(g)], [
    shape('dy_rows', [g.batch * g.outHeight * g.outWidth, Co]),
    zeros('zero', [1, Co]),
    int64s('dy_taps', [windows, taps], dyRows),
    shape('dy_cols_shape', [windows, taps * Co]),
    shape('w_taps', [g.filterHeight * g.filterWidth, Ci, Co]),
    zeros('zero_tap', [1, Co, Ci]),
    int64s('filter_taps', [taps, phases], filterTaps),
    shape('w_cols_shape', [taps * Co, phases * Ci]),
    shape('dx_rows', [windows * phases, Ci]),
    ...(inPlace ? [] : [int64s('order', [order.length], order)]),
    shape('y_shape', inputShape(g)),
  ]);
}

/** y = a . b for matrices a and b, each transposed or not: one Gemm. */
export function matMulGraph(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): OnnxGraph {
  const [a, b] = [aShape, bShape] as [[number, number], [number, number]];
  const y = [transposeA ? a[1] : a[0], transposeB ? b[0] : b[1]];
  return {
    name: 'matmul',
    nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], attrs: { transA: { i: transposeA ? 1 : 0 }, transB: { i: transposeB ? 1 : 0 } } }],
    initializers: [],
    inputs: [
      { name: 'a', dtype: 'float32', shape: aShape },
      { name: 'b', dtype: 'float32', shape: bShape },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: y }],
  };
}
