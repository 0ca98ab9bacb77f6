/**
 * The adversarial game shared by GAN, DCGAN and cGAN (Goodfellow et al. 2014, Algorithm 1): k discriminator steps,
 * then one generator step, with the non-saturating loss or the hinge loss; and the one factory that makes a
 * family of it from its two network builders.
 */
import { tf } from '../backend/tf.js';
import { adam } from '../nn/adam.js';
import { Network } from '../nn/network.js';
import type { NetworkSpec } from '../nn/layers.js';
import type { Batch, Family, FamilyContext, TrainingModel } from './family.js';
import type { ModelFamily } from '../../shared/manifest.js';
import { oneHot, withClassCode, withLabelMaps } from './one-hot.js';
import { TENSOR_NAMES } from '../../shared/manifest.js';
import { diffAugment, type DiffAugmentPolicy } from './diff-augment.js';
import { fillLatent, LATENT_DISTRIBUTIONS, type LatentDistribution } from '../../shared/latent.js';
import type { ImageShape } from '../../shared/grid.js';
import { SeededRandom } from '../../shared/rng.js';

export interface AdversarialSetup {
  generator: Network;
  discriminator: Network;
  optG: tf.Optimizer;
  optD: tf.Optimizer;
  latentSize: number;
  latentDistribution: LatentDistribution;
  dSteps: number;
  /** Generator input from latents (and labels, for a conditional model). */
  generatorInput?: (z: tf.Tensor2D, labels: Uint8Array) => tf.Tensor;
  /** Discriminator input from images (and labels, for a conditional model). */
  discriminatorInput?: (images: tf.Tensor4D, labels: Uint8Array) => tf.Tensor;
  /** The R1 penalty on real images (Mescheder et al. 2018), applied every `every` D updates; absent: off. */
  r1?: { gamma: number; every: number };
  /** A conditional model's one-hot labels, for networks that read them in their layers (class batch norm, projection). */
  labelCode?: (labels: Uint8Array) => tf.Tensor2D;
  /** DiffAugment transforms applied to every image D sees, real or generated (diff-augment.ts). */
  diffAugment?: readonly DiffAugmentPolicy[];
  loss: AdversarialLoss;
}

export const ADVERSARIAL_LOSSES = ['non-saturating', 'hinge'] as const;
export type AdversarialLoss = (typeof ADVERSARIAL_LOSSES)[number];

/** D's loss from its logits on real and generated images. */
export function discriminatorLoss(loss: AdversarialLoss, real: tf.Tensor, fake: tf.Tensor): tf.Scalar {
  if (loss === 'hinge') {
    // Hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16): E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]. D
    // stops pushing a sample once it is past the margin, so its logits stay bounded.
    return tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fake)))) as tf.Scalar;
  }
  // D ascends log D(x) + log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1). With logits l:
  // -log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l).
  return tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fake))) as tf.Scalar;
}

/** G's loss from D's logits on generated images. */
export function generatorLoss(loss: AdversarialLoss, fake: tf.Tensor): tf.Scalar {
  // Hinge: G descends -E[D(G(z))] (Miyato et al. 2018, eq. 17). Non-saturating (Goodfellow et al. 2014, section 3):
  // G ascends log D(G(z)) rather than descending log(1 - D(G(z))), which saturates early in training when D
  // rejects samples confidently.
  return (loss === 'hinge' ? tf.neg(tf.mean(fake)) : tf.mean(tf.softplus(tf.neg(fake)))) as tf.Scalar;
}

/**
 * The R1 penalty (Mescheder et al. 2018, eq. 9): (gamma / 2) E ||grad_x D(x)||^2 on real images, which keeps D
 * from growing steep around the data and so steadies the game near its equilibrium. Times `every` for lazy
 * regularisation. D's gradient with respect to its input is taken inside D's own gradient (a second-order
 * gradient), so the penalty trains D's weights: `d` must be a pass that tfjs can differentiate twice (ApplyOptions'
 * secondOrder). With batch norm in D, each image's gradient also moves through the batch's statistics, as in
 * PyTorch's autograd (scripts/pytorch-dcgan-reference.py).
 */
export function r1Penalty(d: (x: tf.Tensor4D) => tf.Tensor, real: tf.Tensor4D, gamma: number, every: number): tf.Scalar {
  const g = tf.grad((x: tf.Tensor) => tf.sum(d(x as tf.Tensor4D)))(real);
  return tf.mul(gamma / 2 * every, tf.mean(tf.sum(tf.square(g), [1, 2, 3]))) as tf.Scalar;
}

/** Draws a batch of latents from the run's stream with the shared latent function. */
export function drawLatents(rng: SeededRandom, n: number, size: number, distribution: LatentDistribution): tf.Tensor2D {
  return tf.tensor2d(fillLatent(rng, distribution, new Float32Array(n * size)), [n, size]);
}

export async function adversarialStep(s: AdversarialSetup, nextBatch: () => Batch, rng: SeededRandom): Promise<Record<string, number>> {
  const gIn = s.generatorInput ?? ((z) => z);
  const policies = s.diffAugment ?? [];
  const augment = (x: tf.Tensor4D) => (policies.length > 0 ? diffAugment(x, policies, rng) : x);
  const withLabels = (labels: Uint8Array) => (s.labelCode ? { labels: s.labelCode(labels) } : {});
  // D's logits for images as D sees them (after DiffAugment, where it is on), with their labels.
  const dOf = (x: tf.Tensor4D, labels: Uint8Array, secondOrder = false) => s.discriminator.apply((s.discriminatorInput ?? ((y) => y))(x, labels), { training: true, secondOrder, ...withLabels(labels) });
  const dCosts: tf.Scalar[] = [];
  let batchSize = 0;
  let labels: Uint8Array = new Uint8Array(0);
  for (let k = 0; k < s.dSteps; k++) {
    // Spectral normalisation's power iteration, once per D update (Miyato et al. 2018, Algorithm 1).
    s.discriminator.powerIteration();
    const batch = nextBatch();
    batchSize = batch.images.shape[0];
    labels = batch.labels;
    // Lazy regularisation (Karras et al. 2020, section 3.1): the penalty every `every` updates, `every` times as strong.
    const lazyR1 = s.r1 && s.optD.iterations % s.r1.every === 0 ? s.r1 : undefined;
    const cost = tf.tidy((): tf.Scalar => {
      const z = drawLatents(rng, batchSize, s.latentSize, s.latentDistribution);
      // G's forward pass stays off the gradient tape: only D learns here.
      const fake = s.generator.apply(gIn(z, batch.labels), { training: true, ...withLabels(batch.labels) }) as tf.Tensor4D;
      return s.optD.minimize((): tf.Scalar => {
        const real = augment(batch.images);
        const realLogits = dOf(real, batch.labels);
        const cost = discriminatorLoss(s.loss, realLogits, dOf(augment(fake), batch.labels));
        return lazyR1 ? tf.add(cost, r1Penalty((x) => dOf(x, batch.labels, true), real, lazyR1.gamma, lazyR1.every)) : cost;
      }, true, s.discriminator.trainableVariables())!;
    });
    dCosts.push(cost);
    batch.images.dispose();
  }
  const gCost = tf.tidy((): tf.Scalar => {
    const z = drawLatents(rng, batchSize, s.latentSize, s.latentDistribution);
    return s.optG.minimize((): tf.Scalar => {
      const fake = s.generator.apply(gIn(z, labels), { training: true, updateStats: true, ...withLabels(labels) }) as tf.Tensor4D;
      return generatorLoss(s.loss, dOf(augment(fake), labels));
    }, true, s.generator.trainableVariables())!;
  });
  // One read per step, after every kernel of the step was queued.
  const costs = [...dCosts, gCost];
  const values = await Promise.all(costs.map((t) => t.data()));
  tf.dispose(costs);
  const dLoss = values.slice(0, -1).reduce((sum, v) => sum + v[0]! / s.dSteps, 0);
  return { d: dLoss, g: values.at(-1)![0]! };
}

/** Batches of 64 generated images whose batch statistics become an EMA generator's running averages. */
export const STANDING_BATCHES = 128;

export interface AdversarialConfig {
  latentSize: number;
  latentDistribution: LatentDistribution;
  /** 'non-saturating' (Goodfellow et al. 2014) or 'hinge' (Lim & Ye 2017). Absent in older runs: non-saturating. */
  loss?: AdversarialLoss;
  /** R1 penalty weight gamma on real images (Mescheder et al. 2018); 0 or absent: off. */
  r1Gamma?: number;
  /** Apply R1 every this many D updates (lazy regularisation, Karras et al. 2020). 16. */
  r1Every?: number;
  /** Adam's learning rate (G's, and D's unless discriminatorLearningRate is set), beta1 and beta2. */
  learningRate: number;
  /** D's own learning rate, two time-scales (TTUR, Heusel et al. 2017); 0 or absent: learningRate. */
  discriminatorLearningRate?: number;
  beta1: number;
  /** Absent in older runs: 0.999. */
  beta2?: number;
  dSteps: number;
}

/**
 * A GAN-family model from its two network specs: Adam for both players, the adversarial step above, the
 * generator exported. With `classCount` > 0 it is conditional (Mirza & Osindero 2014): G sees [z | one-hot(y)],
 * D sees the image with one constant plane per class, and the sample grid has one row per class; a network with
 * class batch norms (G) or a projection head (D) reads the labels in those layers instead (Miyato & Koyama 2018).
 * From the run's
 * context come DiffAugment for D's inputs and the decay of an exponential moving average of G's weights
 * (Yazici et al. 2019; Karras et al. 2018), which then stands in for G in samples, evaluation and export.
 */
export function createAdversarialModel(
  c: AdversarialConfig,
  ctx: Pick<FamilyContext, 'ema' | 'diffAugment'>,
  gSpec: NetworkSpec,
  dSpec: NetworkSpec,
  rng: SeededRandom,
  classCount = 0,
): TrainingModel {
  const generator = new Network(gSpec, rng);
  const discriminator = new Network(dSpec, rng);
  const optG = adam(c.learningRate, c.beta1, c.beta2 ?? 0.999, 1e-8);
  const optD = adam(c.discriminatorLearningRate || c.learningRate, c.beta1, c.beta2 ?? 0.999, 1e-8);
  const k = classCount;
  const inLayers = (spec: NetworkSpec) => spec.layers.some((l) => l.kind === 'classBatchNorm' || l.kind === 'projection');
  const conditional = k > 0
    ? {
        ...(inLayers(gSpec) ? {} : { generatorInput: (z: tf.Tensor2D, labels: Uint8Array) => withClassCode(z, labels, k) }),
        ...(inLayers(dSpec) ? {} : { discriminatorInput: (x: tf.Tensor4D, labels: Uint8Array) => withLabelMaps(x, labels, k) }),
        labelCode: (labels: Uint8Array) => tf.tensor2d(oneHot(labels, k), [labels.length, k]),
      }
    : {};
  const setup: AdversarialSetup = { generator, discriminator, optG, optD, latentSize: c.latentSize, latentDistribution: c.latentDistribution, dSteps: c.dSteps, loss: c.loss ?? 'non-saturating', ...(c.r1Gamma ? { r1: { gamma: c.r1Gamma, every: c.r1Every || 16 } } : {}), ...conditional, ...(ctx.diffAugment?.length ? { diffAugment: ctx.diffAugment } : {}) };
  const gIn = setup.generatorInput ?? ((z) => z);
  const ema = ctx.ema ?? 0;
  // The averaged copy starts as G (built from a throwaway stream, so the run's own draws are those without EMA).
  const averaged = ema > 0 ? new Network(gSpec, new SeededRandom(0)) : undefined;
  averaged?.averageFrom(generator, 0);
  const shown = averaged ?? generator;
  // The average's own batch-norm statistics, from a fixed stream of latents (so the same weights always get the same
  // statistics), in training-size batches of 64. 8,192 images: with 2,048, the emoji cGAN's FCD (N = 10,000) moved
  // between 2.15 and 2.57 with the draw alone; with 8,192 between 2.28 and 2.39 (the draw of 128 batches costs ~7 s
  // on 2 cores, once an epoch).
  const settle = averaged && gSpec.layers.some((l) => l.kind === 'batchNorm' || l.kind === 'classBatchNorm')
    ? (labels: (n: number) => Uint8Array) => {
        const stream = new SeededRandom(0x5e771e);
        averaged.standingStatistics(STANDING_BATCHES, () => {
          const classes = labels(64);
          return { x: gIn(drawLatents(stream, 64, c.latentSize, c.latentDistribution), classes), ...(setup.labelCode ? { labels: setup.labelCode(classes) } : {}) };
        });
      }
    : undefined;
  return {
    networks: { generator, discriminator, ...(averaged ? { generatorEma: averaged } : {}) },
    optimizers: { generator: optG, discriminator: optD },
    step: async (nextBatch, stepRng) => {
      const losses = await adversarialStep(setup, nextBatch, stepRng);
      // Warm-up as in TensorFlow's ExponentialMovingAverage(num_updates): early on the average follows G closely,
      // instead of holding on to the random initial weights for ~1/(1 - decay) steps.
      const t = optG.iterations;
      averaged?.averageFrom(generator, Math.min(ema, (1 + t) / (10 + t)));
      return losses;
    },
    ...(settle ? { settle } : {}),
    sample: (latents, n, labels) =>
      tf.tidy(() => {
        const classes = labels ?? new Uint8Array(n).map((_, i) => i % Math.max(k, 1));
        const code = setup.labelCode ? { labels: setup.labelCode(classes) } : {};
        return shown.apply(gIn(tf.tensor2d(latents, [n, c.latentSize]), classes), { training: false, ...code }) as tf.Tensor4D;
      }),
    ...(k > 0 ? { gridLabels: (n: number, cols: number) => new Uint8Array(n).map((_, i) => Math.floor(i / cols) % k), sampleGrid: { n: 8 * k, cols: 8 } } : {}),
    exports: [{ role: 'generator', network: shown, input: 'latent', outputs: [TENSOR_NAMES.image], ...(k > 0 ? { classCount: k } : {}) }],
  };
}

/**
 * A GAN family from its description and its two network builders: the latent comes from the config, the
 * networks from `build`, and a conditional family (`conditional`) gets the class count, which it needs to be >= 2.
 */
export function adversarialFamily<C extends AdversarialConfig>(f: {
  name: ModelFamily;
  description: string;
  defaults: C;
  choices?: Family<C>['choices'];
  conditional?: boolean;
  build(c: C, image: ImageShape, classCount: number): { generator: NetworkSpec; discriminator: NetworkSpec };
}): Family<C> {
  return {
    name: f.name,
    description: f.description,
    defaults: f.defaults,
    choices: { latentDistribution: LATENT_DISTRIBUTIONS, loss: ADVERSARIAL_LOSSES, ...f.choices } as Family<C>['choices'],
    pixelRange: '-1..1',
    latent: (c) => ({ size: c.latentSize, distribution: c.latentDistribution }),
    create(c, ctx, rng) {
      const k = f.conditional ? ctx.classCount : 0;
      if (f.conditional && k < 2) throw new Error(`a conditional GAN needs labelled data with at least 2 classes, got ${k}`);
      const { generator, discriminator } = f.build(c, ctx.image, k);
      return createAdversarialModel(c, ctx, generator, discriminator, rng, k);
    },
  };
}
