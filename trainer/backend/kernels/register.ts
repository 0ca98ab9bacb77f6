/**
 * Registers the trainer's own kernels on the tfjs wasm backend (see docs/architecture.md, "Measured facts": the stock backend cannot train a
 * DCGAN). Idempotent. Each kernel is parity-tested against the cpu backend in tests/unit/wasm-kernels.test.ts.
 */
import { tf, type TensorInfo } from '../tf.js';
import { asTensor, conv2dBackpropFilter, conv2dBackpropInput } from './conv-gradients.js';
import { leadingAxesReduction } from './reduce.js';
import { sliceKernel } from './slice.js';

let registered = false;

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
  replaceKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc });
  replaceKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc });

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
