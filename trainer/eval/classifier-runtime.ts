/**
 * A committed evaluation classifier (a ruler: rulers/{dataset}), run by onnxruntime-node on 8-bit images: exactly the
 * pixels a client gets in a PNG, scaled to 0..1 as the classifier was trained.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OrtTensor, openSession, type OrtSession } from '../export/ort-node.js';
import { CLASSIFIER_TENSORS } from './classifier-graph.js';
import { CLASSIFIER_DIR, rulerScale, type ClassifierCard } from './classifier-card.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { nhwcToNchw, upscaleNearest } from '../../shared/grid.js';
import type { ImageShape } from '../../shared/grid.js';

export class EvaluationError extends Error {
  override name = 'EvaluationError';
}

export interface ClassifierOutput {
  /** [n, featureSize], row-major. */
  features: Float32Array;
  /** Softmax probabilities [n, classes]. */
  probs: Float32Array;
}

const BATCH = 500;

export class Classifier {
  private constructor(
    readonly card: ClassifierCard,
    private readonly session: OrtSession,
  ) {}

  static async load(dir = CLASSIFIER_DIR): Promise<Classifier> {
    let card: ClassifierCard;
    let graph: Uint8Array;
    try {
      card = JSON.parse(await readFile(join(dir, 'classifier.json'), 'utf8')) as ClassifierCard;
      graph = new Uint8Array(await readFile(join(dir, card.file)));
    } catch (err) {
      throw new EvaluationError(`no evaluation classifier in ${dir} (${(err as Error).message.split('\n')[0]}); train one with: npm run classifier`);
    }
    const sha = createHash('sha256').update(graph).digest('hex');
    if (sha !== card.sha256) throw new EvaluationError(`${dir}/${card.file}: sha256 ${sha} does not match classifier.json (${card.sha256})`);
    return new Classifier(card, await openSession(graph));
  }

  get classes(): number {
    return this.card.classNames.length;
  }

  /** The whole factor from images of `shape` to what this ruler reads (rulerScale); anything else is an error. */
  scaleOf(shape: ImageShape, what: string): number {
    const c = this.card.image;
    const k = rulerScale(c, shape);
    if (k !== null) return k;
    throw new EvaluationError(`${what} makes ${shape.width}x${shape.height}x${shape.channels} images; the classifier reads ${c.width}x${c.height}x${c.channels} (a model is measured at that size, or scaled up to it by a whole factor)`);
  }

  /** `n` images of `shape` as the ruler reads them: scaled up by scaleOf's factor with shared/grid.ts's upscaleNearest. */
  toRulerSize(bytes: Uint8Array, n: number, shape: ImageShape): Uint8Array {
    const k = this.scaleOf(shape, 'the model');
    if (k === 1) return bytes;
    const px = shape.width * shape.height * shape.channels;
    const out = new Uint8Array(n * px * k * k);
    for (let i = 0; i < n; i++) out.set(upscaleNearest({ ...shape, data: bytes.subarray(i * px, (i + 1) * px) }, k).data, i * px * k * k);
    return out;
  }

  /** Features and class probabilities of `n` 8-bit images (row-major, channels interleaved: n*h*w*c bytes). */
  async run(bytes: Uint8Array, n: number): Promise<ClassifierOutput> {
    const { width: w, height: h, channels: c } = this.card.image;
    const px = w * h * c;
    const features = new Float32Array(n * this.card.featureSize);
    const probs = new Float32Array(n * this.classes);
    for (let s = 0; s < n; s += BATCH) {
      const m = Math.min(BATCH, n - s);
      const input = new OrtTensor('float32', nhwcToNchw(bytesToPixels(bytes.subarray(s * px, (s + m) * px), '0..1'), m, this.card.image), [m, c, h, w]);
      const out = await this.session.run({ [CLASSIFIER_TENSORS.image]: input });
      features.set(out[CLASSIFIER_TENSORS.features]!.data as Float32Array, s * this.card.featureSize);
      probs.set(softmaxRows(out[CLASSIFIER_TENSORS.logits]!.data as Float32Array, this.classes), s * this.classes);
    }
    return { features, probs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r * k + j]!);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += out[r * k + j] = Math.exp(logits[r * k + j]! - max);
    for (let j = 0; j < k; j++) out[r * k + j]! /= sum;
  }
  return out;
}
