/**
 * The trainer's own webgpu kernels (trainer/backend/webgpu-kernels/) against the reference cpu backend, on
 * SwiftShader: the tiled Conv2DBackpropFilter over channel counts below, at and above its tiles, strides 1-3, both
 * paddings, with and without the split of M; and no tensor left behind.
 */
import './swiftshader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { planFilterGradient } from '../../trainer/backend/webgpu-kernels/conv2d-backprop-filter.js';
import { SeededRandom } from '../../shared/rng.js';
import { maxRelativeError, type ConvCase } from '../helpers/kernel-parity.js';

const CASES: ConvCase[] = [
  { n: 2, h: 9, w: 7, ci: 3, co: 4, k: 3, s: 2, pad: 'valid' },
  { n: 4, h: 32, w: 32, ci: 3, co: 16, k: 4, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, ci: 16, co: 32, k: 4, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, ci: 5, co: 9, k: 3, s: 1, pad: 'same' },
  { n: 1, h: 10, w: 11, ci: 2, co: 3, k: 4, s: 3, pad: 'same' },
  { n: 3, h: 6, w: 6, ci: 20, co: 1, k: 5, s: 1, pad: 'valid' },
];

/** dW of `c` on `backend`, from the same seeded x and dy. */
async function filterGradient(backend: string, c: ConvCase): Promise<Float32Array> {
  await tf.setBackend(backend);
  const rng = new SeededRandom(c.n * 1000 + c.ci * 10 + c.co);
  const ho = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.ceil((c.h - c.k + 1) / c.s);
  const wo = c.pad === 'same' ? Math.ceil(c.w / c.s) : Math.ceil((c.w - c.k + 1) / c.s);
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.nextNormal());
  const x = tf.tensor4d(normal(c.n * c.h * c.w * c.ci), [c.n, c.h, c.w, c.ci]);
  const dy = tf.tensor4d(normal(c.n * ho * wo * c.co), [c.n, ho, wo, c.co]);
  const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.ci, c.co] }) as tf.Tensor;
  const values = (await dw.data()) as Float32Array;
  tf.dispose([x, dy, dw]);
  return values;
}

describe('webgpu training kernels (SwiftShader)', () => {
  beforeAll(async () => {
    await selectBackend('webgpu');
  });
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('plans tiles that cover the channels and splits that cover M', () => {
    expect(planFilterGradient(65_536, 16, 3, 64)).toMatchObject({ ta: 4, tb: 16 });
    for (const [m, taps, ci, co] of [[65_536, 16, 3, 64], [32, 9, 16, 32], [100, 25, 20, 1]] as const) {
      const p = planFilterGradient(m, taps, ci, co);
      expect(p.splits * p.chunk).toBeGreaterThanOrEqual(m);
      expect((p.splits - 1) * p.chunk).toBeLessThan(m);
    }
    // The first layer of a 64x64 D at batch 64 (M = 65,536, 16 taps, 3 -> 64 channels) is split across workgroups.
    expect(planFilterGradient(65_536, 16, 3, 64).splits).toBeGreaterThan(1);
  });

  it.each(CASES)('Conv2DBackpropFilter $n x $h x $w, $ci -> $co channels, kernel $k, stride $s, $pad', async (c) => {
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const gpu = await filterGradient('webgpu', c);
    expect(tf.memory().numTensors).toBe(before);
    const cpu = await filterGradient('cpu', c);
    expect(gpu.length).toBe(cpu.length);
    expect(cpu.reduce((ref, v) => Math.max(ref, Math.abs(v)), 0)).toBeGreaterThan(0);
    expect(maxRelativeError(gpu, cpu)).toBeLessThanOrEqual(1e-5);
  });
});
