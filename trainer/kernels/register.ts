/**
 * Registers the trainer's own kernels on the tfjs wasm backend (see FINDINGS: the stock backend cannot train a
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
  const identity = tf.getKernel('Identity', 'wasm');
  if (!identity) throw new Error('the wasm backend has no Identity kernel to replace');
  replaceKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    setupFunc: identity.setupFunc,
    kernelFunc: (args) => {
      const { inputs, backend } = args as unknown as { inputs: { x: TensorInfo }; backend: { incRef(dataId: object): void } };
      const { x } = inputs;
      if (x.dtype === 'string') return identity.kernelFunc(args);
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });

  for (const kind of ['Sum', 'Mean'] as const) {
    const reduction = tf.getKernel(kind, 'wasm');
    if (!reduction) throw new Error(`the wasm backend has no ${kind} kernel to wrap`);
    // The stock kernel's setup binds its wasm function: kept, since other reductions still go to it.
    replaceKernel({ kernelName: kind, backendName: 'wasm', setupFunc: reduction.setupFunc, kernelFunc: leadingAxesReduction(kind, reduction.kernelFunc) });
  }

  const slice = tf.getKernel('Slice', 'wasm');
  if (!slice) throw new Error('the wasm backend has no Slice kernel to replace');
  replaceKernel({ kernelName: 'Slice', backendName: 'wasm', setupFunc: slice.setupFunc, kernelFunc: sliceKernel(slice.kernelFunc) });

  // XNNPACK's matmul takes transposed operands 10-20x slower than an explicit transpose first (FINDINGS).
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (!matMul) throw new Error('the wasm backend has no BatchMatMul kernel to wrap');
  replaceKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: matMul.setupFunc,
    kernelFunc: (args) => {
      const { inputs, attrs } = args as unknown as { inputs: { a: TensorInfo; b: TensorInfo }; attrs: { transposeA: boolean; transposeB: boolean } };
      if (!attrs.transposeA && !attrs.transposeB) return matMul.kernelFunc(args);
      const a = attrs.transposeA ? transposeInner(inputs.a) : undefined;
      const b = attrs.transposeB ? transposeInner(inputs.b) : undefined;
      try {
        return matMul.kernelFunc({ ...args, inputs: { a: a ?? inputs.a, b: b ?? inputs.b }, attrs: { ...attrs, transposeA: false, transposeB: false } });
      } finally {
        a?.dispose();
        b?.dispose();
      }
    },
  });
}
