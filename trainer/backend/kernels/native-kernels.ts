/**
 * The wasm backend's heaviest kernels on the CPU's native ones: onnxruntime-node's MLAS (AVX2 or AVX-512 with fused
 * multiply-add where the CPU has them), called synchronously from inside a tfjs kernel or op. WebAssembly has 128-bit
 * SIMD without fused multiply-add, so XNNPACK's convolutions in wasm reach 14-16 G multiply-adds/s on this machine's
 * two cores, and the convolutions are most of a DCGAN step (docs/benchmarks.md, "Making the CPU trainer faster").
 *
 * Each kernel is a small ONNX graph: the convolutions as Gathers and one matrix product in tfjs's NHWC layout
 * (gemm-conv-graphs.ts), batch norm with its activation, and tanh (batch-norm-graphs.ts), the dense layers' matrix
 * products, and Adam's update of all of an optimiser's variables (adam-graph.ts); one session per graph and shape,
 * opened once and kept. The tensors are read from and written to the wasm heap directly: the inputs as views,
 * the outputs as pre-allocated ORT tensors over the new tfjs tensors' memory.
 *
 * onnxruntime-node's public `run` is asynchronous, but it only defers a synchronous native call
 * (`dist/binding`'s InferenceSession, "a simple synchronized inference session object wrap"): a tfjs kernel must
 * return its output, so this module calls that binding. It is pinned with the package (1.30.0); when it cannot
 * load, `loadNativeKernels` returns null and the wasm kernels stay.
 */
import { createRequire } from 'node:module';
import { tf, type TensorInfo } from '../tf.js';
import { serializeModel, type OnnxGraph } from '../../export/onnx-model.js';
import { batchNormForwardGraph, batchNormGradientGraph, type Slope } from './batch-norm-graphs.js';
import { adamGraph, adamName, type AdamConstants } from './adam-graph.js';
import { convFilterGradientGraph, convForwardGraph, convInputGradientGraph, matMulGraph, type ConvGeometry, type Shape4 } from './gemm-conv-graphs.js';

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

/** The geometry of a convolution the native path takes (no dilation, no negative padding), or null. */
function geometryOf(xShape: Shape4, filterShape: Shape4, attrs: ConvAttrs): ConvGeometry | null {
  const dilated = attrs.dilations !== undefined && attrs.dilations !== 1 && !(Array.isArray(attrs.dilations) && attrs.dilations.every((d) => d === 1));
  if (attrs.dataFormat !== 'NHWC' || dilated) return null;
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { top, left, bottom, right } = info.padInfo;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: top,
    padLeft: left,
  };
}

const keyOf = (kind: string, g: ConvGeometry) => `${kind} ${Object.values(g).join(',')}`;

/**
 * Below this many image channels (the RGB image: D's first layer's forward pass and input gradient, G's last
 * transposed convolution), XNNPACK in wasm is as fast or faster: D's first layer natively took 5.1 ms a call against
 * 1.6 in wasm at 32x32, 10.0 against 4.0 at 64x64 (2 threads, AMD EPYC); whole steps with its input gradient native
 * ran as fast as without (docs/benchmarks.md). Its filter gradient is native at any width (gemm-conv-graphs.ts folds
 * the image first).
 */
const MIN_IMAGE_CHANNELS = 8;

/**
 * Below this many multiply-adds a product stays on XNNPACK, where a call costs less than onnxruntime's. The dense
 * layers of the emoji DCGAN (G's [64, 100] x [100, 4096], D's [64, 4096] x [4096, 1] and their gradients) took
 * 11.8 ms a 64x64 step on XNNPACK in 11 calls (2 threads, AMD EPYC), and PyTorch's 3 ms.
 */
const MIN_MATMUL_MACS = 65536;

/** Sessions kept open (each holds its graph and onnxruntime's buffers); the least recently used is closed first. */
const MAX_SESSIONS = 64;

export interface NativeKernels {
  /** Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on the native kernels; null: not this case (the caller's wasm kernel takes it). */
  conv2d(x: TensorInfo, filter: TensorInfo, attrs: ConvAttrs): TensorInfo | null;
  conv2dBackpropInput(dy: TensorInfo, filter: TensorInfo, attrs: ConvAttrs & { inputShape: Shape4 }): TensorInfo | null;
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, attrs: ConvAttrs & { filterShape: Shape4 }): TensorInfo | null;
  /**
   * Batch norm in training mode over every axis but the last, then the activation of `slope` (batch-norm-graphs.ts):
   * y, and the batch mean and variance [C].
   */
  batchNorm(x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, epsilon: number, slope: Slope): [TensorInfo, TensorInfo, TensorInfo];
  /** Its gradient, from the forward pass's y (after the activation): dx, dgamma and dbeta. */
  batchNormGradient(inputs: { dy: TensorInfo; y: TensorInfo; x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma: TensorInfo }, epsilon: number, slope: Slope): [TensorInfo, TensorInfo, TensorInfo];
  /**
   * One matrix product (the dense layers): matrices of at least MIN_MATMUL_MACS multiply-adds; null otherwise.
   */
  matMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | null;
  /**
   * One Adam update of `variables` (adam-graph.ts): their new values and moments, in the order w', m', v' for each;
   * acc1, acc2 and negLr are scalars.
   */
  adam(variables: { w: TensorInfo; g: TensorInfo; m: TensorInfo; v: TensorInfo }[], scalars: { acc1: TensorInfo; acc2: TensorInfo; negLr: TensorInfo }, constants: AdamConstants): TensorInfo[];
  /** tanh(x): tfjs's wasm Tanh is a scalar loop (14 ms for G's [64, 64, 64, 3] output, 2 threads, AMD EPYC). */
  tanh(x: TensorInfo): TensorInfo;
  /** Sessions open (one per distinct graph, at most MAX_SESSIONS). */
  readonly sessions: number;
}

/** The options of every native kernel's session (tests/bench/ort-output-copy.ts opens its graphs with them too). */
export function sessionOptions(threads: number) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Between runs tfjs has the cores: ORT's pool must not spin-wait for work after each graph (spinning: 0.5 steps/s
    // against 1.2 at 64x64).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** The native kernels on `threads` threads, or null where onnxruntime-node's binding does not load. */
export function loadNativeKernels(threads: number): NativeKernels | null {
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
  const options = sessionOptions(threads);
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
  /** Runs `session` on the inputs' heap memory, writing its outputs straight into new tfjs tensors (in `outputs`' order). */
  const run = (session: BindingSession, inputs: Record<string, TensorInfo>, outputs: Record<string, number[]>): TensorInfo[] => {
    const heap = backend();
    const made = Object.values(outputs).map((shape) => heap.makeOutput(shape, 'float32'));
    // Views taken after makeOutput: an allocation may grow wasm memory and detach earlier views.
    const feeds: Record<string, OrtTensorLike> = {};
    for (const [name, info] of Object.entries(inputs)) feeds[name] = new OrtTensor('float32', heap.typedArrayFromHeap(info), info.shape);
    const fetches: Record<string, OrtTensorLike> = {};
    Object.entries(outputs).forEach(([name, shape], i) => (fetches[name] = new OrtTensor('float32', heap.typedArrayFromHeap(made[i]!), shape)));
    session.run(feeds, fetches, {});
    return made;
  };
  // Opset 18: ReduceMean takes its axes as an input from 18 on.
  const serialized = (build: () => OnnxGraph) => () => serializeModel(build(), 'edge-generative native kernels', 18);

  return {
    get sessions() {
      return sessions.size;
    },
    conv2d(x, filter, attrs) {
      const g = x.shape[3]! >= MIN_IMAGE_CHANNELS ? geometryOf(x.shape as Shape4, filter.shape as Shape4, attrs) : null;
      if (!g) return null;
      return run(open(keyOf('conv', g), serialized(() => convForwardGraph(g))), { x, w: filter }, { y: [g.batch, g.outHeight, g.outWidth, g.outChannels] })[0]!;
    },
    conv2dBackpropInput(dy, filter, attrs) {
      const g = attrs.inputShape[3] >= MIN_IMAGE_CHANNELS ? geometryOf(attrs.inputShape, filter.shape as Shape4, attrs) : null;
      if (!g) return null;
      return run(open(keyOf('dx', g), serialized(() => convInputGradientGraph(g))), { dy, w: filter }, { y: attrs.inputShape })[0]!;
    },
    conv2dBackpropFilter(x, dy, attrs) {
      const g = geometryOf(x.shape as Shape4, attrs.filterShape, attrs);
      if (!g) return null;
      return run(open(keyOf('dw', g), serialized(() => convFilterGradientGraph(g))), { x, dy }, { y: attrs.filterShape })[0]!;
    },
    batchNorm(x, gamma, beta, epsilon, slope) {
      const c = [x.shape[x.shape.length - 1]!];
      const session = open(`bn ${x.shape} ${epsilon} ${slope}`, serialized(() => batchNormForwardGraph(x.shape, epsilon, slope)));
      return run(session, { x, gamma, beta }, { y: x.shape, mean: c, variance: c }) as [TensorInfo, TensorInfo, TensorInfo];
    },
    matMul(a, b, transposeA, transposeB) {
      // Matrices only: tf.matMul hands BatchMatMul its rank-2 operands as they are (the dense layers and their
      // gradients); a batch of matrices (DiffAugment's translation) stays on XNNPACK.
      if (a.shape.length !== 2 || b.shape.length !== 2) return null;
      const [ar, ac] = a.shape as [number, number];
      const [br, bc] = b.shape as [number, number];
      const [m, k, n] = [transposeA ? ac : ar, transposeA ? ar : ac, transposeB ? br : bc];
      if (m * k * n < MIN_MATMUL_MACS) return null;
      const session = open(`matmul ${a.shape} ${b.shape} ${transposeA} ${transposeB}`, serialized(() => matMulGraph(a.shape, b.shape, transposeA, transposeB)));
      return run(session, { a, b }, { y: [m, n] })[0]!;
    },
    adam(variables, scalars, constants) {
      const shapes = variables.map((v) => v.w.shape);
      const session = open(`adam ${JSON.stringify(shapes)} ${Object.values(constants)}`, serialized(() => adamGraph(shapes, constants)));
      const inputs: Record<string, TensorInfo> = { ...scalars };
      const outputs: Record<string, number[]> = {};
      variables.forEach((tensors, i) => {
        for (const [n, t] of Object.entries(tensors)) inputs[adamName(n, i)] = t;
        for (const n of ['w', 'm', 'v']) outputs[`${adamName(n, i)}_new`] = tensors.w.shape;
      });
      return run(session, inputs, outputs);
    },
    tanh(x) {
      const session = open(`tanh ${x.shape}`, serialized(() => ({
        name: 'tanh',
        nodes: [{ op: 'Tanh', inputs: ['x'], outputs: ['y'] }],
        initializers: [],
        inputs: [{ name: 'x', dtype: 'float32', shape: x.shape }],
        outputs: [{ name: 'y', dtype: 'float32', shape: x.shape }],
      })));
      return run(session, { x }, { y: x.shape })[0]!;
    },
    batchNormGradient(inputs, epsilon, slope) {
      const { x } = inputs;
      const c = [x.shape[x.shape.length - 1]!];
      const session = open(`bn-gradient ${x.shape} ${epsilon} ${slope}`, serialized(() => batchNormGradientGraph(x.shape, epsilon, slope)));
      return run(session, { ...inputs }, { dx: x.shape, dgamma: c, dbeta: c }) as [TensorInfo, TensorInfo, TensorInfo];
    },
  };
}
