/**
 * The evaluation with the committed classifier on real Fashion-MNIST (CI installs dataset-fashion-mnist): the
 * classifier's accuracy on a test slice, eval determinism and sanity on committed models, the VAE bounds, and
 * per-epoch numbers plus the HTML report of a tiny training run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../trainer/eval/classifier-runtime.js';
import { evaluateModel, type EvalOptions } from '../../trainer/eval.js';
import { classifierScore, predictions } from '../../trainer/eval/scores.js';
import { EVALS_FILE, type EvalRecord } from '../../trainer/eval/epoch-eval.js';
import { DEFAULT_DATA_DIR, loadImageDataset } from '../../trainer/data/idx.js';
import { train } from '../../trainer/train.js';
import { exportRun } from '../../trainer/export.js';
import { loadBestCheckpoint } from '../../trainer/run/checkpoint.js';
import type { RunMeta } from '../../trainer/run/run-state.js';
import { tempDir } from '../helpers/tmp.js';

const quiet = () => {};
const options = (modelDir: string, extra: Partial<EvalOptions> = {}): EvalOptions => ({
  modelDir, n: 500, seed: 1, iwaeK: 100, iwaeN: 10, data: DEFAULT_DATA_DIR, classifierDir: 'rulers/fashion-mnist', write: false, ...extra,
});

beforeAll(() => {
  if (!existsSync(DEFAULT_DATA_DIR)) throw new Error(`these tests need Fashion-MNIST: apt-get install dataset-fashion-mnist (${DEFAULT_DATA_DIR})`);
});

describe('the evaluation classifier', () => {
  it('is committed with its card, reached >= 91% test accuracy, and classifies a test slice accordingly', async () => {
    const classifier = await Classifier.load();
    expect(classifier.card.testAccuracy).toBeGreaterThanOrEqual(0.91);
    expect(classifier.card.testCount).toBe(10_000);
    const test = loadImageDataset(DEFAULT_DATA_DIR, 't10k');
    const n = 1000;
    const { probs, features } = await classifier.run(test.images.subarray(0, n * 784), n);
    expect(features.length).toBe(n * classifier.card.featureSize);
    const pred = predictions(probs, classifier.classes);
    const accuracy = pred.reduce((s, p, i) => s + (p === test.labels[i] ? 1 : 0), 0) / n;
    expect(accuracy).toBeGreaterThan(classifier.card.testAccuracy - 0.03);
    await classifier.release();
  });
});

describe('npm run eval', () => {
  it('is deterministic for a seed, and a GAN sits above the real-vs-real floor', async () => {
    const a = await evaluateModel(options('models/gan-fashion'), quiet);
    const b = await evaluateModel(options('models/gan-fashion'), quiet);
    expect(b.metrics).toEqual(a.metrics);
    expect(b.classHistogram).toEqual(a.classHistogram);
    expect(a.classHistogram.reduce((s, c) => s + c, 0)).toBe(500);
    // The card names its ruler: the data set the classifier learned, beside its sha256.
    expect(a.classifier.ruler).toBe('fashion-mnist');
    expect(a.metrics['fcd']!).toBeGreaterThan(a.metrics['fcdRealReference']!);
    // The classifier score of the samples is near the model card's (5.58 at N = 10,000) and below that of real
    // test images measured the same way (the ceiling a perfect generator reaches).
    expect(Math.abs(a.metrics['classifierScore']! - 5.58)).toBeLessThan(0.6);
    const classifier = await Classifier.load();
    const test = loadImageDataset(DEFAULT_DATA_DIR, 't10k');
    const real = classifierScore((await classifier.run(test.images.subarray(0, 500 * 784), 500)).probs, classifier.classes);
    await classifier.release();
    expect(a.metrics['classifierScore']!).toBeLessThan(real);
    const other = await evaluateModel(options('models/gan-fashion', { seed: 2 }), quiet);
    expect(other.metrics['fcd']).not.toBe(a.metrics['fcd']);
  }, 120_000);

  it('measures a cGAN by class accuracy and a VAE by likelihood bounds that match its model card', async () => {
    const c = await evaluateModel(options('models/cgan-fashion', { n: 200 }), quiet);
    expect(c.metrics['classAccuracy']!).toBeGreaterThan(0.5);
    // Per class: Fashion-MNIST's test split is balanced, so the samples ask for every class equally often (20 each)
    // and the overall accuracy is the mean of the ten; the ruler's per-class accuracies on real images average to
    // its card's test accuracy (the same 10,000 images).
    const byClass = c.classAccuracyByClass!.map((a) => a!);
    expect(byClass).toHaveLength(10);
    expect(byClass.reduce((s, a) => s + a, 0) / 10).toBeCloseTo(c.metrics['classAccuracy']!, 12);
    const ruler = c.rulerAccuracyByClass!.map((a) => a!);
    expect(ruler.reduce((s, a) => s + a, 0) / 10).toBeCloseTo(c.classifier.testAccuracy, 2);
    const v = await evaluateModel(options('models/vae-fashion', { n: 200 }), quiet);
    const m = v.metrics;
    // Negative log-likelihoods in nats per image, against the card (N = 10,000 test images: ELBO 243.0, of which
    // KL 16.8; reconstruction FCD 69.7): the full test set is used here too, so only Monte Carlo noise differs.
    expect(Math.abs(m['testNegativeElbo']! - 243.0)).toBeLessThan(1);
    expect(Math.abs(m['testKl']! - 16.76)).toBeLessThan(0.2);
    expect(Math.abs(m['reconstructionFcd']! - 69.65)).toBeLessThan(0.5);
    // More importance samples tighten the bound on the same images: k = 100 beats k = 1 (which is the ELBO).
    const k1 = await evaluateModel(options('models/vae-fashion', { n: 200, iwaeK: 1 }), quiet);
    expect(k1.metrics['iwaeBound']! - m['iwaeBound']!).toBeGreaterThan(1);
  }, 240_000);

  it('fails with one clear line for a directory without a model', async () => {
    await expect(evaluateModel(options(tempDir('nomodel')), quiet)).rejects.toThrow(/has no manifest.json/);
  });
});

describe('numbers during training', () => {
  it('records per-epoch FCD and writes an HTML report with the curves', async () => {
    const out = join(tempDir('evalrun'), 'run');
    await train({ model: 'dcgan', data: DEFAULT_DATA_DIR, out, resume: false, batchSize: 32, seed: 4, backend: 'wasm', limit: 128, checkpointEvery: 100, evalN: 100, epochs: 2,
      overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8 } }, quiet);
    const evals = readFileSync(join(out, EVALS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRecord);
    expect(evals.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of evals) {
      expect(e.n).toBe(100);
      expect(e.fcd).toBeGreaterThan(e.fcdRealReference);
      expect(e.classHistogram.reduce((s, c) => s + c, 0)).toBe(100);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('FCD to the test set');
    expect(html).toContain('samples/epoch-001.png');
    expect(readFileSync(join(out, 'metrics.svg'), 'utf8')).toContain('<polyline');
  }, 240_000);

  it("keeps the lowest-FCD epoch's checkpoint, which export --best takes instead of the last", async () => {
    const out = join(tempDir('bestrun'), 'run');
    // A learning rate far too high: FCD wanders, so the best epoch is not the last.
    await train({ model: 'dcgan', data: DEFAULT_DATA_DIR, out, resume: false, batchSize: 32, seed: 5, backend: 'wasm', limit: 128, checkpointEvery: 100, evalN: 100, epochs: 5,
      overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8, learningRate: 0.05 } }, quiet);
    const evals = readFileSync(join(out, EVALS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRecord);
    const best = evals.reduce((a, b) => (b.fcd < a.fcd ? b : a));
    expect(best.step).toBeLessThan(evals.at(-1)!.step); // measured: the best at step 12 of 20 (FCD 701 against 917)
    expect((await loadBestCheckpoint<RunMeta>(out))!.meta.step).toBe(best.step);
    const exported = await exportRun({ run: out, out: join(tempDir('best-model'), 'm'), best: true }, () => {});
    expect(exported.manifest.training.steps).toBe(best.step);
    const last = await exportRun({ run: out, out: join(tempDir('last-model'), 'm') }, () => {});
    expect(last.manifest.training.steps).toBe(evals.at(-1)!.step);

    const unmeasured = join(tempDir('nobest'), 'run');
    await train({ model: 'dcgan', data: DEFAULT_DATA_DIR, out: unmeasured, resume: false, batchSize: 32, seed: 5, backend: 'wasm', limit: 64, checkpointEvery: 100, evalN: 0, steps: 2,
      overrides: { generatorChannels: [16, 8], discriminatorChannels: [8, 16], latentSize: 8 } }, quiet);
    await expect(exportRun({ run: unmeasured, best: true }, () => {})).rejects.toThrow(`${unmeasured} kept no best epoch`);
  }, 240_000);
});
