/**
 * Registers the trainer's own kernels on the tfjs webgpu backend, as kernels/register.ts does for wasm. Idempotent;
 * called once the backend package is imported. Each kernel is parity-tested against the cpu backend on SwiftShader
 * in tests/webgpu/webgpu-kernels.test.ts.
 */
import { tf } from '../tf.js';
import { tiledConv2dBackpropFilter } from './conv2d-backprop-filter.js';

let registered = false;

/** Replaces a stock webgpu kernel by `wrap(stock)`, which may hand some cases back to `stock`. */
function wrapKernel(kernelName: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = tf.getKernel(kernelName, 'webgpu');
  if (!stock) throw new Error(`the webgpu backend has no ${kernelName} kernel to wrap`);
  tf.unregisterKernel(kernelName, 'webgpu');
  tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: wrap(stock.kernelFunc) });
}

/** TRAINER_WEBGPU_KERNELS=stock keeps tfjs's own kernels: for comparisons (scripts/gpu/ times both). */
export function registerWebGpuTrainingKernels(): void {
  if (registered || process.env['TRAINER_WEBGPU_KERNELS'] === 'stock') return;
  registered = true;
  wrapKernel('Conv2DBackpropFilter', tiledConv2dBackpropFilter);
}
