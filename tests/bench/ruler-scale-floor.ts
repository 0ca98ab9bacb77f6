/**
 * What a perfect smaller model would score on a ruler (docs/training.md, "32 or 64 pixels"): the ruler's real
 * training images, decoded by the trainer at a whole fraction of the ruler's size (what a model of that size learns
 * from), scaled back up as `scale=k` serves them, against the ruler's test split.
 * `node --import tsx tests/bench/ruler-scale-floor.ts [RULER=rulers/emoji] [N=2000]` (emoji: npm run data:emoji first).
 */
import { Classifier } from '../../trainer/eval/classifier-runtime.js';
import { buildReference, measureSamples, seededSubset } from '../../trainer/eval/measure.js';
import { loadSplits } from '../../trainer/data/splits.js';

const rulerDir = process.argv[2] ?? 'rulers/emoji';
const n = Number(process.argv[3] ?? 2000);
const classifier = await Classifier.load(rulerDir);
const d = classifier.card.data;
if (!d) throw new Error(`${rulerDir} is not a ruler of an image folder`);
const ref = await buildReference(classifier, undefined, n, 1);
console.log(`${rulerDir}: ${d.preprocess.size}x${d.preprocess.size}, N = ${ref.n}; real training images vs the test split: FCD ${ref.realVsReal.toFixed(2)}`);
for (const k of [2, 4]) {
  const size = d.preprocess.size / k;
  if (!Number.isInteger(size)) continue;
  const { train } = await loadSplits(d.dir, { imageSize: size, channels: d.preprocess.channels, fit: d.preprocess.fit, background: d.preprocess.background }, undefined);
  // The same seeded subset as the reference's real-vs-real.
  const { images: small, count: m } = seededSubset(train, n, 1);
  const { metrics } = await measureSamples(classifier, ref, classifier.toRulerSize(small, m, train.shape), m);
  console.log(`the same images at ${size}x${size}, scaled up ${k}x (nearest, as scale=${k} serves them): FCD ${metrics.fcd.toFixed(2)}`);
}
await classifier.release();
