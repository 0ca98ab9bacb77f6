/**
 * `npm run classifier -- [--data DIR] [--epochs 6] [--out runs/classifier] [--resume]`: trains the evaluation
 * classifier (trainer/eval/classifier-model.ts) of a labelled data set: Fashion-MNIST by default, or any labelled image
 * folder (its test split held out per class, trainer/data/splits.ts). The last `--validation` training images pick
 * the best epoch (the test set is only measured, once, at the end); the ONNX graph and a card with its test
 * accuracy go to `--export` (default: rulers/{dataset}, rulerDir). Checkpoints every
 * epoch; --resume continues from the last one.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { tf } from './backend/tf.js';
import { adam } from './nn/adam.js';
import { selectBackend, BACKEND_CHOICES, type BackendChoice } from './backend/select.js';
import { loadCheckpoint, saveCheckpoint, type NamedArray } from './run/checkpoint.js';
import { runCli } from './cli/main.js';
import { folderOptions, intFlag, parseFlags, unitInterval, UsageError } from './cli/options.js';
import { DEFAULT_DATA_DIR, type ImageDataset } from './data/idx.js';
import type { FolderOptions } from './data/folder.js';
import { loadSplits, SPLIT_SEED, TEST_FRACTION } from './data/splits.js';
import { writeFileAtomic } from './run/atomic.js';
import { Network } from './nn/network.js';
import { oneHot } from './families/one-hot.js';
import { ProgressBar, formatDuration } from './cli/progress.js';
import { buildFeatures, buildHead, classifierDefaults, type ClassifierConfig } from './eval/classifier-model.js';
import { classifierParity, classifierToOnnx } from './eval/classifier-graph.js';
import { rulerDir, type ClassifierCard } from './eval/classifier-card.js';
import { dataFingerprint } from './data/fingerprint.js';
import { rotationDataset } from './data/rotations.js';
import { balancedOrder, classBalanceLine } from './data/class-balance.js';
import { bytesToPixels } from '../shared/pixels.js';
import { SeededRandom } from '../shared/rng.js';

export interface ClassifierOptions {
  epochs: number;
  batchSize: number;
  /** Training images held out to pick the best epoch; default min(5000, 10% of the training split). */
  validation?: number;
  seed: number;
  out: string;
  /** Default: rulerDir(dataset). */
  export?: string;
  data: string;
  /** How an image folder becomes the data set (ignored for IDX data). */
  folder: FolderOptions;
  limit?: number;
  resume: boolean;
  /** Predict which of four turns each image was given instead of its label (Gidaris et al. 2018): any folder. */
  rotation?: boolean;
  /**
   * Class c drawn in proportion to count_c^P (data/class-balance.ts); 1, the default: as the data has them. A ruler
   * trained on the data's proportions barely learns its small classes (the emoji ruler: 1 of 13 real Activities),
   * so per-class numbers for them need one trained with P < 1. Kept on resume.
   */
  classBalance?: number;
  backend: BackendChoice;
  config: ClassifierConfig;
}

interface ClassifierMeta {
  config: ClassifierConfig;
  seed: number;
  batchSize: number;
  validation: number;
  limit: number | null;
  epoch: number;
  best: { epoch: number; valAccuracy: number };
  /** Absent in checkpoints written before the option: 1. */
  classBalance?: number;
  history: { epoch: number; loss: number; valAccuracy: number; seconds: number }[];
  optimizerWeights: string[];
}

/** The chosen images as a 0..1 NHWC tensor; `flip` mirrors the chosen images left-right. */
function batchTensor(data: ImageDataset, idx: ArrayLike<number>, flip?: (i: number) => boolean): tf.Tensor4D {
  const { width: w, height: h, channels: c } = data.shape;
  const px = w * h * c;
  const bytes = new Uint8Array(idx.length * px);
  for (let i = 0; i < idx.length; i++) {
    const src = data.images.subarray(idx[i]! * px, (idx[i]! + 1) * px);
    if (flip?.(i)) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) bytes[i * px + (y * w + x) * c + k] = src[(y * w + (w - 1 - x)) * c + k]!;
    } else bytes.set(src, i * px);
  }
  return tf.tensor4d(bytesToPixels(bytes, '0..1'), [idx.length, h, w, c]);
}

/** Accuracy of the networks (inference mode) on images [from, to) of `data`. */
export async function accuracy(features: Network, head: Network, data: ImageDataset, from: number, to: number): Promise<number> {
  let correct = 0;
  for (let s = from; s < to; s += 500) {
    const idx = Array.from({ length: Math.min(500, to - s) }, (_, i) => s + i);
    const pred = tf.tidy(() => tf.argMax(head.apply(features.apply(batchTensor(data, idx), { training: false }), { training: false }), 1));
    const p = await pred.data();
    pred.dispose();
    idx.forEach((j, i) => (correct += p[i] === data.labels[j] ? 1 : 0));
  }
  return correct / (to - from);
}

async function snapshotAll(prefix: string, nets: Record<string, Network>, into: Map<string, NamedArray>): Promise<void> {
  for (const [name, net] of Object.entries(nets)) for (const [p, v] of await net.snapshot()) into.set(`${prefix}${name}/${p}`, v);
}

function restoreAll(prefix: string, nets: Record<string, Network>, from: Map<string, NamedArray>): void {
  for (const [name, net] of Object.entries(nets)) net.restore(new Map(net.params.map((p) => [p.name, from.get(`${prefix}${name}/${p.name}`)!])));
}

export async function trainClassifier(opts: ClassifierOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<ClassifierCard> {
  // Config and data
  const previous = await loadCheckpoint<ClassifierMeta>(opts.out, log);
  if (previous && !opts.resume) throw new UsageError(`${opts.out} already holds a checkpoint: add --resume to continue it, or choose another --out`);
  if (!previous && opts.resume) throw new UsageError(`--resume: no checkpoint in ${opts.out}`);
  // No mirroring with --rotation: a mirrored quarter turn is the other quarter turn of the mirror image, so its label would lie.
  const c = previous?.meta.config ?? (opts.rotation ? { ...opts.config, flip: false } : opts.config);
  const seed = previous?.meta.seed ?? opts.seed;
  const batchSize = previous?.meta.batchSize ?? opts.batchSize;
  let validation = previous?.meta.validation ?? opts.validation;
  const classBalance = previous ? (previous.meta.classBalance ?? 1) : (opts.classBalance ?? 1);
  if (opts.classBalance !== undefined && opts.classBalance !== classBalance) throw new UsageError(`--class-balance ${opts.classBalance}: ${opts.out} was trained with ${classBalance}, and a ruler keeps its sampling (resume without the flag)`);
  const limit = previous ? (previous.meta.limit ?? undefined) : opts.limit;
  const backend = await selectBackend(opts.backend);
  log(`backend: ${backend.description}`);
  const splits = await loadSplits(opts.data, opts.folder, limit, log);
  const { preprocess } = splits;
  // --rotation: a self-supervised ruler for a folder nobody labelled, its classes the four turns (data/rotations.ts).
  const train = opts.rotation ? rotationDataset(splits.train) : splits.train;
  const test = opts.rotation ? rotationDataset(splits.test) : splits.test;
  if (train.classNames.length < 2) throw new UsageError(`--data ${opts.data}: a classifier needs labelled data with at least 2 classes (class subfolders or --labels), or --rotation (self-supervised)`);
  if (classBalance !== 1 && opts.rotation) throw new UsageError('--class-balance re-weights labelled classes: --rotation\'s four turns are already equally often');
  validation ??= Math.min(5000, Math.round(train.count / 10));
  const trainCount = train.count - validation;
  const perEpoch = Math.floor(trainCount / batchSize);
  if (validation < 1 || perEpoch < 1) throw new UsageError(`--validation ${validation} and --batch-size ${batchSize} leave no training batch in ${train.count} images`);
  log(`data: ${trainCount} training, ${validation} validation (held out from train), ${test.count} test images`);
  const trainLabels = train.labels.subarray(0, trainCount);
  if (classBalance !== 1) log(classBalanceLine(trainLabels, train.classNames, classBalance));

  // Model and resume
  const rng = new SeededRandom(seed);
  const features = new Network(buildFeatures(c, train.shape), rng);
  const head = new Network(buildHead(c, train.classNames.length), rng);
  const nets = { features, head };
  const vars = [...features.trainableVariables(), ...head.trainableVariables()];
  const lrAt = (epoch: number) => c.learningRate * 0.5 ** Math.floor(epoch / c.decayEvery);
  let opt = adam(lrAt(previous?.meta.epoch ?? 0));
  let meta: Omit<ClassifierMeta, 'optimizerWeights'> = previous?.meta ?? { config: c, seed, batchSize, validation, limit: limit ?? null, epoch: 0, best: { epoch: 0, valAccuracy: 0 }, classBalance, history: [] };
  const best = new Map<string, NamedArray>();
  if (previous) {
    restoreAll('', nets, previous.tensors);
    restoreAll('best/', nets, previous.tensors);
    await snapshotAll('', nets, best);
    restoreAll('', nets, previous.tensors);
    await opt.setWeights(previous.meta.optimizerWeights.map((name, i) => ({ name, tensor: tf.tensor(previous.tensors.get(`optimizer/${i}`)!.data, previous.tensors.get(`optimizer/${i}`)!.shape) })));
    log(`resumed ${opts.out} after epoch ${meta.epoch}`);
  }

  // Loop: one epoch at a time, the order and flips a function of (seed, epoch) so a resume replays exactly.
  const progress = new ProgressBar(opts.epochs * perEpoch, `classifier ${opts.out}`);
  for (let epoch = meta.epoch; epoch < opts.epochs; epoch++) {
    if (lrAt(epoch) !== lrAt(epoch - 1) && epoch > 0) {
      const next = adam(lrAt(epoch));
      await next.setWeights(await opt.getWeights());
      opt.dispose();
      opt = next;
    }
    const epochRng = new SeededRandom((Math.imul(epoch + 1, 0x9e3779b1) ^ seed) >>> 0);
    const order =
      classBalance === 1 ? epochRng.permutation(trainCount) : balancedOrder(trainLabels, train.classNames.length, classBalance, trainCount, epochRng.nextUint32());
    const started = performance.now();
    let lossSum = 0;
    for (let b = 0; b < perEpoch; b++) {
      const idx = order.subarray(b * batchSize, (b + 1) * batchSize);
      const x = batchTensor(train, idx, c.flip ? () => epochRng.nextFloat() < 0.5 : undefined);
      const y = tf.tensor2d(oneHot(Uint8Array.from(idx, (j) => train.labels[j]!), train.classNames.length), [idx.length, train.classNames.length]);
      // Softmax cross-entropy, -sum y log softmax(logits), from logits via log-sum-exp.
      const cost = opt.minimize(() => {
        const logits = head.apply(features.apply(x, { training: true, updateStats: true }), { training: true });
        return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(y, logits), 1))) as tf.Scalar;
      }, true, vars)!;
      // An asynchronous read: the webgpu backend cannot read synchronously in Node (backend/webgpu.ts).
      const loss = (await cost.data())[0]!;
      tf.dispose([cost, x, y]);
      if (!Number.isFinite(loss)) throw new UsageError(`classifier loss became ${loss} at epoch ${epoch + 1}, batch ${b + 1}`);
      lossSum += loss;
      const done = epoch * perEpoch + b + 1;
      progress.update(done, { loss }, ((b + 1) * 1000) / (performance.now() - started));
    }
    const valAccuracy = await accuracy(features, head, train, trainCount, train.count);
    const seconds = (performance.now() - started) / 1000;
    meta = { ...meta, epoch: epoch + 1, history: [...meta.history, { epoch: epoch + 1, loss: lossSum / perEpoch, valAccuracy, seconds }] };
    if (valAccuracy > meta.best.valAccuracy) {
      meta.best = { epoch: epoch + 1, valAccuracy };
      best.clear();
      await snapshotAll('', nets, best);
    }
    progress.update((epoch + 1) * perEpoch, { loss: lossSum / perEpoch, val: valAccuracy }, (perEpoch * 1000) / (performance.now() - started), true);
    log(`\nepoch ${epoch + 1}: loss ${(lossSum / perEpoch).toFixed(4)}, validation accuracy ${(100 * valAccuracy).toFixed(2)}% (${formatDuration(seconds)})`);

    // Checkpoint: current networks, best networks, optimiser.
    const tensors = new Map<string, NamedArray>();
    await snapshotAll('', nets, tensors);
    for (const [k, v] of best) tensors.set(`best/${k}`, v);
    const weights = await opt.getWeights();
    for (const [i, w] of weights.entries()) tensors.set(`optimizer/${i}`, { shape: w.tensor.shape, data: Float32Array.from(await w.tensor.data()) });
    await saveCheckpoint(opts.out, { meta: { ...meta, optimizerWeights: weights.map((w) => w.name) }, tensors });
  }
  progress.finish();

  // The best epoch's networks, measured once on the test set, exported.
  restoreAll('', nets, best);
  const testAccuracy = await accuracy(features, head, test, 0, test.count);
  log(`best epoch ${meta.best.epoch}: validation ${(100 * meta.best.valAccuracy).toFixed(2)}%, test accuracy ${(100 * testAccuracy).toFixed(2)}%`);
  const graph = await classifierToOnnx(features, head, train.shape);
  const probe = batchTensor(test, Array.from({ length: 64 }, (_, i) => i));
  const parity = await classifierParity(graph, features, head, probe, 1e-3);
  probe.dispose();
  log(`classifier.onnx: ${(graph.length / 1024).toFixed(0)} KiB, parity with tfjs on 64 test images: max |diff| = ${parity.toExponential(2)}`);
  const card: ClassifierCard = {
    file: 'classifier.onnx',
    sha256: createHash('sha256').update(graph).digest('hex'),
    dataset: train.name.split('/')[0]!,
    ...(preprocess ? { data: { dir: opts.data, preprocess, testFraction: TEST_FRACTION, splitSeed: SPLIT_SEED } } : {}),
    // What it was trained on: how a run finds this ruler (eval/ruler.ts), whatever its folder is called.
    trainedOn: await dataFingerprint(opts.data).then(({ sha256, files }) => ({ sha256, files })),
    ...(opts.rotation ? { selfSupervised: 'rotation' as const } : {}),
    classNames: train.classNames,
    image: { ...train.shape, pixelRange: '0..1' },
    featureSize: c.featureSize,
    testAccuracy,
    testCount: test.count,
    validation: { count: validation, accuracy: meta.best.valAccuracy, bestEpoch: meta.best.epoch },
    history: meta.history,
    training: { config: c, seed, batchSize, epochs: opts.epochs, ...(classBalance !== 1 ? { classBalance } : {}), backend: backend.description, trainedAt: new Date().toISOString() },
  };
  const exportDir = opts.export ?? rulerDir(card.dataset);
  await writeFileAtomic(join(exportDir, card.file), graph);
  await writeFileAtomic(join(exportDir, 'classifier.json'), `${JSON.stringify(card, null, 2)}\n`);
  log(`wrote ${exportDir}/classifier.onnx and classifier.json`);
  features.dispose();
  head.dispose();
  opt.dispose();
  return card;
}

export const CLASSIFIER_USAGE = [
  'usage: npm run classifier -- [--data DIR (Fashion-MNIST)] [--epochs 6] [--batch-size 128] [--validation N] [--seed 1]',
  '       [--out runs/classifier] [--export DIR (default: rulers/DATASET)] [--limit N] [--resume] [--backend auto|cuda|tensorflow|webgpu|wasm|cpu]',
  '       [--image-size N] [--channels 1|3] [--fit crop|pad|stretch] [--background white|black|#rrggbb] [--labels FILE.csv]',
  '       [--rotation (no labels needed: the classes are 4 turns of each image, Gidaris et al. 2018)]',
  '       [--class-balance P (draw class c in proportion to its count^P; 1: as the data has them, the default; 0: equally often)]',
].join('\n');

export function parseClassifierArgs(argv: string[]): ClassifierOptions {
  const v = parseFlags({
    args: argv,
    options: {
      epochs: { type: 'string', default: '6' }, 'batch-size': { type: 'string', default: '128' }, validation: { type: 'string' },
      seed: { type: 'string', default: '1' }, out: { type: 'string', default: 'runs/classifier' }, export: { type: 'string' },
      data: { type: 'string', default: DEFAULT_DATA_DIR }, limit: { type: 'string' }, resume: { type: 'boolean', default: false }, backend: { type: 'string', default: 'auto' },
      'image-size': { type: 'string' }, channels: { type: 'string' }, fit: { type: 'string', default: 'crop' }, background: { type: 'string', default: 'white' },
      labels: { type: 'string' }, rotation: { type: 'boolean', default: false }, 'class-balance': { type: 'string' },
    },
  }).values;
  if (!(BACKEND_CHOICES as readonly string[]).includes(v.backend!)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${v.backend}"`);
  return {
    epochs: intFlag('epochs', v.epochs, 1), batchSize: intFlag('batch-size', v['batch-size'], 1), ...(v.validation !== undefined ? { validation: intFlag('validation', v.validation, 1) } : {}), seed: intFlag('seed', v.seed, 0),
    out: v.out!, ...(v.export !== undefined ? { export: v.export } : {}), data: v.data!, folder: folderOptions(v), ...(v.limit !== undefined ? { limit: intFlag('limit', v.limit, 1) } : {}), resume: v.resume!,
    backend: v.backend as BackendChoice, config: classifierDefaults, ...(v.rotation ? { rotation: true } : {}),
    ...(v['class-balance'] !== undefined ? { classBalance: unitInterval('class-balance', v['class-balance']) } : {}),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCli(async () => {
    await trainClassifier(parseClassifierArgs(process.argv.slice(2)));
  }, CLASSIFIER_USAGE);
}
