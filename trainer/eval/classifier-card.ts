/** What a ruler's `classifier.json` (rulers/{dataset}/) records beside its graph: how it was made and how good it is. */
import type { ImageShape } from '../../shared/grid.js';
import type { ClassifierConfig } from './classifier-model.js';
import type { FitMode } from '../../shared/preprocess.js';

/**
 * Where the ruler (evaluation classifier) of a data set lives: rulers/{dataset}, committed beside the models it
 * measures (rulers/fashion-mnist, rulers/emoji).
 */
export function rulerDir(dataset: string): string {
  return `rulers/${dataset.split('/')[0]!.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
}

export const CLASSIFIER_DIR = rulerDir('fashion-mnist');

export interface ClassifierCard {
  file: string;
  sha256: string;
  dataset: string;
  /**
   * An image folder's data: where it was, how it was preprocessed (shared/preprocess.ts), and the held-out split
   * (trainer/data/splits.ts) that is its test set. Absent for IDX data, which comes split.
   */
  data?: { dir: string; preprocess: { size: number; channels: 1 | 3; fit: FitMode; background: [number, number, number] }; testFraction: number; splitSeed: number };
  /**
   * The fingerprint of the data it was trained on (trainer/data/fingerprint.ts): how a run finds its ruler
   * (trainer/eval/ruler.ts). Absent on a card written before rulers recorded it: such a ruler matches nothing.
   */
  trainedOn?: { sha256: string; files: number };
  /** 'rotation': trained to tell four turns of each image apart (Gidaris et al. 2018), not on labels: any folder. */
  selfSupervised?: 'rotation';
  classNames: string[];
  image: ImageShape & { pixelRange: '0..1' };
  featureSize: number;
  /** Top-1 accuracy on the full test split, measured once with the weights of the best validation epoch. */
  testAccuracy: number;
  testCount: number;
  validation: { count: number; accuracy: number; bestEpoch: number };
  history: { epoch: number; loss: number; valAccuracy: number; seconds: number }[];
  training: { config: ClassifierConfig; seed: number; batchSize: number; epochs: number; classBalance?: number; backend: string; trainedAt: string };
}

/**
 * The whole factor k that takes images of `shape` to what a ruler reading `ruler` sees: 1, or more for a smaller
 * model, measured as `scale=k` serves it (nearest neighbour): a 32x32 emoji model at the ruler's 64x64. Null for any
 * other shape.
 */
export function rulerScale(ruler: ImageShape, shape: ImageShape): number | null {
  const k = ruler.width / shape.width;
  return Number.isInteger(k) && k >= 1 && ruler.height === shape.height * k && ruler.channels === shape.channels ? k : null;
}
