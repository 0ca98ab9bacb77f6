/**
 * The GAN recipe's options: the hinge loss, spectral normalisation in D, two learning rates, nearest-neighbour
 * upsampling in G, and for the cGAN class batch norm in G with a projection discriminator. Each computes what its paper says, trains without leaking tensors, and a generator that
 * upsamples exports to ONNX Resize + Conv with the exporter's parity check passing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { discriminatorLoss, generatorLoss, r1Penalty } from '../../trainer/families/adversarial.js';
import type { NetworkSpec } from '../../trainer/nn/layers.js';
import { FAMILIES } from '../../trainer/families/index.js';
import { Network, upsampleNearest } from '../../trainer/nn/network.js';
import { SeededRandom } from '../../shared/rng.js';
import { createApp } from '../../edge/app.js';
import { createOrtWebRuntime } from '../../edge/inference/ort-web-runtime.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { loadModelDir } from '../helpers/models-on-disk.js';
import { tempDir } from '../helpers/tmp.js';
import { TINY_NETWORKS, tinyRun } from '../helpers/tiny-run.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** The largest singular value of a [rows, cols] matrix, by 500 power iterations in float64. */
function topSingularValue(m: Float32Array, rows: number, cols: number): number {
  let u = Float64Array.from({ length: cols }, (_, i) => 1 + i);
  let sigma = 0;
  for (let it = 0; it < 500; it++) {
    const v = new Float64Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[r]! += m[r * cols + c]! * u[c]!;
    const next = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) next[c]! += m[r * cols + c]! * v[r]!;
    const norm = Math.hypot(...next);
    sigma = Math.sqrt(norm / Math.hypot(...u));
    u = next.map((x) => x / norm);
  }
  return sigma;
}

describe('losses', () => {
  it('hinge: D pays only inside the margin, G the negated mean logit (Lim & Ye 2017)', async () => {
    const real = tf.tensor1d([2, 0.5]);
    const fake = tf.tensor1d([-2, 0.3]);
    // D: mean(max(0, 1 - [2, 0.5])) + mean(max(0, 1 + [-2, 0.3])) = 0.25 + 0.65; G: -mean([-2, 0.3]) = 0.85.
    expect((await discriminatorLoss('hinge', real, fake).data())[0]).toBeCloseTo(0.9, 6);
    expect((await generatorLoss('hinge', fake).data())[0]).toBeCloseTo(0.85, 6);
    // The non-saturating loss on the same logits: softplus(-2) + softplus(-0.5) over 2, plus softplus(-2) + softplus(0.3) over 2.
    const sp = (x: number) => Math.log1p(Math.exp(x));
    expect((await discriminatorLoss('non-saturating', real, fake).data())[0]).toBeCloseTo((sp(-2) + sp(-0.5)) / 2 + (sp(-2) + sp(0.3)) / 2, 6);
    tf.dispose([real, fake]);
  });
});

describe('spectral normalisation (Miyato et al. 2018)', () => {
  it("the power iteration finds the kernel's top singular value, and the layer computes with W / sigma", async () => {
    const net = new Network({ name: 'd', inputShape: [6], init: 'dcgan-normal', layers: [{ kind: 'dense', units: 5, spectralNorm: true }] }, new SeededRandom(3));
    const raw = (await net.variables.get('0.kernel')!.data()) as Float32Array;
    const sigma = topSingularValue(raw, 6, 5);
    for (let i = 0; i < 30; i++) net.powerIteration();
    // The identity's rows through the layer read its kernel back as it computes with it (the bias starts at 0).
    const eye = tf.eye(6);
    const effective = (await net.apply(eye, { training: true }).data()) as Float32Array;
    for (let i = 0; i < raw.length; i++) expect(effective[i]!).toBeCloseTo(raw[i]! / sigma, 5);
    expect(topSingularValue(effective, 6, 5)).toBeCloseTo(1, 4);
    eye.dispose();
    net.dispose();
  });

  it('its gradient goes through sigma, as finite differences of the normalised layer say', async () => {
    const net = new Network({ name: 'd', inputShape: [4], init: 'dcgan-normal', layers: [{ kind: 'dense', units: 3, spectralNorm: true }] }, new SeededRandom(5));
    const kernel = net.variables.get('0.kernel')!;
    const rng = new SeededRandom(6);
    kernel.assign(tf.tensor(Float32Array.from({ length: 12 }, () => rng.nextNormal()), [4, 3]));
    for (let i = 0; i < 30; i++) net.powerIteration();
    const x = tf.tensor2d(Float32Array.from({ length: 8 }, () => rng.nextNormal()), [2, 4]);
    const w = tf.tensor2d([[1, -2, 0.5], [0.3, 1, -1]]);
    const loss = () => tf.sum(tf.mul(net.apply(x, { training: true }), w)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, [kernel]);
    const g = (await grads[Object.keys(grads)[0]!]!.data()) as Float32Array;
    const base = (await kernel.data()) as Float32Array;
    const at = async (i: number, d: number) => {
      kernel.assign(tf.tensor(base.map((v, j) => (j === i ? v + d : v)), [4, 3]));
      const l = loss();
      const out = (await l.data())[0]!;
      l.dispose();
      return out;
    };
    // u is held fixed (the paper's treatment), so finite differences of W / ||W u|| match exactly that gradient;
    // without the sigma term the gradient would be x^T w / sigma alone.
    for (const i of [0, 4, 7, 11]) expect(g[i]!).toBeCloseTo(((await at(i, 1e-3)) - (await at(i, -1e-3))) / 2e-3, 2);
    tf.dispose([x, w, ...Object.values(grads)]);
    net.dispose();
  });
});

describe('the R1 penalty (Mescheder et al. 2018)', () => {
  // D's weights move the penalty through a second-order gradient: checked against central finite differences.
  const dSpecs: Record<string, NetworkSpec> = {
    'spectral conv': { name: 'd', inputShape: [4, 4, 2], init: 'dcgan-normal', layers: [{ kind: 'conv2d', filters: 3, kernel: 3, stride: 2, spectralNorm: true }, { kind: 'leakyRelu', alpha: 0.2 }, { kind: 'flatten' }, { kind: 'dense', units: 1, spectralNorm: true }] },
    // The DCGAN's D: batch norm, whose statistics couple the batch's images.
    'batch-norm conv': { name: 'd', inputShape: [4, 4, 2], init: 'dcgan-normal', layers: [{ kind: 'conv2d', filters: 3, kernel: 3, stride: 2 }, { kind: 'batchNorm', momentum: 0.9, epsilon: 1e-5 }, { kind: 'leakyRelu', alpha: 0.2 }, { kind: 'flatten' }, { kind: 'dense', units: 1 }] },
  };
  it.each(Object.keys(dSpecs))('%s: its gradient with respect to the weights matches finite differences', async (name) => {
    const net = new Network(dSpecs[name]!, new SeededRandom(4));
    const rng = new SeededRandom(9);
    for (const v of net.trainableVariables()) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => 0.7 * rng.nextNormal()), v.shape));
    const x = tf.tensor4d(Float32Array.from({ length: 3 * 32 }, () => rng.nextNormal()), [3, 4, 4, 2]);
    const penalty = () => r1Penalty((t) => net.apply(t, { training: true, secondOrder: true }), x, 2, 1);
    const kernel = net.variables.get('0.kernel')!;
    const { value, grads } = tf.variableGrads(penalty, [kernel]);
    const g = (await grads[Object.keys(grads)[0]!]!.data()) as Float32Array;
    expect((await value.data())[0]).toBeGreaterThan(0);
    const base = (await kernel.data()) as Float32Array;
    const at = async (i: number, delta: number) => {
      kernel.assign(tf.tensor(base.map((w, j) => (j === i ? w + delta : w)), kernel.shape));
      const p = penalty();
      const out = (await p.data())[0]!;
      p.dispose();
      return out;
    };
    for (const i of [0, 7, 20, 40]) {
      const numeric = ((await at(i, 1e-2)) - (await at(i, -1e-2))) / 2e-2;
      expect(g[i]!).toBeCloseTo(numeric, 1);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    net.dispose();
  });

  it("batch norm's closed-form gradient, differentiated again, would miss the statistics' terms", async () => {
    // Why the penalty's pass asks for secondOrder: the same penalty through the closed form moves D differently.
    const net = new Network(dSpecs['batch-norm conv']!, new SeededRandom(4));
    const x = tf.tensor4d(Float32Array.from({ length: 3 * 32 }, (_, i) => Math.sin(i * 1.7)), [3, 4, 4, 2]);
    const kernel = net.variables.get('0.kernel')!;
    const gradOf = async (secondOrder: boolean) => {
      const { value, grads } = tf.variableGrads(() => r1Penalty((t) => net.apply(t, { training: true, secondOrder }), x, 2, 1), [kernel]);
      const g = (await grads[Object.keys(grads)[0]!]!.data()) as Float32Array;
      tf.dispose([value, ...Object.values(grads)]);
      return g;
    };
    const [exact, closedForm] = [await gradOf(true), await gradOf(false)];
    const gap = Math.max(...exact.map((v, i) => Math.abs(v - closedForm[i]!))) / Math.max(...exact.map(Math.abs));
    expect(gap).toBeGreaterThan(0.01);
    x.dispose();
    net.dispose();
  });

  it('trains a DCGAN with batch norm in D: lazy R1 steps leak no tensors', async () => {
    const family = FAMILIES['dcgan']!;
    const model = family.create({ ...family.defaults, latentSize: 4, generatorChannels: [8, 4], discriminatorChannels: [4, 8], r1Gamma: 1, r1Every: 2 }, { image: { width: 16, height: 16, channels: 3 }, classCount: 0 }, new SeededRandom(1));
    const rng = new SeededRandom(2);
    const batch = () => ({ images: tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 3) as tf.Tensor4D, labels: new Uint8Array(4) });
    await model.step(batch, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const losses = await model.step(batch, rng);
      expect(Number.isFinite(losses['d']!)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();
  });
});

describe('projection conditioning (Miyato & Koyama 2018)', () => {
  it("the projection head adds the inner product of the features with the class's embedding", async () => {
    const net = new Network({ name: 'd', inputShape: [3], init: 'dcgan-normal', layers: [{ kind: 'projection', classes: 2 }] }, new SeededRandom(2));
    const h = tf.tensor2d([[1, 2, 3], [-1, 0, 2]]);
    const y = tf.tensor2d([[0, 1], [1, 0]]);
    const got = await net.apply(h, { training: false, labels: y }).data();
    const [w, b, e] = await Promise.all(['0.kernel', '0.bias', '0.embedding'].map((n) => net.variables.get(n)!.data()));
    const want = [[1, 2, 3, 1], [-1, 0, 2, 0]].map(([h0, h1, h2, cls]) => {
      const hs = [h0!, h1!, h2!];
      return hs.reduce((sum, v, j) => sum + v * w![j]! + v * e![cls! * 3 + j]!, b![0]!);
    });
    expect(Array.from(got)[0]).toBeCloseTo(want[0]!, 5);
    expect(Array.from(got)[1]).toBeCloseTo(want[1]!, 5);
    expect(() => net.apply(h, { training: false })).toThrow(/needs the batch's labels/);
    tf.dispose([h, y]);
    net.dispose();
  });
});

describe('nearest-neighbour upsampling (Odena et al. 2016)', () => {
  it('copies each value into an f x f block, and sums the gradient back', async () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const y = upsampleNearest(x, 2);
    expect(y.shape).toEqual([1, 4, 4, 2]);
    const v = await y.data();
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let ch = 0; ch < 2; ch++) expect(v[(r * 4 + c) * 2 + ch]).toBe(1 + ((r >> 1) * 2 + (c >> 1)) * 2 + ch);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(upsampleNearest(t as tf.Tensor4D, 3)))(x);
    expect(Array.from(await grad.data())).toEqual(new Array(8).fill(9));
    tf.dispose([x, y, grad]);
  });
});

describe('the recipe trains and exports', () => {
  it('hinge + lazy R1 + spectral projection D + TTUR + nearest G with class batch norm: steps leak no tensors, and the generator exports as Resize + Conv with parity', async () => {
    const family = FAMILIES['cgan']!;
    const recipe = { loss: 'hinge', discriminatorNorm: 'spectral', upsample: 'nearest', conditioning: 'projection', r1Gamma: 0.5, r1Every: 2, discriminatorLearningRate: 4e-4, learningRate: 1e-4, beta1: 0, beta2: 0.9 };
    const rng = new SeededRandom(1);
    const image = { width: 16, height: 16, channels: 3 as const };
    const model = family.create({ ...family.defaults, latentSize: 4, generatorChannels: [8, 4], discriminatorChannels: [4, 8], ...recipe }, { image, classCount: 2 }, rng);
    const batch = () => ({ images: tf.randomUniform([4, 16, 16, 3], -1, 1) as tf.Tensor4D, labels: Uint8Array.of(0, 1, 0, 1) });
    await model.step(batch, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const losses = await model.step(batch, rng);
      expect(Number.isFinite(losses['d']!) && Number.isFinite(losses['g']!)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(model.optimizers['discriminator']!.getConfig()['learningRate']).toBe(4e-4);
    expect(model.optimizers['generator']!.getConfig()['learningRate']).toBe(1e-4);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();

    const { train } = await import('../../trainer/train.js');
    const { exportRun } = await import('../../trainer/export.js');
    const folder = await makeImageFolder({ classes: ['a', 'b'], perClass: 6, broken: false });
    const run = join(tempDir('recipe'), 'run');
    await train(tinyRun('cgan', folder.dir, run, { steps: 2, overrides: { ...TINY_NETWORKS, ...recipe } }), () => {});
    const out = join(tempDir('recipe-out'), 'm');
    // exportRun compares onnxruntime's output with tfjs's on 64 inputs and throws past its tolerance.
    await exportRun({ run, out, id: 'recipe' }, () => {});
    const graph = readFileSync(join(out, 'generator.onnx')).toString('latin1');
    expect(graph).toContain('Resize');
    expect(graph).not.toContain('ConvTranspose');
    // The worker's runtime (onnxruntime-web) serves it: the registry's smoke test passes and a seeded image comes out.
    const app = createApp({ models: [loadModelDir(out)], runtime: createOrtWebRuntime() });
    const png = async (k: number) => {
      const res = await app.request(`http://edge.test/v1/models/recipe/sample.png?seed=7&class=${k}`);
      expect(res.status).toBe(200);
      return new Uint8Array(await res.arrayBuffer());
    };
    const [a, b] = [await png(0), await png(1)];
    expect(Array.from(a.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    // The class reaches the image through the class batch norms alone (G's input is z).
    expect(a).not.toEqual(b);
  });
});
