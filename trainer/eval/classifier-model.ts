/**
 * The evaluation ruler: a small CNN classifier of the training data set. Its penultimate layer is the feature
 * space of the Frechet distance (FCD, the FID of Heusel et al. 2017 with a domain classifier in place of
 * Inception), its softmax the classifier score (the Inception score of Salimans et al. 2016) and the class
 * accuracy of conditional samples. It is a ruler, not a target: trained on real images only, never tuned on
 * generated ones, and fixed once models have been measured with it.
 */
import type { NetworkSpec } from '../nn/layers.js';
import type { ImageShape } from '../../shared/grid.js';

export interface ClassifierConfig {
  /** Channels of the three convolutions (stride 1, 2, 2). Default [32, 64, 128]. */
  channels: [number, number, number];
  /** Size of the feature vector (the penultimate layer, after ReLU). 128. */
  featureSize: number;
  /** Convolution kernel of the strided layers (the first is 3x3). 4. */
  kernel: number;
  /** Adam learning rate, halved every `decayEvery` epochs. 1e-3, every 2. */
  learningRate: number;
  decayEvery: number;
  /** Batch-norm running-average momentum. 0.9. */
  batchNormMomentum: number;
  /** Mirror half of each batch left-right (garments are roughly symmetric): cheap augmentation. true. */
  flip: boolean;
}

export const classifierDefaults: ClassifierConfig = {
  channels: [32, 64, 128],
  featureSize: 128,
  kernel: 4,
  learningRate: 1e-3,
  decayEvery: 2,
  batchNormMomentum: 0.9,
  flip: true,
};

const bn = (c: ClassifierConfig) => ({ kind: 'batchNorm', momentum: c.batchNormMomentum, epsilon: 1e-5 }) as const;

/**
 * Image (pixels in 0..1) -> Conv3x3(C0) + ReLU -> Conv(C1, /2) + BN + ReLU -> Conv(C2, /2) + BN + ReLU -> Dense(F) + ReLU.
 * Images wider than 32 pixels get a stride-2 first convolution, so the dense layer stays small (64x64: 8x8xC2 in,
 * 4 MiB of weights instead of 16).
 */
export function buildFeatures(c: ClassifierConfig, image: ImageShape): NetworkSpec {
  const [c0, c1, c2] = c.channels;
  const firstStride = image.width > 32 ? 2 : 1;
  return {
    name: 'features',
    inputShape: [image.height, image.width, image.channels],
    init: 'glorot-uniform',
    layers: [
      { kind: 'conv2d', filters: c0, kernel: 3, stride: firstStride },
      { kind: 'relu' },
      { kind: 'conv2d', filters: c1, kernel: c.kernel, stride: 2 },
      bn(c),
      { kind: 'relu' },
      { kind: 'conv2d', filters: c2, kernel: c.kernel, stride: 2 },
      bn(c),
      { kind: 'relu' },
      { kind: 'flatten' },
      { kind: 'dense', units: c.featureSize },
      { kind: 'relu' },
    ],
  };
}

/** Features -> class logits. */
export function buildHead(c: ClassifierConfig, classCount: number): NetworkSpec {
  return { name: 'head', inputShape: [c.featureSize], init: 'glorot-uniform', layers: [{ kind: 'dense', units: classCount }] };
}
