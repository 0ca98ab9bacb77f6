/**
 * Conditional DCGAN (Mirza & Osindero 2014 on the DCGAN architecture): the class y, one-hot, is concatenated to z
 * at G's input, and given to D as constant label planes concatenated to the image channels. Everything else, and
 * every default, is the DCGAN's (models/dcgan.ts).
 */
import { createAdversarialModel } from './adversarial.js';
import type { Family } from './family.js';
import { buildDiscriminator, buildGenerator, dcgan, dcganDefaults, type DcganConfig } from './dcgan.js';

export type CganConfig = DcganConfig;

export const cgan: Family<CganConfig> = {
  name: 'cgan',
  description: 'conditional DCGAN (Mirza & Osindero 2014): class label given to both G and D',
  defaults: { ...dcganDefaults },
  choices: dcgan.choices,
  pixelRange: '-1..1',
  latent: (c) => ({ size: c.latentSize, distribution: c.latentDistribution }),
  create(c, ctx, rng) {
    const k = ctx.classCount;
    if (k < 2) throw new Error(`a conditional GAN needs labelled data with at least 2 classes, got ${k}`);
    return createAdversarialModel(c, ctx, buildGenerator(c, ctx.image, k), buildDiscriminator(c, ctx.image, k), rng, k);
  },
};
