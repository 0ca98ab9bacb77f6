/** What `eval/classifier/classifier.json` records beside the classifier graph: how it was made and how good it is. */
import type { ImageShape } from '../../shared/grid.js';
import type { ClassifierConfig } from '../models/classifier.js';

export const CLASSIFIER_DIR = 'eval/classifier';

export interface ClassifierCard {
  file: string;
  sha256: string;
  dataset: string;
  classNames: string[];
  image: ImageShape & { pixelRange: '0..1' };
  featureSize: number;
  /** Top-1 accuracy on the full test split, measured once with the weights of the best validation epoch. */
  testAccuracy: number;
  testCount: number;
  validation: { count: number; accuracy: number; bestEpoch: number };
  history: { epoch: number; loss: number; valAccuracy: number; seconds: number }[];
  training: { config: ClassifierConfig; seed: number; batchSize: number; epochs: number; backend: string; trainedAt: string };
}
