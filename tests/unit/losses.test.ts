/** Losses and conditioning, by hand-computed cases; a training step of every family leaks no tensors. */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../trainer/backend/select.js';
import { tf } from '../../trainer/backend/tf.js';
import { vaeLossTerms } from '../../trainer/families/vae.js';
import { oneHot, withClassCode, withLabelMaps } from '../../trainer/families/one-hot.js';
import { FAMILIES } from '../../trainer/families/index.js';
import { SeededRandom } from '../../shared/rng.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('VAE loss (Kingma & Welling 2014)', () => {
  it('matches a hand-computed case: per-image sums, batch mean', () => {
    // Image 1: x = (1, 0), logits (0, 0): BCE = 2 ln 2. mu = (1, 0), logvar = (0, ln 2):
    //   KL = -1/2 [(1 + 0 - 1 - 1) + (1 + ln 2 - 0 - 2)] = 1 - ln(2) / 2.
    // Image 2: x = (0, 1), logits (2, -1): BCE = softplus(2) + softplus(-1) + 1. mu = 0, logvar = 0: KL = 0.
    const sp = (v: number) => Math.log1p(Math.exp(v));
    const { recon, kl } = tf.tidy(() => {
      const x = tf.tensor4d([1, 0, 0, 1], [2, 1, 2, 1]);
      const logits = tf.tensor4d([0, 0, 2, -1], [2, 1, 2, 1]);
      const t = vaeLossTerms(x, logits, tf.tensor2d([1, 0, 0, 0], [2, 2]), tf.tensor2d([0, Math.log(2), 0, 0], [2, 2]));
      return { recon: t.recon.dataSync()[0]!, kl: t.kl.dataSync()[0]! };
    });
    expect(recon).toBeCloseTo((2 * Math.log(2) + sp(2) + sp(-1) + 1) / 2, 5);
    expect(kl).toBeCloseTo((1 - Math.log(2) / 2) / 2, 5);
  });

  it('KL is zero exactly at the prior and positive elsewhere', () => {
    const kl = (mu: number[], lv: number[]) => tf.tidy(() => vaeLossTerms(tf.zeros([1, 1, 1, 1]), tf.zeros([1, 1, 1, 1]), tf.tensor2d(mu, [1, mu.length]), tf.tensor2d(lv, [1, lv.length])).kl.dataSync()[0]!);
    expect(kl([0, 0], [0, 0])).toBeCloseTo(0, 7);
    expect(kl([0.5, 0], [0, 0])).toBeCloseTo(0.125, 6);
    expect(kl([0, 0], [1, -1])).toBeGreaterThan(0);
  });
});

describe('conditioning', () => {
  it('one-hot codes labels', () => {
    expect([...oneHot(Uint8Array.of(2, 0), 3)]).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('appends the class code to z and constant label planes to images', () => {
    tf.tidy(() => {
      const z = withClassCode(tf.tensor2d([[7, 8]]), Uint8Array.of(1), 3);
      expect(Array.from(z.dataSync())).toEqual([7, 8, 0, 1, 0]);
      const maps = withLabelMaps(tf.fill([2, 2, 2, 1], 5) as tf.Tensor4D, Uint8Array.of(0, 2), 3);
      expect(maps.shape).toEqual([2, 2, 2, 4]);
      const v = maps.arraySync() as number[][][][];
      expect(v[0]![1]![1]).toEqual([5, 1, 0, 0]);
      expect(v[1]![0]![1]).toEqual([5, 0, 0, 1]);
    });
  });
});

describe('k discriminator steps per generator step', () => {
  it('draws k real batches per step and stays finite', async () => {
    const family = FAMILIES['dcgan']!;
    const rng = new SeededRandom(1);
    const model = family.create({ ...family.defaults, latentSize: 4, generatorChannels: [8, 4], discriminatorChannels: [4, 8], dSteps: 3 }, { image: { width: 28, height: 28, channels: 1 }, classCount: 10 }, rng);
    let batches = 0;
    const batch = () => (batches++, { images: tf.randomUniform([4, 28, 28, 1], -1, 1) as tf.Tensor4D, labels: new Uint8Array(4) });
    const losses = await model.step(batch, rng);
    expect(batches).toBe(3);
    expect(Number.isFinite(losses['d']!) && Number.isFinite(losses['g']!)).toBe(true);
    for (const net of Object.values(model.networks)) net.dispose();
  });
});

describe('training steps leak no tensors', () => {
  const image = { width: 28, height: 28, channels: 1 as const };
  const tiny: Record<string, Record<string, unknown>> = {
    vae: { latentSize: 4, hiddenUnits: 16 },
    gan: { latentSize: 4, generatorUnits: [8, 8, 8], discriminatorUnits: [8, 8] },
    dcgan: { latentSize: 4, generatorChannels: [8, 4], discriminatorChannels: [4, 8] },
    cgan: { latentSize: 4, generatorChannels: [8, 4], discriminatorChannels: [4, 8] },
  };
  it.each(Object.keys(tiny))('%s', async (name) => {
    const family = FAMILIES[name]!;
    const rng = new SeededRandom(1);
    const model = family.create({ ...family.defaults, ...tiny[name] }, { image, classCount: 10 }, rng);
    const batch = () => ({ images: tf.randomUniform([8, 28, 28, 1], family.pixelRange === '0..1' ? 0 : -1, 1) as tf.Tensor4D, labels: new Uint8Array(8).map((_, i) => i) });
    await model.step(batch, rng); // optimiser slots are created on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const losses = await model.step(batch, rng);
      for (const v of Object.values(losses)) expect(Number.isFinite(v)).toBe(true);
    }
    const s = model.sample(new Float32Array(2 * 4), 2, Uint8Array.of(0, 1));
    expect(s.shape).toEqual([2, 28, 28, 1]);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();
  });
});

describe('continuous Bernoulli (Loaiza-Ganem & Cunningham 2019)', () => {
  it('C(lambda) normalises lambda^x (1 - lambda)^(1 - x) on [0, 1]: checked by numerical integration', async () => {
    const { continuousBernoulliLogNorm } = await import('../../trainer/families/vae.js');
    const { continuousBernoulliLogNormOf } = await import('../../trainer/eval/likelihood.js');
    for (const lambda of [0.02, 0.2, 0.45, 0.5, 0.5004, 0.7, 0.97]) {
      // 1 / C = integral_0^1 lambda^x (1 - lambda)^(1 - x) dx, by the midpoint rule on 100,000 cells.
      let integral = 0;
      const cells = 100_000;
      for (let i = 0; i < cells; i++) {
        const x = (i + 0.5) / cells;
        integral += lambda ** x * (1 - lambda) ** (1 - x) / cells;
      }
      const expected = -Math.log(integral);
      const logit = Math.log(lambda / (1 - lambda));
      const t = continuousBernoulliLogNorm(tf.tensor1d([logit]));
      expect(t.dataSync()[0]).toBeCloseTo(expected, 4);
      t.dispose();
      expect(continuousBernoulliLogNormOf(lambda)).toBeCloseTo(expected, 6);
    }
  });

  it('its gradient is finite at l = 0, where the closed form divides 0 by 0', () => {
    return import('../../trainer/families/vae.js').then(({ continuousBernoulliLogNorm }) => {
      const g = tf.grad((l: tf.Tensor) => tf.sum(continuousBernoulliLogNorm(l)))(tf.tensor1d([0, 1e-4, -2, 30]));
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      g.dispose();
    });
  });
});
