/**
 * Conditional DCGAN (Mirza & Osindero 2014 on the DCGAN architecture): the class y, one-hot, is concatenated to z
 * at G's input, and given to D as constant label planes concatenated to the image channels. Everything else, and
 * every default, is the DCGAN's (models/dcgan.ts).
 */
import { tf } from '../tf.js';
import { adversarialStep } from '../adversarial.js';
import type { Family } from '../family.js';
import { Network } from '../nn/network.js';
import { withClassCode, withLabelMaps } from '../one-hot.js';
import { buildDiscriminator, buildGenerator, dcganDefaults, type DcganConfig } from './dcgan.js';
import { TENSOR_NAMES } from '../../shared/manifest.js';

export type CganConfig = DcganConfig;

export const cgan: Family<CganConfig> = {
  name: 'cgan',
  description: 'conditional DCGAN (Mirza & Osindero 2014): class label given to both G and D',
  defaults: { ...dcganDefaults },
  pixelRange: '-1..1',
  latent: (c) => ({ size: c.latentSize, distribution: c.latentDistribution }),
  create(c, ctx, rng) {
    const k = ctx.classCount;
    if (k < 2) throw new Error(`a conditional GAN needs labelled data with at least 2 classes, got ${k}`);
    const generator = new Network(buildGenerator(c, ctx.image, k), rng);
    const discriminator = new Network(buildDiscriminator(c, ctx.image, k), rng);
    const optG = tf.train.adam(c.learningRate, c.beta1, 0.999, 1e-8);
    const optD = tf.train.adam(c.learningRate, c.beta1, 0.999, 1e-8);
    const setup = {
      generator, discriminator, optG, optD, latentSize: c.latentSize, latentDistribution: c.latentDistribution, dSteps: c.dSteps,
      generatorInput: (z: tf.Tensor2D, labels: Uint8Array) => withClassCode(z, labels, k),
      discriminatorInput: (x: tf.Tensor4D, labels: Uint8Array) => withLabelMaps(x, labels, k),
    };
    return {
      networks: { generator, discriminator },
      optimizers: { generator: optG, discriminator: optD },
      step: (nextBatch, stepRng) => adversarialStep(setup, nextBatch, stepRng),
      sample: (latents, n, labels) =>
        tf.tidy(() => generator.apply(withClassCode(tf.tensor2d(latents, [n, c.latentSize]), labels ?? new Uint8Array(n).map((_, i) => i % k), k), { training: false }) as tf.Tensor4D),
      gridLabels: (n, cols) => new Uint8Array(n).map((_, i) => Math.floor(i / cols) % k),
      exports: [{ role: 'generator', network: generator, input: 'latent', outputs: [TENSOR_NAMES.image], classCount: k }],
    };
  },
};
