/**
 * The wasm backend's convolutions on the CPU's native kernels: onnxruntime-node's MLAS (AVX2 or AVX-512 with fused
 * multiply-add where the CPU has them), called synchronously from inside a tfjs kernel. WebAssembly has 128-bit SIMD
 * without fused multiply-add, so XNNPACK's convolutions in wasm reach 14-16 G multiply-adds/s on this machine's two
 * cores, and the convolutions are most of a DCGAN step (docs/benchmarks.md, "Making the CPU trainer faster").
 *
 * Each convolution is a one-node ONNX graph (with the layout transposes inside it: tfjs is NHWC, ONNX NCHW), one
 * session per shape, opened once and kept. The tensors are read from and written to the wasm heap directly: the
 * inputs as views, the output as a pre-allocated ORT tensor over the tfjs output's memory.
 *
 * onnxruntime-node's public `run` is asynchronous, but it only defers a synchronous native call
 * (`dist/binding`'s InferenceSession, "a simple synchronized inference session object wrap"): a tfjs kernel must
 * return its output, so this module calls that binding. It is pinned with the package (1.30.0); when it cannot
 * load, `loadNativeConvolutions` returns null and the wasm kernels stay.
 */
import { createRequire } from 'node:module';
import { tf, type TensorInfo } from '../tf.js';
import { serializeModel, type Initializer, type OnnxGraph, type OnnxNode } from '../../export/onnx-model.js';

type Shape4 = [number, number, number, number];
type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

interface OrtTensorLike {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
interface BindingSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensorLike>, fetches: Record<string, OrtTensorLike | null>, options: object): Record<string, OrtTensorLike>;
  dispose(): void;
}
interface Binding {
  InferenceSession: new () => BindingSession;
}
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** NHWC <-> NCHW, and tfjs's filter [kh, kw, ci, co] to ONNX's [co, ci, kh, kw] (also ConvTranspose's [in, out, kh, kw] of the gradient). */
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
const FILTER_TO_ONNX = [3, 2, 0, 1];

function transpose(input: string, output: string, perm: number[]): OnnxNode {
  return { op: 'Transpose', inputs: [input], outputs: [output], attrs: { perm: { ints: perm } } };
}

function graph(name: string, nodes: OnnxNode[], inputs: [string, Shape4][], output: [string, Shape4], initializers: Initializer[] = []): Uint8Array {
  const g: OnnxGraph = {
    name,
    nodes,
    initializers,
    inputs: inputs.map(([n, shape]) => ({ name: n, dtype: 'float32', shape })),
    outputs: [{ name: output[0], dtype: 'float32', shape: output[1] }],
  };
  return serializeModel(g, 'edge-generative native convolutions', 18);
}

/** What a convolution's padding is, top/left/bottom/right, and whether the native path can take it. */
function padsOf(info: tf.backend_util.Conv2DInfo): number[] | null {
  const { top, left, bottom, right } = info.padInfo;
  return [top, left, bottom, right].every((p) => p >= 0) ? [top, left, bottom, right] : null;
}

const BATCHED_MAX_POSITIONS = 16;

const int64s = (name: string, values: number[]): Initializer => ({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });

/**
 * dx of a convolution as one matrix product over the whole batch and a col2im: dy [N*Ho*Wo, Co] times the filter as
 * [Co, Ci*kh*kw] gives every input position's contributions, which Col2Im (opset 18) adds up into [N, Ci, H, W].
 * onnxruntime's ConvTranspose does the same product one image at a time, a matrix [Ci*kh*kw, Co] x [Co, Ho*Wo]
 * whose narrow side is the image's positions: at 4x4 (G's first layer, 256 -> 128) it took 21.7 ms a call against
 * 13.9 ms batched (best of 8 blocks, one thread, bit-identical results); at 8x8 (128 -> 64) ConvTranspose was the
 * faster, 12.2 against 15.5 ms. Hence up to BATCHED_MAX_POSITIONS positions.
 */
function col2imGraph(dyShape: Shape4, filterShape: Shape4, inputShape: Shape4, strides: number[], pads: number[]): Uint8Array {
  const [N, Ho, Wo, Co] = dyShape;
  const [fh, fw, Ci] = filterShape;
  const [, H, W] = inputShape;
  return graph('conv-transpose-col2im', [
    { op: 'Reshape', inputs: ['x', 'rows'], outputs: ['x2'] },
    transpose('w', 'wc', [3, 2, 0, 1]),
    { op: 'Reshape', inputs: ['wc', 'wshape'], outputs: ['w2'] },
    { op: 'MatMul', inputs: ['x2', 'w2'], outputs: ['cols'] },
    { op: 'Reshape', inputs: ['cols', 'colshape'], outputs: ['cols3'] },
    { op: 'Transpose', inputs: ['cols3'], outputs: ['colsT'], attrs: { perm: { ints: [0, 2, 1] } } },
    { op: 'Col2Im', inputs: ['colsT', 'image', 'block'], outputs: ['yc'], attrs: { strides: { ints: strides }, pads: { ints: pads } } },
    transpose('yc', 'y', TO_NHWC),
  ], [['x', dyShape], ['w', filterShape]], ['y', inputShape], [
    int64s('rows', [N * Ho * Wo, Co]), int64s('wshape', [Co, Ci * fh * fw]), int64s('colshape', [N, Ho * Wo, Ci * fh * fw]),
    int64s('image', [H, W]), int64s('block', [fh, fw]),
  ]);
}

/**
 * Below this many image channels (the RGB image: D's first layer, G's last), XNNPACK in wasm is faster: D's first
 * layer on 64 x 32 x 32 x 3 took 13-19 ms a call here against 3-4 ms in wasm, and the matching input gradient 15 ms
 * against 7-9 (1 thread, docs/benchmarks.md). Its filter gradient stays native (2.3-2.7 ms against 9.5-17).
 */
const MIN_IMAGE_CHANNELS = 8;

/** Sessions kept open (each holds its graph and onnxruntime's buffers); the least recently used is closed first. */
const MAX_SESSIONS = 64;

export interface NativeConvolutions {
  /** Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on the native kernels; null: not this case (the caller's wasm kernel takes it). */
  conv2d(x: TensorInfo, filter: TensorInfo, attrs: ConvAttrs): TensorInfo | null;
  conv2dBackpropInput(dy: TensorInfo, filter: TensorInfo, attrs: ConvAttrs & { inputShape: Shape4 }): TensorInfo | null;
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, attrs: ConvAttrs & { filterShape: Shape4 }): TensorInfo | null;
  /** Sessions open (one per distinct convolution, at most MAX_SESSIONS). */
  readonly sessions: number;
}

/** The native convolutions on `threads` threads, or null where onnxruntime-node's binding does not load. */
export function loadNativeConvolutions(threads: number): NativeConvolutions | null {
  let binding: Binding;
  let OrtTensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
  try {
    const require = createRequire(import.meta.url);
    const loaded = require('onnxruntime-node/dist/binding') as { binding: Binding; initOrt(): void };
    loaded.initOrt();
    binding = loaded.binding;
    OrtTensor = (require('onnxruntime-node') as { Tensor: typeof OrtTensor }).Tensor;
  } catch {
    return null;
  }
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Between runs tfjs has the cores: ORT's pool must not spin-wait for work after each convolution.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  // Most recently used last. A run uses a few dozen shapes; evaluation and sampling at other batch sizes add some.
  const sessions = new Map<string, BindingSession>();
  const open = (key: string, build: () => Uint8Array): BindingSession => {
    let s = sessions.get(key);
    if (s) sessions.delete(key);
    else {
      const bytes = build();
      s = new binding.InferenceSession();
      s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
      if (sessions.size >= MAX_SESSIONS) {
        const [oldest, session] = sessions.entries().next().value!;
        sessions.delete(oldest);
        session.dispose();
      }
    }
    sessions.set(key, s);
    return s;
  };
  const backend = () => tf.backend() as unknown as WasmHeap;
  /** Runs `session` on the inputs' heap memory, writing its output straight into a new tfjs tensor. */
  const run = (session: BindingSession, inputs: Record<string, TensorInfo>, outShape: Shape4): TensorInfo => {
    const heap = backend();
    const out = heap.makeOutput(outShape, 'float32');
    // Views taken after makeOutput: an allocation may grow wasm memory and detach earlier views.
    const feeds: Record<string, OrtTensorLike> = {};
    for (const [name, info] of Object.entries(inputs)) feeds[name] = new OrtTensor('float32', heap.typedArrayFromHeap(info), info.shape);
    session.run(feeds, { y: new OrtTensor('float32', heap.typedArrayFromHeap(out), outShape) }, {});
    return out;
  };
  const usable = (attrs: ConvAttrs) => attrs.dataFormat === 'NHWC' && (attrs.dilations === undefined || attrs.dilations === 1 || (Array.isArray(attrs.dilations) && attrs.dilations.every((d) => d === 1)));

  return {
    get sessions() {
      return sessions.size;
    },
    conv2d(x, filter, attrs) {
      if (!usable(attrs) || x.shape[3]! < MIN_IMAGE_CHANNELS) return null;
      const xs = x.shape as Shape4;
      const fs = filter.shape as Shape4;
      const info = tf.backend_util.computeConv2DInfo(xs, fs, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      const pads = padsOf(info);
      if (!pads) return null;
      const outShape: Shape4 = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
      const key = `conv ${xs} ${fs} ${info.strideHeight},${info.strideWidth} ${pads}`;
      const session = open(key, () => graph('conv', [
        transpose('x', 'xc', TO_NCHW),
        transpose('w', 'wc', FILTER_TO_ONNX),
        { op: 'Conv', inputs: ['xc', 'wc'], outputs: ['yc'], attrs: { strides: { ints: [info.strideHeight, info.strideWidth] }, pads: { ints: [pads[0]!, pads[1]!, pads[2]!, pads[3]!] }, kernel_shape: { ints: [info.filterHeight, info.filterWidth] } } },
        transpose('yc', 'y', TO_NHWC),
      ], [['x', xs], ['w', fs]], ['y', outShape]));
      return run(session, { x, w: filter }, outShape);
    },
    conv2dBackpropInput(dy, filter, attrs) {
      if (!usable(attrs) || attrs.inputShape[3] < MIN_IMAGE_CHANNELS) return null;
      const fs = filter.shape as Shape4;
      const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, fs, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      const pads = padsOf(info);
      if (!pads) return null;
      const [, H, W] = attrs.inputShape;
      // ConvTranspose's output side is s*(in - 1) + output_padding + k - pad_begin - pad_end: output_padding makes it
      // the forward input's side, rows the forward pass never read (it must be in [0, s)).
      const opH = H - (info.strideHeight * (info.outHeight - 1) + info.filterHeight - pads[0]! - pads[2]!);
      const opW = W - (info.strideWidth * (info.outWidth - 1) + info.filterWidth - pads[1]! - pads[3]!);
      if (opH < 0 || opW < 0 || opH >= info.strideHeight || opW >= info.strideWidth) return null;
      const key = `convT ${dy.shape} ${fs} ${attrs.inputShape} ${info.strideHeight},${info.strideWidth} ${pads}`;
      const batched = info.outHeight * info.outWidth <= BATCHED_MAX_POSITIONS;
      const session = open(key, () => batched ? col2imGraph(dy.shape as Shape4, fs, attrs.inputShape, [info.strideHeight, info.strideWidth], pads) : graph('conv-transpose', [
        transpose('x', 'xc', TO_NCHW),
        transpose('w', 'wc', FILTER_TO_ONNX),
        {
          op: 'ConvTranspose',
          inputs: ['xc', 'wc'],
          outputs: ['yc'],
          attrs: {
            strides: { ints: [info.strideHeight, info.strideWidth] },
            pads: { ints: [pads[0]!, pads[1]!, pads[2]!, pads[3]!] },
            kernel_shape: { ints: [info.filterHeight, info.filterWidth] },
            output_padding: { ints: [opH, opW] },
          },
        },
        transpose('yc', 'y', TO_NHWC),
      ], [['x', dy.shape as Shape4], ['w', fs]], ['y', attrs.inputShape]));
      return run(session, { x: dy, w: filter }, attrs.inputShape);
    },
    conv2dBackpropFilter(x, dy, attrs) {
      if (!usable(attrs)) return null;
      const xs = x.shape as Shape4;
      const info = tf.backend_util.computeConv2DInfo(xs, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
      const { top, left } = info.padInfo;
      const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
      // dW[kh, kw, ci, co] = sum over n, i, j of x[n, i*s + kh - top, j*s + kw - left, ci] * dy[n, i, j, co]: a
      // convolution of x as [Ci, N, H, W] (batch Ci, channels N) with dy as [Co, N, Ho, Wo], dilated by the stride.
      // The bottom and right padding make its output exactly fh x fw; negative (rows the forward pass never read): not here.
      const bottom = (Ho - 1) * sh + fh - H - top;
      const right = (Wo - 1) * sw + fw - W - left;
      if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
      const key = `convW ${xs} ${dy.shape} ${attrs.filterShape} ${sh},${sw} ${top},${left},${bottom},${right}`;
      const session = open(key, () => graph('conv-filter-gradient', [
        transpose('x', 'xc', [3, 0, 1, 2]),
        transpose('dy', 'dyc', [3, 0, 1, 2]),
        { op: 'Conv', inputs: ['xc', 'dyc'], outputs: ['yc'], attrs: { dilations: { ints: [sh, sw] }, pads: { ints: [top, left, bottom, right] }, kernel_shape: { ints: [Ho, Wo] } } },
        transpose('yc', 'y', [2, 3, 0, 1]),
      ], [['x', xs], ['dy', dy.shape as Shape4]], ['y', attrs.filterShape]));
      return run(session, { x, dy }, attrs.filterShape);
    },
  };
}
