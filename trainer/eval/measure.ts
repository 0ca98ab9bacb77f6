/**
 * The measurements behind `npm run eval` and the per-epoch numbers of `npm run train`: real-data reference
 * statistics, and the metrics of a set of generated 8-bit images against them.
 */
import { existsSync } from 'node:fs';
import { type Classifier, EvaluationError } from './classifier-runtime.js';
import { fitGaussian, frechetDistance, type Gaussian } from './frechet.js';
import { classAccuracy, classAccuracyByClass, classHistogram, classifierScore } from './scores.js';
import { DEFAULT_DATA_DIR } from '../data/idx.js';
import { loadSplits } from '../data/splits.js';
import { classQuotas, countClasses } from '../data/class-balance.js';
import { dataFingerprint } from '../data/fingerprint.js';
import { SeededRandom } from '../../shared/rng.js';
import type { ImageShape } from '../../shared/grid.js';

export interface Reference {
  /** Classifier features of the whole test split, fitted. */
  test: Gaussian;
  testImages: Uint8Array;
  testCount: number;
  /** FCD between `n` real training images (a seeded subset) and the test split: the floor a model can reach at this N. */
  realVsReal: number;
  n: number;
  /** The training split's images (8-bit, as stored) and count. */
  trainImages: Uint8Array;
  trainCount: number;
  /** Images per class in the test split: the proportions a conditional model is asked for (referenceLabels). */
  classCounts: number[];
  /** The ruler's accuracy on each class of the test split: what a conditional model's per-class accuracy compares with. */
  rulerAccuracyByClass: (number | null)[];
}

/**
 * The real-data side of the measurements: the test split the classifier was measured on (an image folder's
 * held-out split, rebuilt from the ruler's card; `dataDir` overrides where the folder is).
 */
export async function buildReference(classifier: Classifier, dataDir: string | undefined, n: number, seed: number): Promise<Reference> {
  const { test, train } = await referenceSplits(classifier, dataDir);
  if (classifier.scaleOf(test.shape, dataDir ?? classifier.card.dataset) !== 1) throw new EvaluationError(`${dataDir ?? classifier.card.dataset}: the ruler's own data must be at its size`);
  const dim = classifier.card.featureSize;
  const testOut = await classifier.run(test.images, test.count);
  const { images: subset, count: m } = seededSubset(train, n, seed);
  const trainOut = await classifier.run(subset, m);
  const testGaussian = fitGaussian(testOut.features, test.count, dim);
  const classCounts = countClasses(test.labels, classifier.classes);
  return {
    test: testGaussian, testImages: test.images, testCount: test.count, realVsReal: frechetDistance(fitGaussian(trainOut.features, m, dim), testGaussian), n: m,
    trainImages: train.images, trainCount: train.count, classCounts, rulerAccuracyByClass: classAccuracyByClass(testOut.probs, classifier.classes, test.labels),
  };
}

/** The first `n` images of a seeded shuffle of `data` (real-vs-real's training side): the same picks at any image size. */
export function seededSubset(data: { images: Uint8Array; count: number; shape: ImageShape }, n: number, seed: number): { images: Uint8Array; count: number } {
  const px = data.shape.width * data.shape.height * data.shape.channels;
  const m = Math.min(n, data.count);
  const pick = new SeededRandom(seed).permutation(data.count).subarray(0, m);
  const images = new Uint8Array(m * px);
  pick.forEach((idx, i) => images.set(data.images.subarray(idx * px, (idx + 1) * px), i * px));
  return { images, count: m };
}

async function referenceSplits(classifier: Classifier, dataDir: string | undefined) {
  const d = classifier.card.data;
  if (!d) {
    await sameData(classifier, dataDir ?? DEFAULT_DATA_DIR);
    return loadSplits(dataDir ?? DEFAULT_DATA_DIR, { fit: 'crop', background: [0, 0, 0] }, undefined);
  }
  const dir = dataDir ?? d.dir;
  if (!existsSync(dir)) throw new EvaluationError(`the ruler's data set is not in ${dir}: give --data DIR (for emoji: npm run data:emoji)`);
  await sameData(classifier, dir);
  const { size, channels, fit, background } = d.preprocess;
  return loadSplits(dir, { imageSize: size, channels, fit, background }, undefined);
}

export interface SampleMetrics {
  fcd: number;
  classifierScore: number;
  classHistogram: number[];
  /** Conditional models: how often the classifier sees the class that was asked for. */
  classAccuracy?: number;
  /** The same per class asked for (null: none asked), beside Reference.rulerAccuracyByClass. */
  classAccuracyByClass?: (number | null)[];
}

/** Metrics of `n` generated 8-bit images (labels: the classes asked of a conditional model), and their features. */
export async function measureSamples(classifier: Classifier, ref: Reference, images: Uint8Array, n: number, labels?: Uint8Array): Promise<{ metrics: SampleMetrics; features: Float32Array }> {
  const out = await classifier.run(images, n);
  const k = classifier.classes;
  const metrics: SampleMetrics = {
    fcd: frechetDistance(fitGaussian(out.features, n, classifier.card.featureSize), ref.test),
    classifierScore: classifierScore(out.probs, k),
    classHistogram: classHistogram(out.probs, k),
    ...(labels ? { classAccuracy: classAccuracy(out.probs, k, labels), classAccuracyByClass: classAccuracyByClass(out.probs, k, labels) } : {}),
  };
  return { metrics, features: out.features };
}

/**
 * The classes a conditional model is asked for: in the proportions of the real images FCD compares with (the test
 * split's `classCounts`; largest remainders), taken in turn. Asking for every class equally often would measure a
 * distribution the data does not have: the emoji folder is 60% People & Body, and the same cGAN measured FCD
 * 60.8 with balanced classes. On a balanced test split (Fashion-MNIST's) this is every class in turn, i % k.
 */
export function referenceLabels(n: number, classCounts: readonly number[]): Uint8Array {
  const counts = classQuotas(classCounts, 1, n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    for (let j = 0; j < counts.length; j++) {
      if (counts[j]! > 0) {
        counts[j]!--;
        labels[i++] = j;
      }
    }
  }
  return labels;
}

/**
 * The reference images must be the ruler's own data: a ruler that records its data's fingerprint (trainedOn) is
 * refused on any other folder (`npm run eval -- --data` pointing elsewhere would measure against the wrong images).
 */
async function sameData(classifier: Classifier, dir: string): Promise<void> {
  const trainedOn = classifier.card.trainedOn;
  if (!trainedOn || !existsSync(dir)) return;
  const fp = await dataFingerprint(dir);
  if (fp.sha256 !== trainedOn.sha256) {
    throw new EvaluationError(`${dir} (${fp.files} files) is not the data the ${classifier.card.dataset} ruler was trained on (${trainedOn.files} files, another fingerprint): give --data the ruler's own data, or train a ruler of this one`);
  }
}
