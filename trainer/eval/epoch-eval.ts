/**
 * Numbers during training: after every epoch (and at the end) the run's generator makes `n` images from fixed
 * latents, and the classifier measures them against the test set (FCD, classifier score, class accuracy).
 * Appended to `runs/NAME/evals.jsonl` (EvalLog) only once the checkpoint of their step is saved; the report
 * (trainer/report.ts) plots them.
 */
import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Classifier } from './classifier-runtime.js';
import { findRuler } from './ruler.js';
import { isIdxDir } from '../data/load.js';
import { buildReference, measureSamples, referenceLabels, type Reference, type SampleMetrics } from './measure.js';
import type { TrainingModel } from '../families/family.js';
import type { ImageShape } from '../../shared/grid.js';
import { latentsForSeed, type LatentDistribution } from '../../shared/latent.js';
import { pixelsToBytes, type PixelRange } from '../../shared/pixels.js';

export const EVALS_FILE = 'evals.jsonl';

export interface EvalRecord extends SampleMetrics {
  step: number;
  epoch: number;
  n: number;
  fcdRealReference: number;
}

/**
 * The evals of a run, written after the checkpoint of their step: a kill between an epoch's measure and its
 * checkpoint then loses that line with the epoch (the resumed run measures the epoch again, once), instead of
 * leaving a line for an epoch the resumed run repeats, whose second FCD the plateau rule would read as no
 * improvement (issue 26).
 */
export class EvalLog {
  private readonly unsaved: EvalRecord[] = [];
  constructor(private readonly runDir: string) {}

  /** A record measured at the current step, kept until afterCheckpoint(). */
  add(record: EvalRecord): void {
    this.unsaved.push(record);
  }

  /** The checkpoint of every record added so far is saved: they go to evals.jsonl. */
  async afterCheckpoint(): Promise<void> {
    if (this.unsaved.length === 0) return;
    await appendFile(join(this.runDir, EVALS_FILE), this.unsaved.splice(0).map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}

export interface EpochEvaluator {
  measure(model: TrainingModel, at: { step: number; epoch: number }): Promise<EvalRecord>;
  release(): Promise<void>;
}

export interface EpochEvalOptions {
  n: number;
  seed: number;
  dataDir: string;
  /** The data set's name (e.g. 'emoji/train'), for messages; the ruler is found by the data's fingerprint (ruler.ts). */
  dataset: string;
  image: ImageShape;
  latent: { size: number; distribution: LatentDistribution };
  pixelRange: PixelRange;
  classCount: number;
  runDir: string;
  /** A ruler directory to use instead of the one trained on this data (it must still be trained on it). */
  classifierDir?: string;
}

/** An evaluator, or null (with the reason logged) when the classifier or the test split is not there or does not fit. */
export async function createEpochEvaluator(o: EpochEvalOptions, log: (line: string) => void): Promise<EpochEvaluator | null> {
  if (o.n < 2) return null;
  // The ruler trained on this very data (its fingerprint), or none: never one picked by the folder's name.
  const ruler = await findRuler(o.dataDir, o.image, o.classifierDir);
  if (!ruler.ok) return skip(ruler.reason, log);
  if (isIdxDir(o.dataDir) && !existsSync(join(o.dataDir, 't10k-images-idx3-ubyte.gz')) && !existsSync(join(o.dataDir, 't10k-images-idx3-ubyte'))) return skip(`no test split in ${o.dataDir}`, log);
  const classifier = await Classifier.load(ruler.dir);
  log(`ruler: ${ruler.dir} (trained on this data: ${ruler.card.classNames.length} classes, test accuracy ${(100 * ruler.card.testAccuracy).toFixed(1)}%)`);
  let ref: Reference | null = null;
  const latents = latentsForSeed(o.seed, o.n, o.latent.size, o.latent.distribution);
  const px = o.image.width * o.image.height * o.image.channels;
  return {
    async measure(model, at) {
      ref ??= await buildReference(classifier, o.dataDir, o.n, o.seed);
      const labels = o.classCount > 0 ? referenceLabels(o.n, ref.classCounts) : undefined;
      const images = new Uint8Array(o.n * px);
      for (let s = 0; s < o.n; s += 500) {
        const k = Math.min(500, o.n - s);
        const t = model.sample(latents.subarray(s * o.latent.size, (s + k) * o.latent.size), k, labels?.subarray(s, s + k));
        images.set(pixelsToBytes((await t.data()) as Float32Array, o.pixelRange), s * px);
        t.dispose();
      }
      return { ...at, n: o.n, ...(await measureSamples(classifier, ref, classifier.toRulerSize(images, o.n, o.image), o.n, labels)).metrics, fcdRealReference: ref.realVsReal };
    },
    release: () => classifier.release(),
  };
}

function skip(why: string, log: (line: string) => void): null {
  log(`per-epoch evaluation off: ${why}`);
  return null;
}

/**
 * The plateau rule of `--until-plateau F --plateau-patience N`: with per-epoch FCDs `fcds` (oldest first), has
 * the best FCD of the last N epochs improved by less than the fraction F on the best of the N epochs before them?
 * N = 1 compares the last epoch with the one before. The default, N = 5, is what the measured noise of per-epoch
 * FCD supports (the evals.jsonl of checkpoints/emoji-dcgan and emoji-cgan, 2,000 samples an epoch): in the second half of those runs FCD moved
 * by 26% (DCGAN) and 41% (cGAN) from one epoch to the next (standard deviation), with jumps of up to +46% and +130%
 * while it still fell; with F = 0.05, N = 1 to 4 would have stopped them at epochs 2-29, N = 5 stopped them at 40
 * and 39, after their best epoch (docs/training.md). Most of that noise was the EMA generator's copied batch-norm
 * statistics: with standing statistics (adversarial.ts) the cGAN's per-epoch FCD moved by 1.5%. Returns the
 * improvement when the plateau is reached, null to go on.
 *
 * `sinceStart`, the epochs measured since this process started or resumed the run: the rule waits for a whole
 * window of them. A run resumed to go on after the rule stopped it (often with a longer schedule, or the learning
 * rate back up) would otherwise stop again after one epoch, judged on the window that stopped it: emoji-dcgan's R1
 * run, resumed at epoch 98 with a window of 30, stopped at once (3.7% in epochs 69-98), then improved by 22% over
 * the next 52 epochs (docs/training.md, "R1 in this trainer").
 */
export function plateauReached(fcds: readonly number[], fraction: number, patience: number, sinceStart = Infinity): number | null {
  if (fcds.length < 2 * patience || sinceStart < patience) return null;
  const recent = Math.min(...fcds.slice(-patience));
  const before = Math.min(...fcds.slice(-2 * patience, -patience));
  const improvement = (before - recent) / before;
  return improvement < fraction ? improvement : null;
}
