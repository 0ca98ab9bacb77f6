/**
 * DCGAN (Radford, Metz & Chintala 2016), sized for 28x28 images: transposed convolutions with batch norm and
 * ReLU in G, tanh output; strided convolutions with LeakyReLU(0.2) in D; no pooling, no hidden dense layers
 * besides the projection of z; Adam(2e-4, beta1 = 0.5); weights from N(0, 0.02).
 */
import { createAdversarialModel } from '../adversarial.js';
import type { Family } from '../family.js';
import type { NetworkSpec } from '../nn/layers.js';
import { LATENT_DISTRIBUTIONS, type LatentDistribution } from '../../shared/latent.js';
import type { ImageShape } from '../../shared/grid.js';

export interface DcganConfig {
  /** Size of z. 100 as in the paper. */
  latentSize: number;
  /** How z is drawn: 'normal' (default) or 'uniform' in [-1, 1] as in the paper. */
  latentDistribution: LatentDistribution;
  /** G's channels at 1/4 and 1/2 of the image size (the paper's 1024..128 scaled to 28x28). Default [128, 64]. */
  generatorChannels: [number, number];
  /** D's channels after its first and second strided convolution. Default [64, 128]. */
  discriminatorChannels: [number, number];
  /** Convolution kernel size. 4 (divisible by the stride: no checkerboard, and faster on wasm than 5). */
  kernel: number;
  /** LeakyReLU slope in D. 0.2 as in the paper. */
  leakyAlpha: number;
  /** Batch-norm running-average momentum (used by the exported generator). 0.9. */
  batchNormMomentum: number;
  /** Adam learning rate and beta1 for both networks. 2e-4 and 0.5 as in the paper. */
  learningRate: number;
  beta1: number;
  /** Discriminator steps per generator step (Goodfellow et al.'s k). 1. */
  dSteps: number;
}

export const dcganDefaults: DcganConfig = {
  latentSize: 100,
  latentDistribution: 'normal',
  generatorChannels: [128, 64],
  discriminatorChannels: [64, 128],
  kernel: 4,
  leakyAlpha: 0.2,
  batchNormMomentum: 0.9,
  learningRate: 2e-4,
  beta1: 0.5,
  dSteps: 1,
};

const bn = (c: DcganConfig) => ({ kind: 'batchNorm', momentum: c.batchNormMomentum, epsilon: 1e-5 }) as const;

/**
 * G: z -> Dense(h/4 * w/4 * C0) + BN + ReLU -> ConvT(C1, stride 2) + BN + ReLU -> ConvT(channels, stride 2) + tanh.
 * `extraInputs` widens the input for a condition vector (cgan.ts).
 */
export function buildGenerator(c: DcganConfig, image: ImageShape, extraInputs = 0): NetworkSpec {
  if (image.height % 4 !== 0 || image.width % 4 !== 0) throw new Error(`DCGAN needs image sides divisible by 4, got ${image.width}x${image.height}`);
  const [c0, c1] = c.generatorChannels;
  const h = image.height / 4;
  const w = image.width / 4;
  return {
    name: 'generator',
    inputShape: [c.latentSize + extraInputs],
    init: 'dcgan-normal',
    layers: [
      { kind: 'dense', units: h * w * c0 },
      bn(c),
      { kind: 'relu' },
      { kind: 'reshape', shape: [h, w, c0] },
      { kind: 'conv2dTranspose', filters: c1, kernel: c.kernel, stride: 2 },
      bn(c),
      { kind: 'relu' },
      { kind: 'conv2dTranspose', filters: image.channels, kernel: c.kernel, stride: 2 },
      { kind: 'tanh' },
    ],
  };
}

/** D: image -> Conv(D0, stride 2) + LeakyReLU -> Conv(D1, stride 2) + BN + LeakyReLU -> flatten -> Dense(1) logit. */
export function buildDiscriminator(c: DcganConfig, image: ImageShape, extraInputChannels = 0): NetworkSpec {
  const [d0, d1] = c.discriminatorChannels;
  return {
    name: 'discriminator',
    inputShape: [image.height, image.width, image.channels + extraInputChannels],
    init: 'dcgan-normal',
    layers: [
      { kind: 'conv2d', filters: d0, kernel: c.kernel, stride: 2 },
      { kind: 'leakyRelu', alpha: c.leakyAlpha },
      { kind: 'conv2d', filters: d1, kernel: c.kernel, stride: 2 },
      bn(c),
      { kind: 'leakyRelu', alpha: c.leakyAlpha },
      { kind: 'flatten' },
      { kind: 'dense', units: 1 },
    ],
  };
}

export const dcgan: Family<DcganConfig> = {
  name: 'dcgan',
  description: 'DCGAN (Radford et al. 2016): convolutional generator and discriminator with batch norm',
  defaults: dcganDefaults,
  choices: { latentDistribution: LATENT_DISTRIBUTIONS },
  pixelRange: '-1..1',
  latent: (c) => ({ size: c.latentSize, distribution: c.latentDistribution }),
  create: (c, ctx, rng) => createAdversarialModel(c, buildGenerator(c, ctx.image), buildDiscriminator(c, ctx.image), rng),
};
