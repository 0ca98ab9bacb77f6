/** What the kernel parity tests (wasm: tests/unit/wasm-kernels.test.ts; webgpu: tests/webgpu/) share. */

/** One convolution's shapes: batch, input sides and channels, output channels, kernel, stride, padding. */
export type ConvCase = { n: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: 'same' | 'valid' };

/**
 * The largest difference of `a` from the reference `b`, relative to the largest reference value, which is floored
 * at `floor` (a reference that is all rounding noise should not turn noise into a large relative error).
 */
export function maxRelativeError(a: Float32Array, b: Float32Array, floor = 1e-12): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  return diff / Math.max(ref, floor);
}
