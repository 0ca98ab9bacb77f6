/**
 * The trainer on the webgpu backend (Dawn on SwiftShader) against the reference cpu backend: one step of every
 * family at a tiny size gives the same losses and gradients; every kernel those steps run is registered on webgpu;
 * the tensor count stays constant; a checkpoint written on one backend resumes on the other with the same data
 * order. Compare losses and gradients, not updated weights: Adam's first updates are about lr * sign(g), so tiny
 * gradient differences become large weight differences.
 */
import './swiftshader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { FAMILIES } from '../../trainer/families/index.js';
import type { Batch, Family, TrainingModel } from '../../trainer/families/family.js';
import { train } from '../../trainer/train.js';
import { SeededRandom } from '../../shared/rng.js';
import type { ImageShape } from '../../shared/grid.js';
import { fashionMnistDir } from '../helpers/idx-files.js';
import { tempDir } from '../helpers/tmp.js';
import { maxRelativeError } from '../helpers/kernel-parity.js';

interface StepCase {
  name: string;
  family: string;
  image: ImageShape;
  classCount: number;
  config: Record<string, unknown>;
}

const rgb16: ImageShape = { width: 16, height: 16, channels: 3 };
const CASES: StepCase[] = [
  { name: 'dcgan', family: 'dcgan', image: rgb16, classCount: 0, config: { latentSize: 8, generatorChannels: [16, 8], discriminatorChannels: [8, 16] } },
  { name: 'dcgan nearest, spectral, hinge', family: 'dcgan', image: rgb16, classCount: 0, config: { latentSize: 8, generatorChannels: [16, 8], discriminatorChannels: [8, 16], upsample: 'nearest', discriminatorNorm: 'spectral', loss: 'hinge' } },
  { name: 'cgan', family: 'cgan', image: rgb16, classCount: 3, config: { latentSize: 8, generatorChannels: [16, 8], discriminatorChannels: [8, 16] } },
  { name: 'gan', family: 'gan', image: { width: 8, height: 8, channels: 1 }, classCount: 0, config: { latentSize: 8, generatorUnits: [16, 32], discriminatorUnits: [32, 16] } },
  { name: 'conv vae', family: 'vae', image: { width: 16, height: 16, channels: 1 }, classCount: 0, config: { arch: 'conv', latentSize: 4, convChannels: [8, 16], hiddenUnits: 32 } },
];
const BATCH = 4;

/** A batch source of seeded random images in the family's range, the same on every backend. */
function batches(image: ImageShape, pixelRange: string, seed: number): () => Batch {
  const rng = new SeededRandom(seed);
  const n = image.width * image.height * image.channels;
  return () => {
    const values = new Float32Array(BATCH * n).map(() => (pixelRange === '0..1' ? rng.nextFloat() : 2 * rng.nextFloat() - 1));
    return { images: tf.tensor4d(values, [BATCH, image.height, image.width, image.channels]), labels: Uint8Array.from({ length: BATCH }, (_, i) => i % 3) };
  };
}

/** Every optimiser's gradients, in the order applied, kept past the step's tidy. */
function captureGradients(model: TrainingModel): tf.Tensor[] {
  const captured: tf.Tensor[] = [];
  for (const opt of Object.values(model.optimizers)) {
    const apply = opt.applyGradients.bind(opt);
    opt.applyGradients = (grads) => {
      const list = Array.isArray(grads) ? grads.map((g) => g.tensor) : Object.values(grads);
      for (const g of list) captured.push(tf.keep(tf.clone(g)));
      return apply(grads);
    };
  }
  return captured;
}

/** One step of `c` on `backend`: its losses, gradients and the kernels it ran. */
async function oneStep(backend: 'cpu' | 'webgpu', c: StepCase): Promise<{ losses: Record<string, number>; grads: Float32Array[]; kernels: Set<string> }> {
  await selectBackend(backend);
  const family = FAMILIES[c.family] as Family<object>;
  const model = family.create({ ...family.defaults, ...c.config }, { image: c.image, classCount: c.classCount }, new SeededRandom(11));
  const captured = captureGradients(model);
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const runKernel = engine.runKernel;
  const kernels = new Set<string>();
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
    kernels.add(name);
    return runKernel.call(this, name, ...rest);
  };
  try {
    const losses = await model.step(batches(c.image, family.pixelRange, 5), new SeededRandom(3));
    const grads = await Promise.all(captured.map(async (g) => (await g.data()) as Float32Array));
    return { losses, grads, kernels };
  } finally {
    engine.runKernel = runKernel;
    tf.dispose(captured);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();
  }
}

describe('webgpu training (SwiftShader)', () => {
  const kernels = new Set<string>();
  beforeAll(async () => {
    const chosen = await selectBackend('webgpu');
    expect(chosen.adapter?.vendor).toBeTruthy();
  });
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it.each(CASES)('$name: one step gives the losses and gradients of the cpu backend', async (c) => {
    const gpu = await oneStep('webgpu', c);
    const cpu = await oneStep('cpu', c);
    for (const k of cpu.kernels) kernels.add(k);
    expect(Object.keys(gpu.losses)).toEqual(Object.keys(cpu.losses));
    for (const [k, v] of Object.entries(cpu.losses)) expect(Math.abs(gpu.losses[k]! - v)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v)));
    expect(gpu.grads.length).toBe(cpu.grads.length);
    expect(cpu.grads.length).toBeGreaterThan(0);
    for (let i = 0; i < cpu.grads.length; i++) {
      expect(gpu.grads[i]!.length).toBe(cpu.grads[i]!.length);
      // Floored at 0.1: a bias followed by batch norm has a gradient of exactly zero in theory, and both backends
      // then return rounding noise (1e-9 to 1e-7).
      expect(maxRelativeError(gpu.grads[i]!, cpu.grads[i]!, 0.1)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('registers on webgpu every kernel that the families steps run', () => {
    expect(kernels.size).toBeGreaterThan(20);
    expect([...kernels].filter((k) => !tf.getKernel(k, 'webgpu'))).toEqual([]);
  });

  it('keeps a constant tensor count over steps', async () => {
    await selectBackend('webgpu');
    const c = CASES[0]!;
    const family = FAMILIES[c.family] as Family<object>;
    const model = family.create({ ...family.defaults, ...c.config }, { image: c.image, classCount: 0 }, new SeededRandom(1));
    const next = batches(c.image, family.pixelRange, 2);
    const rng = new SeededRandom(4);
    await model.step(next, rng);
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await model.step(next, rng);
    expect(tf.memory().numTensors).toBe(after1);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();
  });

  it('resumes a checkpoint written on webgpu on cpu, and the reverse, with the same data order', async () => {
    const root = tempDir('webgpu-resume');
    const base = { model: 'dcgan', data: fashionMnistDir(), resume: false, batchSize: 8, seed: 9, limit: 32, checkpointEvery: 2, evalN: 0, overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8 } } as const;
    const quiet = () => {};
    const reference = await train({ ...base, out: join(root, 'cpu'), backend: 'cpu', steps: 4 }, quiet);
    for (const [first, second] of [['webgpu', 'cpu'], ['cpu', 'webgpu']] as const) {
      const out = join(root, `${first}-${second}`);
      const half = await train({ ...base, out, backend: first, steps: 2 }, quiet);
      expect(half.step).toBe(2);
      const resumed = await train({ ...base, out, resume: true, overrides: {}, backend: second, steps: 4 }, quiet);
      expect(resumed.backend).toMatch(second === 'webgpu' ? /webgpu/ : /cpu/);
      // The data cursor and the latent stream are exactly the reference's: the same batches and draws.
      expect(resumed.batchesSeen).toBe(reference.batchesSeen);
      expect(resumed.rng).toEqual(reference.rng);
      for (const [k, v] of Object.entries(reference.losses)) expect(Math.abs(resumed.losses[k]! - v)).toBeLessThanOrEqual(1e-2 * Math.max(1, Math.abs(v)));
    }
  });
});
