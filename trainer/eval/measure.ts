/**
 * The measurements behind `npm run eval` and the per-epoch numbers of `npm run train`: real-data reference
 * statistics, and the metrics of a set of generated 8-bit images against them.
 */
import { Classifier } from './classifier-runtime.js';
import { fitGaussian, frechetDistance, type Gaussian } from './frechet.js';
import { classAccuracy, classHistogram, classifierScore } from './scores.js';
import { loadImageDataset } from '../data/idx.js';
import { SeededRandom } from '../../shared/rng.js';

export interface Reference {
  /** Classifier features of the whole test split, fitted. */
  test: Gaussian;
  testImages: Uint8Array;
  testCount: number;
  /** FCD between `n` real training images (a seeded subset) and the test split: the floor a model can reach at this N. */
  realVsReal: number;
  n: number;
}

export async function buildReference(classifier: Classifier, dataDir: string, n: number, seed: number): Promise<Reference> {
  const test = loadImageDataset(dataDir, 't10k');
  const train = loadImageDataset(dataDir, 'train');
  classifier.accepts(test.shape, dataDir);
  const dim = classifier.card.featureSize;
  const testOut = await classifier.run(test.images, test.count);
  const px = train.shape.width * train.shape.height * train.shape.channels;
  const m = Math.min(n, train.count);
  const pick = new SeededRandom(seed).permutation(train.count).subarray(0, m);
  const subset = new Uint8Array(m * px);
  pick.forEach((idx, i) => subset.set(train.images.subarray(idx * px, (idx + 1) * px), i * px));
  const trainOut = await classifier.run(subset, m);
  const testGaussian = fitGaussian(testOut.features, test.count, dim);
  return { test: testGaussian, testImages: test.images, testCount: test.count, realVsReal: frechetDistance(fitGaussian(trainOut.features, m, dim), testGaussian), n: m };
}

export interface SampleMetrics {
  fcd: number;
  classifierScore: number;
  classHistogram: number[];
  /** Conditional models: how often the classifier sees the class that was asked for. */
  classAccuracy?: number;
}

/** Metrics of `n` generated 8-bit images (labels: the classes asked of a conditional model). */
export async function measureSamples(classifier: Classifier, ref: Reference, images: Uint8Array, n: number, labels?: Uint8Array): Promise<SampleMetrics> {
  const out = await classifier.run(images, n);
  const k = classifier.classes;
  return {
    fcd: frechetDistance(fitGaussian(out.features, n, classifier.card.featureSize), ref.test),
    classifierScore: classifierScore(out.probs, k),
    classHistogram: classHistogram(out.probs, k),
    ...(labels ? { classAccuracy: classAccuracy(out.probs, k, labels) } : {}),
  };
}

/** The classes a conditional model is asked for: every class equally often, in turn. */
export function balancedLabels(n: number, classes: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i % classes);
}
