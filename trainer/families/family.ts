/**
 * What every model family provides to the training loop (train.ts) and the exporter (export.ts). Only what truly
 * differs between VAE, GAN, DCGAN and cGAN lives in trainer/families/<family>.ts.
 */
import type { tf } from '../backend/tf.js';
import type { Network } from '../nn/network.js';
import type { SeededRandom } from '../../shared/rng.js';
import type { ImageShape } from '../../shared/grid.js';
import type { LatentDistribution } from '../../shared/latent.js';
import type { ModelFamily, GraphRole } from '../../shared/manifest.js';
import type { PixelRange } from '../../shared/pixels.js';
import type { DiffAugmentPolicy } from './diff-augment.js';

/** A training batch: images in the family's pixel range, NHWC, and their labels. */
export interface Batch {
  images: tf.Tensor4D;
  labels: Uint8Array;
}

/** One graph the exporter writes: a network, what feeds it, what it produces. */
export interface ExportedGraph {
  role: GraphRole;
  network: Network;
  /** 'latent' (z) or 'image' (an encoder's input). */
  input: 'latent' | 'image';
  /** Output tensor names, in order (an encoder's single output is split into mean and logvar). */
  outputs: string[];
  /** A conditional generator also takes an int64 class index, one-hot encoded inside the graph. */
  classCount?: number;
}

export interface TrainingModel {
  /** Every network, checkpointed by name. */
  networks: Record<string, Network>;
  optimizers: Record<string, tf.Optimizer>;
  /**
   * One optimisation step; `nextBatch` hands out the next real batch (called k times for k D-steps). Asynchronous:
   * the losses are read once, at the end, with `data()`. A synchronous read (`dataSync`) stalls the GPU pipeline,
   * and on the webgpu backend in Node it fails outright (it reads through an OffscreenCanvas).
   */
  step(nextBatch: () => Batch, rng: SeededRandom): Promise<Record<string, number>>;
  /** Images [n, h, w, c] in the family's pixel range from latents (n x latentSize), inference mode. */
  sample(latents: Float32Array, n: number, labels?: Uint8Array): tf.Tensor4D;
  /** For the sample grid of a conditional model: the class of grid image i (one row per class). */
  gridLabels?(n: number, cols: number): Uint8Array;
  /** The sample grid's size when it is not 64 images in 8 columns (a conditional model shows every class). */
  sampleGrid?: { n: number; cols: number };
  /**
   * Readies the networks that `sample` and the export use, after training steps: for a weight average of G, the
   * batch-norm statistics of the average itself (adversarial.ts). Called before samples, evaluation and each
   * checkpoint; deterministic, and training never reads what it sets. `labels(n)`: n classes drawn as the data has
   * them (a conditional model's batches).
   */
  settle?(labels: (n: number) => Uint8Array): void;
  /** Reconstructions [n, h, w, c] of real images (an autoencoder's second sample grid). */
  reconstruct?(images: tf.Tensor4D): tf.Tensor4D;
  exports: ExportedGraph[];
}

export interface FamilyContext {
  image: ImageShape;
  classCount: number;
  /** Decay of the generator's weight average (adversarial.ts); 0 or absent: off. */
  ema?: number;
  /** DiffAugment policies for D's inputs (adversarial families). */
  diffAugment?: readonly DiffAugmentPolicy[];
}

export interface Family<Config extends object> {
  name: ModelFamily;
  description: string;
  defaults: Config;
  /** The allowed values of string options, checked on the command line. */
  choices?: Partial<Record<keyof Config & string, readonly string[]>>;
  /** The range the family's networks see and produce. */
  pixelRange: PixelRange;
  latent(config: Config): { size: number; distribution: LatentDistribution };
  create(config: Config, ctx: FamilyContext, rng: SeededRandom): TrainingModel;
}
