/** A run's saved state: what a checkpoint's header holds, and moving networks and optimisers in and out of it. */
import { tf } from '../backend/tf.js';
import type { Checkpoint, NamedArray } from './checkpoint.js';
import type { FamilyContext, TrainingModel } from '../families/family.js';
import type { ImageShape } from '../../shared/grid.js';
import type { RandomState } from '../../shared/rng.js';
import type { PreprocessOptions } from '../../shared/preprocess.js';
import type { Augment } from '../cli/options.js';
import type { DiffAugmentPolicy } from '../families/diff-augment.js';

export interface RunMeta {
  family: string;
  config: Record<string, unknown>;
  seed: number;
  batchSize: number;
  limit: number | null;
  dataDir: string;
  dataset: string;
  datasetSize: number;
  image: ImageShape;
  classNames: string[];
  /** How a folder's images were preprocessed (absent for IDX data). */
  preprocess?: PreprocessOptions;
  /** Real-image augmentation ('none' in runs from before it existed). */
  augment?: Augment;
  /** Decay of G's weight average (0 or absent: off). */
  ema?: number;
  /** DiffAugment policies (absent: none). */
  diffAugment?: DiffAugmentPolicy[];
  /** The last N epochs lower the learning rates linearly toward 0 (run/lr-schedule.ts; absent or 0: constant). */
  lrDecayEpochs?: number;
  /** Classes drawn in proportion to count^P (data/class-balance.ts; absent or 1: as the data has them). */
  classBalance?: number;
  /** Optimisation steps done (one generator step, or one VAE step). */
  step: number;
  /** Real batches consumed: the data cursor. */
  batchesSeen: number;
  totalSteps: number;
  rng: RandomState;
  backend: string;
  wallTimeSeconds: number;
  losses: Record<string, number>;
  /** Names of each optimiser's weights, in `getWeights()` order. */
  optimizerWeights: Record<string, string[]>;
}

/** What a family needs to rebuild a run's model: its image, classes, and the options that add networks (EMA). */
export function familyContext(meta: Omit<RunMeta, 'optimizerWeights'>): FamilyContext {
  return { image: meta.image, classCount: meta.classNames.length, ema: meta.ema ?? 0, diffAugment: meta.diffAugment ?? [] };
}

export async function captureRun(model: TrainingModel, meta: Omit<RunMeta, 'optimizerWeights'>): Promise<Checkpoint<RunMeta>> {
  const tensors = new Map<string, NamedArray>();
  for (const [netName, net] of Object.entries(model.networks)) {
    for (const [param, value] of await net.snapshot()) tensors.set(`${netName}/${param}`, value);
  }
  const optimizerWeights: Record<string, string[]> = {};
  for (const [optName, opt] of Object.entries(model.optimizers)) {
    const weights = await opt.getWeights();
    optimizerWeights[optName] = weights.map((w) => w.name);
    for (const [i, w] of weights.entries()) tensors.set(`optimizer/${optName}/${i}`, { shape: w.tensor.shape, data: Float32Array.from(await w.tensor.data()) });
    // getWeights() allocates the iteration count as a new scalar each call (tfjs' saveIterations); the other weights
    // are the optimiser's own variables and stay.
    for (const w of weights) if (w.name === 'iter') w.tensor.dispose();
  }
  return { meta: { ...meta, optimizerWeights }, tensors };
}

/** Restores networks (and optimisers, unless `networksOnly`) from a checkpoint. */
export async function restoreRun(model: TrainingModel, ckpt: Checkpoint<RunMeta>, networksOnly = false): Promise<void> {
  for (const [netName, net] of Object.entries(model.networks)) {
    const values = new Map<string, NamedArray>();
    for (const p of net.params) {
      const v = ckpt.tensors.get(`${netName}/${p.name}`);
      if (v) values.set(p.name, v);
    }
    net.restore(values);
  }
  if (networksOnly) return;
  for (const [optName, opt] of Object.entries(model.optimizers)) {
    const names = ckpt.meta.optimizerWeights[optName] ?? [];
    const weights = names.map((name, i) => {
      const v = ckpt.tensors.get(`optimizer/${optName}/${i}`);
      if (!v) throw new Error(`checkpoint lacks optimizer weight ${optName}/${i}`);
      return { name, tensor: tf.tensor(v.data, v.shape) };
    });
    await opt.setWeights(weights);
    tf.dispose(weights.map((w) => w.tensor));
  }
}
