/**
 * DCGAN (Radford, Metz & Chintala 2016) at any image size: z is projected to a small feature map (4x4, or 7x7 for
 * 28x28: the side is halved while it stays even and above 4), then transposed convolutions double it until it is
 * the image, halving the channels from a base width at each stage, with batch norm and ReLU, tanh output. D mirrors
 * G with strided convolutions and LeakyReLU(0.2); no pooling, no hidden dense layers besides the projection of z;
 * Adam(2e-4, beta1 = 0.5); weights from N(0, 0.02). As in the paper's LSUN generator (1024 -> 512 -> 256 -> 128
 * from 4x4 to 64x64), only narrower.
 */
import { adversarialFamily, type AdversarialConfig, type AdversarialLoss } from './adversarial.js';
import type { LayerSpec, NetworkSpec } from '../nn/layers.js';
import type { LatentDistribution } from '../../shared/latent.js';
import type { ImageShape } from '../../shared/grid.js';

export const UPSAMPLING = ['transposed', 'nearest'] as const;
export const DISCRIMINATOR_NORMS = ['batch', 'spectral'] as const;

export interface DcganConfig extends AdversarialConfig {
  /** Size of z. 100 as in the paper. */
  latentSize: number;
  /** How z is drawn: 'normal' (default) or 'uniform' in [-1, 1] as in the paper. */
  latentDistribution: LatentDistribution;
  /** G's width at its first feature map; each doubling of the side halves it. 128 (256 for 32x32 colour emoji). */
  baseChannels: number;
  /** G's channels per stage, smallest feature map first; empty (default): derived from baseChannels. */
  generatorChannels: number[];
  /** D's channels per strided convolution; empty (default): G's, reversed. */
  discriminatorChannels: number[];
  /** Convolution kernel size. 4 (divisible by the stride: no checkerboard, and faster on wasm than 5). */
  kernel: number;
  /**
   * How G doubles its feature maps: 'transposed' convolutions (the paper), or 'nearest'-neighbour upsampling then
   * a 3x3 convolution, which has no uneven overlap and so no checkerboard texture (Odena et al. 2016).
   */
  upsample: (typeof UPSAMPLING)[number];
  /**
   * D's normalisation: 'batch' norm (the paper), or 'spectral' normalisation of every weight and no batch norm
   * (Miyato et al. 2018): D stays 1-Lipschitz, which keeps its gradients useful to G over long runs.
   */
  discriminatorNorm: (typeof DISCRIMINATOR_NORMS)[number];
  /** LeakyReLU slope in D. 0.2 as in the paper. */
  leakyAlpha: number;
  /** Batch-norm running-average momentum (used by the exported generator). 0.9. */
  batchNormMomentum: number;
  /** 'non-saturating' (the paper's) or 'hinge' (Lim & Ye 2017; Miyato et al. 2018). */
  loss: AdversarialLoss;
  /** R1 penalty weight on real images (Mescheder et al. 2018); 0: off. */
  r1Gamma: number;
  /** D updates between R1 penalties, each that many times as strong (lazy regularisation, Karras et al. 2020). 16. */
  r1Every: number;
  /** Adam learning rate, beta1 and beta2. 2e-4, 0.5 and 0.999 as in the paper. */
  learningRate: number;
  /** D's learning rate when it differs from G's (TTUR, Heusel et al. 2017); 0: the same as learningRate. */
  discriminatorLearningRate: number;
  beta1: number;
  beta2: number;
  /** Discriminator steps per generator step (Goodfellow et al.'s k). 1. */
  dSteps: number;
}

export const dcganDefaults: DcganConfig = {
  latentSize: 100,
  latentDistribution: 'normal',
  baseChannels: 128,
  generatorChannels: [],
  discriminatorChannels: [],
  kernel: 4,
  upsample: 'transposed',
  discriminatorNorm: 'batch',
  leakyAlpha: 0.2,
  batchNormMomentum: 0.9,
  loss: 'non-saturating',
  r1Gamma: 0,
  r1Every: 16,
  learningRate: 2e-4,
  discriminatorLearningRate: 0,
  beta1: 0.5,
  beta2: 0.999,
  dSteps: 1,
};

const bn = (c: DcganConfig) => ({ kind: 'batchNorm', momentum: c.batchNormMomentum, epsilon: 1e-5 }) as const;

/** The first feature map's side and the number of stride-2 stages to the image: 28 -> 7 and 2, 32 -> 4 and 3. */
export function dcganStages(image: ImageShape): { height: number; width: number; stages: number } {
  let { height, width } = image;
  let stages = 0;
  while (height % 2 === 0 && width % 2 === 0 && (height > 4 || width > 4)) {
    height /= 2;
    width /= 2;
    stages++;
  }
  if (stages === 0) throw new Error(`DCGAN needs even image sides, got ${image.width}x${image.height}`);
  return { height, width, stages };
}

/** G's and D's channels per stage for `image`: the config's explicit lists, or halving from baseChannels. */
export function dcganChannels(c: DcganConfig, image: ImageShape): { generator: number[]; discriminator: number[] } {
  const { stages } = dcganStages(image);
  const generator = c.generatorChannels?.length ? c.generatorChannels : Array.from({ length: stages }, (_, i) => Math.max(1, Math.round(c.baseChannels / 2 ** i)));
  const discriminator = c.discriminatorChannels?.length ? c.discriminatorChannels : [...generator].reverse();
  for (const [name, list] of [['generatorChannels', generator], ['discriminatorChannels', discriminator]] as const) {
    if (list.length !== stages) throw new Error(`${name} has ${list.length} entries, but a ${image.width}x${image.height} image needs ${stages} stages`);
  }
  return { generator, discriminator };
}

/** One doubling of G's feature map to `filters` channels: a transposed convolution, or upsampling and a 3x3 one. */
function doubling(c: DcganConfig, filters: number): LayerSpec[] {
  if ((c.upsample ?? 'transposed') === 'nearest') return [{ kind: 'upsample', factor: 2 }, { kind: 'conv2d', filters, kernel: 3, stride: 1 }];
  return [{ kind: 'conv2dTranspose', filters, kernel: c.kernel, stride: 2 }];
}

/**
 * How a conditional model takes its class (cgan.ts): 'concat', one-hot after z and as constant planes beside D's
 * image (Mirza & Osindero 2014); or 'projection', class batch norms in G's upsampling stages (de Vries et al.
 * 2017) and a projection head on D (Miyato & Koyama 2018).
 */
export interface Conditioning {
  classes: number;
  mode: 'concat' | 'projection';
}

/**
 * G: z -> Dense(h0 * w0 * C0) + BN + ReLU -> [double to C_i+1 + BN + ReLU] ... -> double to `channels` + tanh, where
 * each doubling is a stride-2 transposed convolution or nearest upsampling and a convolution (`upsample`).
 */
export function buildGenerator(c: DcganConfig, image: ImageShape, cond?: Conditioning): NetworkSpec {
  const { height: h, width: w, stages } = dcganStages(image);
  const channels = dcganChannels(c, image).generator;
  const byClass = cond?.mode === 'projection';
  const stageNorm = (): LayerSpec => (byClass ? { kind: 'classBatchNorm', classes: cond!.classes, momentum: c.batchNormMomentum, epsilon: 1e-5 } : bn(c));
  const layers: LayerSpec[] = [{ kind: 'dense', units: h * w * channels[0]! }, bn(c), { kind: 'relu' }, { kind: 'reshape', shape: [h, w, channels[0]!] }];
  for (let i = 1; i < stages; i++) layers.push(...doubling(c, channels[i]!), stageNorm(), { kind: 'relu' });
  layers.push(...doubling(c, image.channels), { kind: 'tanh' });
  const extraInputs = cond && !byClass ? cond.classes : 0;
  return { name: 'generator', inputShape: [c.latentSize + extraInputs], init: 'dcgan-normal', layers };
}

/**
 * D: image -> Conv(D0, stride 2) + LeakyReLU -> [Conv(D_i, stride 2) + BN + LeakyReLU] ... -> flatten -> Dense(1)
 * logit; with spectral normalisation, every weight is normalised and there is no batch norm.
 */
export function buildDiscriminator(c: DcganConfig, image: ImageShape, cond?: Conditioning): NetworkSpec {
  const channels = dcganChannels(c, image).discriminator;
  const spectral = (c.discriminatorNorm ?? 'batch') === 'spectral';
  const sn = spectral ? { spectralNorm: true } : {};
  const layers: LayerSpec[] = channels.flatMap((filters, i) => [
    { kind: 'conv2d', filters, kernel: c.kernel, stride: 2, ...sn } as const,
    ...(i > 0 && !spectral ? [bn(c)] : []),
    { kind: 'leakyRelu', alpha: c.leakyAlpha } as const,
  ]);
  const projection = cond?.mode === 'projection';
  layers.push({ kind: 'flatten' }, projection ? { kind: 'projection', classes: cond!.classes, ...sn } : { kind: 'dense', units: 1, ...sn });
  const extraInputChannels = cond && !projection ? cond.classes : 0;
  return { name: 'discriminator', inputShape: [image.height, image.width, image.channels + extraInputChannels], init: 'dcgan-normal', layers };
}

export const dcganChoices = { upsample: UPSAMPLING, discriminatorNorm: DISCRIMINATOR_NORMS };

export const dcgan = adversarialFamily<DcganConfig>({
  name: 'dcgan',
  description: 'DCGAN (Radford et al. 2016): convolutional generator and discriminator with batch norm',
  defaults: dcganDefaults,
  choices: dcganChoices,
  build: (c, image) => ({ generator: buildGenerator(c, image), discriminator: buildDiscriminator(c, image) }),
});
