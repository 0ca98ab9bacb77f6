/**
 * The original GAN (Goodfellow et al. 2014) with multilayer perceptrons: LeakyReLU hidden layers (in place of the
 * paper's maxout), tanh output; non-saturating generator loss and k D-steps per G-step (adversarial.ts).
 */
import { adversarialFamily, type AdversarialConfig, type AdversarialLoss } from './adversarial.js';
import type { LayerSpec, NetworkSpec } from '../nn/layers.js';
import type { LatentDistribution } from '../../shared/latent.js';
import type { ImageShape } from '../../shared/grid.js';

export interface GanConfig extends AdversarialConfig {
  /** Size of z. 100. */
  latentSize: number;
  /** 'normal' (default) or 'uniform' in [-1, 1]. */
  latentDistribution: LatentDistribution;
  /** G's hidden layer widths. [256, 512, 1024]. */
  generatorUnits: [number, number, number];
  /** D's hidden layer widths. [512, 256]. */
  discriminatorUnits: [number, number];
  /** LeakyReLU slope in both networks. 0.2. */
  leakyAlpha: number;
  /** 'non-saturating' (the paper's) or 'hinge' (Lim & Ye 2017). */
  loss: AdversarialLoss;
  /** R1 penalty weight on real images (Mescheder et al. 2018); 0: off. */
  r1Gamma: number;
  /** D updates between R1 penalties, each that many times as strong (lazy regularisation, Karras et al. 2020). 16. */
  r1Every: number;
  /** Adam learning rate, beta1 and beta2. 2e-4, 0.5 and 0.999. */
  learningRate: number;
  /** D's learning rate when it differs from G's (TTUR, Heusel et al. 2017); 0: the same as learningRate. */
  discriminatorLearningRate: number;
  beta1: number;
  beta2: number;
  /** Discriminator steps per generator step (k). 1. */
  dSteps: number;
}

export const ganDefaults: GanConfig = {
  latentSize: 100,
  latentDistribution: 'normal',
  generatorUnits: [256, 512, 1024],
  discriminatorUnits: [512, 256],
  leakyAlpha: 0.2,
  loss: 'non-saturating',
  r1Gamma: 0,
  r1Every: 16,
  learningRate: 2e-4,
  discriminatorLearningRate: 0,
  beta1: 0.5,
  beta2: 0.999,
  dSteps: 1,
};

const hidden = (units: number[], alpha: number): LayerSpec[] => units.flatMap((u) => [{ kind: 'dense', units: u } as const, { kind: 'leakyRelu', alpha } as const]);

/** G: z -> (Dense + LeakyReLU) x 3 -> Dense(h*w*c) + tanh -> image. */
export function buildMlpGenerator(c: GanConfig, image: ImageShape): NetworkSpec {
  return {
    name: 'generator',
    inputShape: [c.latentSize],
    init: 'glorot-uniform',
    layers: [...hidden(c.generatorUnits, c.leakyAlpha), { kind: 'dense', units: image.width * image.height * image.channels }, { kind: 'tanh' }, { kind: 'reshape', shape: [image.height, image.width, image.channels] }],
  };
}

/** D: image -> flatten -> (Dense + LeakyReLU) x 2 -> Dense(1) logit. */
export function buildMlpDiscriminator(c: GanConfig, image: ImageShape): NetworkSpec {
  return {
    name: 'discriminator',
    inputShape: [image.height, image.width, image.channels],
    init: 'glorot-uniform',
    layers: [{ kind: 'flatten' }, ...hidden(c.discriminatorUnits, c.leakyAlpha), { kind: 'dense', units: 1 }],
  };
}

export const gan = adversarialFamily<GanConfig>({
  name: 'gan',
  description: 'GAN (Goodfellow et al. 2014) with multilayer perceptrons',
  defaults: ganDefaults,
  build: (c, image) => ({ generator: buildMlpGenerator(c, image), discriminator: buildMlpDiscriminator(c, image) }),
});
