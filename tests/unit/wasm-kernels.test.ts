/**
 * The trainer's own wasm training kernels against the reference cpu backend: gradients of conv2d and of
 * conv2dTranspose (whose forward pass is Conv2DBackpropInput), transposed matmuls, slices, sums and means,
 * buffer-sharing clones, and no tensor leaks; then the same convolutions on onnxruntime-node's native kernels
 * (trainer/backend/kernels/native-kernels.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { useNativeKernels } from '../../trainer/backend/kernels/register.js';
import { loadNativeKernels, type NativeKernels } from '../../trainer/backend/kernels/native-kernels.js';
import { tf } from '../../trainer/backend/tf.js';
import { SeededRandom } from '../../shared/rng.js';
import { maxRelativeError, type ConvCase } from '../helpers/kernel-parity.js';

function randomArray(rng: SeededRandom, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextNormal();
  return a;
}

/** Runs `f` on the named backend with fresh tensors of `shapes`, returns every output as plain arrays. */
async function onBackend(backend: string, shapes: number[][], seed: number, f: (...xs: tf.Tensor[]) => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const rng = new SeededRandom(seed);
  const inputs = shapes.map((s) => tf.tensor(randomArray(rng, s.reduce((a, b) => a * b, 1)), s));
  const outs = f(...inputs);
  const values = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([...inputs, ...outs]);
  return values;
}

async function expectParity(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor[], tolerance = 1e-5): Promise<void> {
  const wasm = await onBackend('wasm', shapes, 7, f);
  const cpu = await onBackend('cpu', shapes, 7, f);
  expect(wasm.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    expect(wasm[i]!.length).toBe(cpu[i]!.length);
    expect(maxRelativeError(wasm[i]!, cpu[i]!)).toBeLessThanOrEqual(tolerance);
  }
}

const convCases: ConvCase[] = [
  { n: 3, h: 28, w: 28, ci: 1, co: 8, k: 4, s: 2, pad: 'same' },
  { n: 2, h: 14, w: 14, ci: 8, co: 16, k: 5, s: 2, pad: 'same' },
  { n: 2, h: 9, w: 7, ci: 3, co: 4, k: 3, s: 2, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 4, co: 5, k: 3, s: 1, pad: 'same' },
  { n: 1, h: 10, w: 11, ci: 2, co: 3, k: 4, s: 3, pad: 'same' },
  // One convolution per phase (sides divisible by the stride, 16 or more channels on both sides, so that a
  // transposed convolution's forward pass takes that path too): the DCGAN's kernel 4, phases of 2 and 1 taps
  // (kernel 3), a stride of 3, and 'valid' padding.
  { n: 2, h: 8, w: 8, ci: 16, co: 16, k: 4, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 6, ci: 16, co: 17, k: 3, s: 2, pad: 'same' },
  { n: 1, h: 9, w: 12, ci: 17, co: 16, k: 5, s: 3, pad: 'same' },
  { n: 2, h: 10, w: 8, ci: 16, co: 16, k: 3, s: 2, pad: 'valid' },
];

/**
 * float32 sums of k*k*ci products in another order than the cpu backend's: 1e-5 of the largest value up to 512
 * products, 1e-4 beyond (a DCGAN layer's 1,024 measured 3.5e-5 through sin()).
 */
const toleranceFor = (c: ConvCase) => (c.k * c.k * Math.max(c.ci, c.co) > 512 ? 1e-4 : 1e-5);

const expectConv2dParity = (c: ConvCase) =>
  expectParity([[c.n, c.h, c.w, c.ci], [c.k, c.k, c.ci, c.co]], (x, w) => {
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.sin(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad)));
    return tf.grads(loss)([x!, w!]);
  }, toleranceFor(c));

const expectConv2dTransposeParity = (c: ConvCase) => {
  const outH = c.pad === 'same' ? c.h * c.s : (c.h - 1) * c.s + c.k;
  const outW = c.pad === 'same' ? c.w * c.s : (c.w - 1) * c.s + c.k;
  return expectParity([[c.n, c.h, c.w, c.ci], [c.k, c.k, c.co, c.ci]], (x, w) => {
    const fwd = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [c.n, outH, outW, c.co], c.s, c.pad);
    const y = fwd(x!, w!);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.sin(fwd(a, b))))([x!, w!]);
    return [y, ...grads];
  }, toleranceFor(c));
};

describe('wasm training kernels', () => {
  beforeAll(async () => {
    await selectBackend('wasm', undefined, undefined, 'wasm');
  });

  it.each(convCases)('conv2d gradients match cpu: %o', expectConv2dParity);
  it.each(convCases)('conv2dTranspose forward and gradients match cpu: %o', expectConv2dTransposeParity);

  it('matMul with transposed operands and its gradients match cpu', async () => {
    await expectParity([[5, 7], [9, 7], [4, 5]], (a, b, c) => {
      const y = tf.matMul(a!, b!, false, true);
      const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, false, true))))([a!, b!]);
      return [y, tf.matMul(a!, a!, true, false), tf.matMul(a!, c!, true, true), ...grads];
    });
  });

  const sliceCases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [4, 30, 30, 1], begin: [0, 1, 1, 0], size: [4, 28, 28, 1] },
    { shape: [3, 16, 16, 8], begin: [0, 1, 1, 0], size: [3, 14, 14, 8] },
    { shape: [2, 8, 8, 12], begin: [0, 0, 0, 0], size: [2, 7, 7, 12] },
    { shape: [5, 6, 7], begin: [1, 2, 3], size: [3, -1, 2] },
    { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 2, 6] },
    { shape: [10], begin: [3], size: [4] },
    { shape: [6, 5], begin: [2, 0], size: [3, 5] },
    { shape: [4, 4], begin: [1, 1], size: [0, 2] },
  ];

  it.each(sliceCases)('slice matches cpu: %o', async (c) => {
    await expectParity([c.shape], (x) => [tf.slice(x!, c.begin, c.size)]);
    // int32 takes the same path.
    await tf.setBackend('wasm');
    const n = c.shape.reduce((a, b) => a * b, 1);
    const ints = tf.tensor(Int32Array.from({ length: n }, (_, i) => i), c.shape, 'int32');
    const got = await tf.slice(ints, c.begin, c.size).data();
    await tf.setBackend('cpu');
    const intsCpu = tf.tensor(Int32Array.from({ length: n }, (_, i) => i), c.shape, 'int32');
    expect(Array.from(got)).toEqual(Array.from(await tf.slice(intsCpu, c.begin, c.size).data()));
    tf.dispose(intsCpu);
    await tf.setBackend('wasm');
    tf.dispose(ints);
  });

  const reductionCases: { shape: number[]; axes: number[]; keepDims: boolean }[] = [
    { shape: [8, 6, 6, 16], axes: [0, 1, 2], keepDims: false },
    { shape: [8, 6, 6, 16], axes: [2, 0, 1], keepDims: true },
    { shape: [32, 20], axes: [0], keepDims: false },
    { shape: [4, 5, 3], axes: [0, 1], keepDims: true },
    { shape: [8, 6, 6, 16], axes: [1, 2], keepDims: false }, // not every leading axis: the stock kernel
    { shape: [8, 6, 6, 16], axes: [3], keepDims: false },
  ];

  it.each(reductionCases)('sum and mean match cpu: %o', async (c) => {
    await expectParity([c.shape], (x) => [tf.sum(x!, c.axes, c.keepDims), tf.mean(x!, c.axes, c.keepDims)]);
    // Their gradients (a sum's is a broadcast) and an int32 sum, which stays on the stock kernel.
    await expectParity([c.shape], (x) => tf.grads((p: tf.Tensor) => tf.sum(tf.square(tf.mean(tf.mul(p, p), c.axes, c.keepDims))))([x!]));
    await tf.setBackend('wasm');
    const ints = tf.tensor(Int32Array.from({ length: c.shape.reduce((a, b) => a * b, 1) }, (_, i) => i % 7), c.shape, 'int32');
    const sum = tf.sum(ints, c.axes, c.keepDims);
    expect(sum.dtype).toBe('int32');
    expect(sum.shape).toEqual(c.keepDims ? c.shape.map((d, i) => (c.axes.includes(i) ? 1 : d)) : c.shape.filter((_, i) => !c.axes.includes(i)));
    const total = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);
    expect(total(await sum.data())).toBe(total(await ints.data()));
    tf.dispose([ints, sum]);
  });

  it('clones share their buffer and outlive the original', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    const a = tf.tensor([1, 2, 3, 4], [2, 2]);
    const b = a.clone();
    expect(backend.numDataIds()).toBe(ids + 1);
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    b.dispose();
    expect(backend.numDataIds()).toBe(ids);
    // Gradients through clones (the engine clones what it saves for the backward pass) are unchanged.
    await expectParity([[3, 4]], (x) => tf.grads((p: tf.Tensor) => tf.sum(tf.mul(tf.square(p), tf.clone(p))))([x!]));
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 14, 14, 4]);
    const w = tf.randomNormal([4, 4, 4, 6]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2dTranspose(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), b as tf.Tensor4D, [2, 14, 14, 4], 2, 'same')))([x, w]);
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});

describe('native convolutions (onnxruntime-node)', () => {
  let native: NativeKernels;
  beforeAll(async () => {
    await selectBackend('wasm', 2, undefined, 'wasm');
    const loaded = loadNativeKernels(2);
    // onnxruntime-node is a dependency of the trainer: not loading is a failure here, not a skip.
    expect(loaded).not.toBeNull();
    native = loaded!;
    useNativeKernels(native);
  });
  afterAll(() => useNativeKernels(null));

  // The cases above with 8 or more image channels (fewer stay on wasm), 'valid' padding whose last rows the forward
  // pass never reads (their input gradient is 0 there, and the patches never gather them), and a DCGAN layer at its
  // real size. The input gradient's two graphs (gemm-conv-graphs.ts): col2im up to 16 dy positions an image,
  // windows beyond (the last three cases, and 14x14 above).
  const nativeCases: ConvCase[] = [
    ...convCases.filter((c) => c.ci >= 8 && c.co >= 8),
    { n: 2, h: 9, w: 9, ci: 8, co: 12, k: 3, s: 2, pad: 'valid' },
    { n: 2, h: 10, w: 10, ci: 8, co: 12, k: 3, s: 2, pad: 'valid' },
    { n: 2, h: 16, w: 12, ci: 8, co: 16, k: 4, s: 2, pad: 'same' },
    { n: 1, h: 15, w: 17, ci: 8, co: 8, k: 5, s: 3, pad: 'same' },
    { n: 2, h: 11, w: 13, ci: 8, co: 8, k: 3, s: 2, pad: 'valid' },
    // RGB: the forward pass and input gradient stay on wasm, the filter gradient runs natively on the image folded by
    // the stride (kernel 4, stride 2; 'valid' with an even side), or unfolded (kernel 3; an odd side that folding
    // would overrun).
    { n: 2, h: 16, w: 12, ci: 3, co: 8, k: 4, s: 2, pad: 'same' },
    { n: 2, h: 10, w: 10, ci: 3, co: 8, k: 4, s: 2, pad: 'valid' },
    { n: 2, h: 11, w: 10, ci: 3, co: 8, k: 4, s: 2, pad: 'valid' },
    { n: 2, h: 9, w: 7, ci: 3, co: 8, k: 3, s: 2, pad: 'valid' },
    { n: 4, h: 8, w: 8, ci: 64, co: 32, k: 4, s: 2, pad: 'same' },
  ];

  // First, while fewer than 64 sessions are open (the parity cases below open more).
  it('leaves the RGB image layers to wasm and leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 16, 16, 3]);
    const w = tf.randomNormal([4, 4, 3, 8]);
    const sessions = native.sessions;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2dTranspose(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), b as tf.Tensor4D, [2, 16, 16, 3], 2, 'same')))([x, w]);
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
    // Only the two filter gradients (one per direction) ran natively: one session each, reused.
    expect(native.sessions - sessions).toBe(2);
    tf.dispose([x, w]);
  });

  it('runs the dense layers\' products natively, transposed operands too, matching cpu; small ones stay on wasm', async () => {
    const before = native.sessions;
    // G's first layer and D's last, at a smaller batch: [16, 100] x [100, 512], [16, 512] x [512, 1], and their gradients.
    await expectParity([[16, 100], [100, 512], [16, 512], [512, 1]], (z, w, h, v) => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.add(tf.sum(tf.sin(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))), tf.sum(tf.sin(tf.matMul(c as tf.Tensor2D, d as tf.Tensor2D)))))([z!, w!, h!, v!]);
      return [tf.matMul(z!, w!), tf.matMul(w!, z!, true, true), ...grads];
    }, 1e-4); // sums of up to 512 products, as toleranceFor above
    // z.w, w^T.z^T, and the first product's gradients dz = dy.w^T and dw = z^T.dy; the [512, 1] layer's products
    // (8,192 multiply-adds each) stay on wasm.
    expect(native.sessions - before).toBe(4);
    const small = native.sessions;
    await expectParity([[5, 7], [7, 9]], (a, b) => [tf.matMul(a!, b!)]);
    expect(native.sessions).toBe(small);
  });

  it.each(nativeCases)('conv2d gradients match cpu: %o', async (c) => {
    const before = native.sessions;
    await expectConv2dParity(c);
    // Forward, input and filter gradient: each a session of its own, so the native path did run.
    expect(native.sessions).toBeGreaterThan(before);
  });
  it.each(nativeCases)('conv2dTranspose forward and gradients match cpu: %o', expectConv2dTransposeParity);

  it('keeps at most 64 sessions open, and an evicted shape runs again', async () => {
    await tf.setBackend('wasm');
    const w = tf.randomNormal([3, 3, 8, 8]);
    const y = (n: number) => tf.tidy(() => tf.conv2d(tf.ones([n, 4, 4, 8]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dataSync());
    const first = y(1);
    for (let n = 2; n <= 70; n++) y(n);
    expect(native.sessions).toBe(64);
    // Batch 1's session was closed long ago: a new one gives the same values.
    expect(Array.from(y(1))).toEqual(Array.from(first));
    w.dispose();
  });
});
