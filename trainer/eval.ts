/**
 * `npm run eval -- MODEL_DIR [--n 10000] [--seed 1]`: measures an exported model with the committed classifier
 * and writes the numbers into its manifest (the model card `GET /v1/models` serves). Same seed, same numbers.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './cli/main.js';
import { intFlag, parseFlags, UsageError } from './cli/options.js';
import { writeFileAtomic } from './run/atomic.js';
import { existsSync } from 'node:fs';
import { Classifier, EvaluationError } from './eval/classifier-runtime.js';
import { rulerDir } from './eval/classifier-card.js';
import { ModelRunner } from './eval/model-runner.js';
import { buildReference, referenceLabels, measureSamples } from './eval/measure.js';
import { meanByClass } from './eval/scores.js';
import { importanceWeightedBound, negativeElbo, type VaeFunctions } from './eval/likelihood.js';
import { fitGaussian, frechetDistance } from './eval/frechet.js';
import { memorisation } from './eval/memorisation.js';
import { encodePng } from '../shared/png.js';
import { tileImages } from '../shared/grid.js';
import { latentsForSeed } from '../shared/latent.js';
import { bytesToPixels, pixelsToBytes } from '../shared/pixels.js';
import { validateManifest, type Evaluation } from '../shared/manifest.js';

export interface EvalOptions {
  modelDir: string;
  n: number;
  seed: number;
  iwaeK: number;
  iwaeN: number;
  /** The data set's folder, when not where the ruler's card says (IDX: the Fashion-MNIST directory). */
  data?: string;
  /** Default: the ruler of the model's data set (rulerDir). */
  classifierDir?: string;
  write: boolean;
  /** Image-folder models: where to write a grid of 16 samples above their nearest training images. */
  nearestGrid?: string;
}

const BATCH = 500;

export async function evaluateModel(opts: EvalOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<Evaluation> {
  const model = await ModelRunner.load(opts.modelDir);
  const m = model.manifest;
  const classifierDir = opts.classifierDir ?? rulerDir(m.training.dataset);
  if (!existsSync(join(classifierDir, 'classifier.json'))) {
    await model.release();
    throw new EvaluationError(`${m.id} was trained on ${m.training.dataset}, which has no ruler in ${classifierDir}: FCD needs a classifier of that data set (npm run classifier -- --data DIR, on labelled data)`);
  }
  const classifier = await Classifier.load(classifierDir);
  const { width, height, channels } = m.image;
  // A model smaller than the ruler is measured as `scale=k` serves it: its samples scaled up k times (nearest).
  const scale = classifier.scaleOf({ width, height, channels }, m.id);
  if (scale > 1 && m.family === 'vae') {
    await Promise.all([model.release(), classifier.release()]);
    throw new EvaluationError(`${m.id} makes ${width}x${height} images and the ruler reads ${classifier.card.image.width}x${classifier.card.image.height}: a VAE is measured on the ruler's own test images, at their size`);
  }
  const px = width * height * channels;
  const rulerImage = classifier.card.image;
  const rpx = rulerImage.width * rulerImage.height * rulerImage.channels;
  const started = performance.now();
  log(`${m.id} (${m.family}, version ${m.version}): classifier test accuracy ${(100 * classifier.card.testAccuracy).toFixed(2)}%, N = ${opts.n}, seed ${opts.seed}`);

  const ref = await buildReference(classifier, opts.data, opts.n, opts.seed);
  log(`reference: FCD(${ref.n} real training images, test set) = ${ref.realVsReal.toFixed(3)}`);

  // Samples exactly as served: the seed's latents (shared/latent.ts), 8-bit pixels (shared/pixels.ts).
  const latents = latentsForSeed(opts.seed, opts.n, m.latent.size, m.latent.distribution);
  const labels = m.classes.count > 0 ? referenceLabels(opts.n, ref.classCounts) : undefined;
  const images = new Uint8Array(opts.n * px);
  for (let s = 0; s < opts.n; s += BATCH) {
    const k = Math.min(BATCH, opts.n - s);
    const out = await model.generate(latents.subarray(s * m.latent.size, (s + k) * m.latent.size), k, labels?.subarray(s, s + k));
    images.set(pixelsToBytes(out, m.image.pixelRange), s * px);
  }
  const measured = classifier.toRulerSize(images, opts.n, m.image);
  if (scale > 1) log(`samples measured at ${rulerImage.width}x${rulerImage.height}: scaled up ${scale}x (nearest neighbour, as scale=${scale} serves them)`);
  const { metrics: samples, features: sampleFeatures } = await measureSamples(classifier, ref, measured, opts.n, labels);
  const metrics: Record<string, number> = { fcd: samples.fcd, fcdRealReference: ref.realVsReal, classifierScore: samples.classifierScore };
  if (samples.classAccuracy !== undefined) metrics['classAccuracy'] = samples.classAccuracy;

  let memorisedByClass: (number | null)[] | undefined;
  // Image folders are small: check that the model does not copy them (memorisation.ts), against every image it
  // could have seen (the ruler's training and test splits together).
  if (classifier.card.data) {
    const all = new Uint8Array((ref.trainCount + ref.testCount) * rpx);
    all.set(ref.trainImages);
    all.set(ref.testImages, ref.trainImages.length);
    const seen = await classifier.run(all, ref.trainCount + ref.testCount);
    const mem = memorisation(sampleFeatures, opts.n, seen.features, ref.trainCount + ref.testCount, classifier.card.featureSize);
    Object.assign(metrics, { memorisedFraction: mem.closerThanClosestTrainPairs, closerThanMedianTrainPair: mem.closerThanMedianTrainPair, nearestDistanceRatio: mem.medianDistanceRatio });
    // Per class asked for: a small class seen many times an epoch (--class-balance) is where copying starts.
    if (labels) memorisedByClass = meanByClass(mem.copied, labels, m.classes.count);
    if (opts.nearestGrid) {
      const k = Math.min(16, opts.n);
      const pairs = new Uint8Array(2 * k * rpx);
      pairs.set(measured.subarray(0, k * rpx));
      for (let i = 0; i < k; i++) pairs.set(all.subarray(mem.nearest[i]! * rpx, (mem.nearest[i]! + 1) * rpx), (k + i) * rpx);
      await writeFileAtomic(opts.nearestGrid, encodePng(tileImages(pairs, 2 * k, rulerImage, k)));
      log(`wrote ${opts.nearestGrid}: ${k} samples (top) above their nearest training images (bottom)`);
    }
  }

  if (m.family === 'vae') {
    const test = bytesToPixels(ref.testImages, '0..1');
    const vae: VaeFunctions = {
      latentSize: m.latent.size,
      pixels: px,
      likelihood: m.training.config['likelihood'] === 'continuous-bernoulli' ? 'continuous-bernoulli' : 'bernoulli',
      encode: (x, n) => model.encode(x, n),
      decode: (z, n) => model.generate(z, n),
    };
    const elbo = await negativeElbo(vae, test, ref.testCount, opts.seed);
    const iwaeN = Math.min(opts.iwaeN, ref.testCount);
    const iw = await importanceWeightedBound(vae, test, iwaeN, opts.iwaeK, opts.seed);
    // Reconstructions of the test set (posterior means), measured like samples.
    const recon = new Uint8Array(ref.testCount * px);
    for (let s = 0; s < ref.testCount; s += BATCH) {
      const k = Math.min(BATCH, ref.testCount - s);
      const { mean } = await model.encode(test.subarray(s * px, (s + k) * px), k);
      recon.set(pixelsToBytes(await model.generate(mean, k), '0..1'), s * px);
    }
    const reconFeatures = await classifier.run(recon, ref.testCount);
    Object.assign(metrics, {
      testNegativeElbo: elbo.nelbo,
      testReconstruction: elbo.recon,
      testKl: elbo.kl,
      iwaeBound: -iw.iwae,
      iwaeElbo: -iw.elbo,
      iwaeSamples: opts.iwaeK,
      iwaeImages: iwaeN,
      reconstructionFcd: frechetDistance(fitGaussian(reconFeatures.features, ref.testCount, classifier.card.featureSize), ref.test),
    });
  }

  const evaluation: Evaluation = {
    evaluatedAt: new Date().toISOString(),
    classifier: { sha256: classifier.card.sha256, testAccuracy: classifier.card.testAccuracy, ruler: `${classifier.card.dataset}${classifier.card.selfSupervised ? ' (rotation, self-supervised)' : ''}${scale > 1 ? `, samples scaled up ${scale}x to its ${rulerImage.width}x${rulerImage.height} (as scale=${scale} serves them)` : ''}` },
    samples: opts.n,
    seed: opts.seed,
    metrics,
    classHistogram: samples.classHistogram,
    ...(samples.classAccuracyByClass ? { classAccuracyByClass: samples.classAccuracyByClass, rulerAccuracyByClass: ref.rulerAccuracyByClass } : {}),
    ...(memorisedByClass ? { memorisedByClass } : {}),
  };
  for (const [k, v] of Object.entries(metrics)) log(`  ${k.padEnd(20)} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
  log(`  classHistogram       ${samples.classHistogram.join(' ')}`);
  if (samples.classAccuracyByClass) {
    const pct = (a: number | null) => (a === null ? '-' : `${(100 * a).toFixed(1)}%`);
    log(`  by class: accuracy of samples asked for it; the ruler's on its real test images${memorisedByClass ? '; samples memorised' : ''}`);
    samples.classAccuracyByClass.forEach((a, c) =>
      log(`    ${(m.classes.labels[c] ?? String(c)).padEnd(22)} ${pct(a).padStart(6)}  ${pct(ref.rulerAccuracyByClass[c] ?? null).padStart(6)}  (${ref.classCounts[c]} test images)${memorisedByClass ? `  ${pct(memorisedByClass[c] ?? null)}` : ''}`),
    );
  }
  if (opts.write) {
    // Re-read and re-validate: the card is written into the manifest as it is now, atomically.
    const path = join(opts.modelDir, 'manifest.json');
    const { evaluationNote: _measuredNow, ...current } = validateManifest(JSON.parse(await readFile(path, 'utf8')));
    await writeFileAtomic(path, `${JSON.stringify(validateManifest({ ...current, evaluation }), null, 2)}\n`);
    log(`wrote the evaluation into ${path} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await model.release();
  await classifier.release();
  return evaluation;
}

export const EVAL_USAGE = 'usage: npm run eval -- MODEL_DIR [--n 10000] [--seed 1] [--iwae-k 500] [--iwae-n 1000] [--data DIR] [--classifier DIR] [--nearest-grid FILE.png] [--dry-run]';

export function parseEvalArgs(argv: string[]): EvalOptions {
  const parsed = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      n: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, 'iwae-k': { type: 'string', default: '500' }, 'iwae-n': { type: 'string', default: '1000' },
      data: { type: 'string' }, classifier: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, 'nearest-grid': { type: 'string' },
    },
  });
  if (parsed.positionals.length !== 1) throw new UsageError(EVAL_USAGE);
  const v = parsed.values;
  return {
    modelDir: parsed.positionals[0]!, n: intFlag('n', v.n, 2, 1_000_000), seed: intFlag('seed', v.seed, 0, 0xffffffff), iwaeK: intFlag('iwae-k', v['iwae-k'], 1, 100_000),
    iwaeN: intFlag('iwae-n', v['iwae-n'], 1, 1_000_000), ...(v.data !== undefined ? { data: v.data } : {}), ...(v.classifier !== undefined ? { classifierDir: v.classifier } : {}), write: !v['dry-run'],
    ...(v['nearest-grid'] !== undefined ? { nearestGrid: v['nearest-grid'] } : {}),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCli(async () => {
    await evaluateModel(parseEvalArgs(process.argv.slice(2)));
  }, EVAL_USAGE);
}
