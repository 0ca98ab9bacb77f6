/**
 * Registers the trainer's own kernels on the tfjs wasm backend (see docs/architecture.md, "Measured facts": the stock backend cannot train a
 * DCGAN). Idempotent. Each kernel is parity-tested against the cpu backend in tests/unit/wasm-kernels.test.ts.
 */
import { tf, type TensorInfo } from '../tf.js';
import { asTensor, conv2dBackpropFilter, conv2dBackpropInput } from './conv-gradients.js';
import { leadingAxesReduction } from './reduce.js';
import { sliceKernel } from './slice.js';
import type { NativeKernels } from './native-kernels.js';

let registered = false;
let native: NativeKernels | null = null;

/**
 * Routes the convolutions (Conv2D and both gradients) to onnxruntime-node's native kernels (native-kernels.ts), or
 * back to the wasm ones with null; trainer/nn's batch norm and tanh ask `nativeKernelsInUse` too. A case the native
 * path does not take stays on wasm.
 */
export function useNativeKernels(kernels: NativeKernels | null): void {
  native = kernels;
}

/** The native kernels in use, or null (the bench times a step both ways). */
export function nativeKernelsInUse(): NativeKernels | null {
  return native;
}

type ConvArgs<I> = { inputs: I; attrs: Parameters<NativeKernels['conv2d']>[2] };

function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

/**
 * Replaces a stock wasm kernel by `wrap(stock)`, which may hand some cases back to `stock`. The stock setupFunc is
 * kept: it binds the kernel's wasm function when the backend starts, and without it the stock path fails.
 */
function wrapKernel(kernelName: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock) throw new Error(`the wasm backend has no ${kernelName} kernel to wrap`);
  replaceKernel({ kernelName, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: wrap(stock.kernelFunc) });
}

/** Swaps the last two axes of a kernel input (rank 2 or more) into a new tensor. */
function transposeInner(info: TensorInfo): tf.Tensor {
  const rank = info.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return tf.tidy(() => tf.transpose(asTensor(info), perm));
}

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  replaceKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ((args: Parameters<typeof conv2dBackpropFilter>[0]) =>
      native?.conv2dBackpropFilter(args.inputs.x, args.inputs.dy, args.attrs) ?? conv2dBackpropFilter(args)) as unknown as tf.KernelFunc,
  });
  replaceKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ((args: Parameters<typeof conv2dBackpropInput>[0]) =>
      native?.conv2dBackpropInput(args.inputs.dy, args.inputs.filter, args.attrs) ?? conv2dBackpropInput(args)) as unknown as tf.KernelFunc,
  });
  wrapKernel('Conv2D', (stock) => (args) => {
    const { inputs, attrs } = args as unknown as ConvArgs<{ x: TensorInfo; filter: TensorInfo }>;
    return native?.conv2d(inputs.x, inputs.filter, attrs) ?? stock(args);
  });

  // The engine clones every tensor it saves for the backward pass, and the stock wasm Identity copies the bytes
  // (178 copies per DCGAN step; median step 790 -> 730 ms without them). Tensors are immutable, so a clone can share
  // its buffer, as the cpu backend's clone and the wasm backend's own Reshape do.
  wrapKernel('Identity', (stock) => (args) => {
    const { inputs, backend } = args as unknown as { inputs: { x: TensorInfo }; backend: { incRef(dataId: object): void } };
    const { x } = inputs;
    if (x.dtype === 'string') return stock(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  wrapKernel('Sum', (stock) => leadingAxesReduction('Sum', stock));
  wrapKernel('Mean', (stock) => leadingAxesReduction('Mean', stock));
  wrapKernel('Slice', sliceKernel);

  // XNNPACK's matmul takes transposed operands 10-20x slower than an explicit transpose first (docs/architecture.md).
  wrapKernel('BatchMatMul', (matMul) => (args) => {
    const { inputs, attrs } = args as unknown as { inputs: { a: TensorInfo; b: TensorInfo }; attrs: { transposeA: boolean; transposeB: boolean } };
    const fast = inputs.a.dtype === 'float32' ? native?.matMul(inputs.a, inputs.b, attrs.transposeA, attrs.transposeB) : null;
    if (fast) return fast;
    if (!attrs.transposeA && !attrs.transposeB) return matMul(args);
    const a = attrs.transposeA ? transposeInner(inputs.a) : undefined;
    const b = attrs.transposeB ? transposeInner(inputs.b) : undefined;
    try {
      return matMul({ ...args, inputs: { a: a ?? inputs.a, b: b ?? inputs.b }, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      a?.dispose();
      b?.dispose();
    }
  });
}
