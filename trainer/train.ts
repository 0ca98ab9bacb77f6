/**
 * `npm run train`: config, data, model, resume, loop, samples, checkpoint, in that order.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tf } from './backend/tf.js';
import { selectBackend } from './backend/select.js';
import { parseTrainArgs, usage, UsageError, type Augment, type TrainOptions } from './cli/options.js';
import type { ImageDataset } from './data/idx.js';
import { loadDataset } from './data/load.js';
import { balancedOrder, classBalanceLine, classSampler } from './data/class-balance.js';
import { FAMILIES } from './families/index.js';
import type { Batch, Family } from './families/family.js';
import { keepAsBest, loadCheckpoint, saveCheckpoint } from './run/checkpoint.js';
import { captureRun, restoreRun, type RunMeta } from './run/run-state.js';
import { ProgressBar, formatDuration } from './cli/progress.js';
import { writeGrid, writeReconstructionGrid, type GridSpec } from './run/samples.js';
import { writeFileAtomic } from './run/atomic.js';
import { learningRateFactor, learningRateScaler } from './run/lr-schedule.js';
import { runCli } from './cli/main.js';
import { preflightTrain } from './cli/preflight.js';
import { createEpochEvaluator, EvalLog, EVALS_FILE, plateauReached, type EvalRecord } from './eval/epoch-eval.js';
import { readJsonLines, writeReport } from './report.js';
import { SeededRandom } from '../shared/rng.js';
import { bytesToPixels } from '../shared/pixels.js';

const DEFAULT_EPOCHS = 5;
const SAMPLE_GRID = { n: 64, cols: 8 };

export class TrainingDiverged extends Error {
  override name = 'TrainingDiverged';
}

/** The permutation of epoch `e`: a function of (seed, epoch) alone, so resuming mid-epoch needs no saved order. */
function epochOrder(seed: number, epoch: number, n: number): Uint32Array {
  return new SeededRandom((Math.imul(epoch + 1, 0x9e3779b1) ^ seed) >>> 0).permutation(n);
}

/** Whether image `i` of batch `b` is mirrored: a function of (seed, batch, i) alone, so a resumed run flips the same. */
function flipped(seed: number, batch: number, i: number): boolean {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(batch + 1, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return ((h ^ (h >>> 12)) & 1) === 1;
}

/** Mirrors one image [h, w, c] left-right in place. */
function mirror(img: Float32Array, { height, width, channels }: ImageDataset['shape']): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width >> 1; x++) {
      for (let ch = 0; ch < channels; ch++) {
        const a = (y * width + x) * channels + ch;
        const b = (y * width + (width - 1 - x)) * channels + ch;
        const t = img[a]!;
        img[a] = img[b]!;
        img[b] = t;
      }
    }
  }
}

/**
 * Hands out batch number `cursor`, `cursor + 1`, ... of the shuffled data set, in the family's pixel range, with
 * half the images mirrored when `augment` is 'flip' (DCGAN practice for small data sets; pytorch/examples too).
 * With `classBalance` below 1 an epoch visits the classes re-weighted (data/class-balance.ts) instead.
 */
function batchSource(data: ImageDataset, family: Family<object>, seed: number, batchSize: number, state: { batchesSeen: number }, augment: Augment, classBalance: number) {
  const perEpoch = Math.floor(data.count / batchSize);
  const pixels = data.shape.width * data.shape.height * data.shape.channels;
  const orderOf = (epoch: number) =>
    classBalance === 1 ? epochOrder(seed, epoch, data.count) : balancedOrder(data.labels, data.classNames.length, classBalance, perEpoch * batchSize, (Math.imul(epoch + 1, 0x9e3779b1) ^ seed ^ 0xba1a) >>> 0);
  let order: { epoch: number; perm: Uint32Array } | null = null;
  return (): Batch => {
    const epoch = Math.floor(state.batchesSeen / perEpoch);
    if (order?.epoch !== epoch) order = { epoch, perm: orderOf(epoch) };
    const start = (state.batchesSeen % perEpoch) * batchSize;
    const values = new Float32Array(batchSize * pixels);
    const labels = new Uint8Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const idx = order.perm[start + i]!;
      const img = values.subarray(i * pixels, (i + 1) * pixels);
      bytesToPixels(data.images.subarray(idx * pixels, (idx + 1) * pixels), family.pixelRange, img);
      if (augment === 'flip' && flipped(seed, state.batchesSeen, i)) mirror(img, data.shape);
      labels[i] = data.labels[idx]!;
    }
    state.batchesSeen++;
    const { height, width, channels } = data.shape;
    return { images: tf.tensor4d(values, [batchSize, height, width, channels]), labels };
  };
}

/** Runs (or resumes) a training run; returns the final run state as saved in its last checkpoint. */
export async function train(opts: TrainOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<Omit<RunMeta, 'optimizerWeights'>> {
  // Config
  const runDir = opts.out;
  const previous = await loadCheckpoint<RunMeta>(runDir, log);
  if (previous && !opts.resume) throw new UsageError(`${runDir} already holds a checkpoint: add --resume to continue it, or choose another --out`);
  if (!previous && opts.resume) throw new UsageError(`--resume: no checkpoint in ${runDir}`);
  if (previous && Object.keys(opts.overrides).length > 0) throw new UsageError('--resume continues the saved config; model options cannot change on resume');
  const familyName = previous?.meta.family ?? opts.model;
  const family = FAMILIES[familyName]!;
  const config = (previous?.meta.config ?? { ...family.defaults, ...opts.overrides }) as Record<string, unknown>;
  const seed = previous?.meta.seed ?? opts.seed;
  const batchSize = previous?.meta.batchSize ?? opts.batchSize;
  // Data and model checked against each other before the backend loads or a pixel is decoded (cli/preflight.ts).
  if (!previous) await preflightTrain(familyName, config, opts.data, opts.folder ?? { fit: 'crop', background: [255, 255, 255] }, { ...(opts.untilPlateau !== undefined ? { untilPlateau: opts.untilPlateau } : {}), evalN: opts.evalN });
  const backend = await selectBackend(opts.backend, opts.threads, opts.gpuAdapter, opts.convKernels);
  log(`backend: ${backend.description}`);

  // Data
  const dataDir = previous?.meta.dataDir ?? opts.data;
  const limit = previous ? (previous.meta.limit ?? undefined) : opts.limit;
  // A resumed run reads its data exactly as it started: the saved preprocessing and augmentation.
  const requested = opts.folder ?? { fit: 'crop', background: [255, 255, 255] };
  const folder = previous?.meta.preprocess ? { imageSize: previous.meta.preprocess.size, channels: previous.meta.preprocess.channels, fit: previous.meta.preprocess.fit, background: previous.meta.preprocess.background } : requested;
  const augment = previous?.meta.augment ?? opts.augment ?? 'none';
  const ema = previous ? (previous.meta.ema ?? 0) : (opts.ema ?? 0);
  const diffAugment = previous ? (previous.meta.diffAugment ?? []) : (opts.diffAugment ?? []);
  if ((ema > 0 || diffAugment.length > 0) && familyName === 'vae') throw new UsageError('--ema and --diff-augment apply to the GAN families (gan, dcgan, cgan)');
  const data = await loadDataset(dataDir, folder, limit, log);
  const perEpoch = Math.floor(data.count / batchSize);
  if (perEpoch < 1) throw new UsageError(`--batch-size ${batchSize} is larger than the data set (${data.count} images)`);
  const dSteps = typeof config['dSteps'] === 'number' ? config['dSteps'] : 1;
  const totalSteps = opts.steps ?? (opts.epochs !== undefined || !previous ? Math.max(1, Math.floor(((opts.epochs ?? DEFAULT_EPOCHS) * perEpoch) / dSteps)) : previous.meta.totalSteps);
  // A schedule, not a model option: it may be given or changed on resume, and is saved for the next.
  const lrDecayEpochs = opts.lrDecayEpochs ?? previous?.meta.lrDecayEpochs ?? 0;
  const decaySteps = Math.floor((lrDecayEpochs * perEpoch) / dSteps);
  // Also a schedule: which images an epoch visits, not what the model is.
  const classBalance = opts.classBalance ?? previous?.meta.classBalance ?? 1;
  if (classBalance !== 1 && data.classNames.length < 2) throw new UsageError(`--class-balance needs labelled data: ${data.name} has ${data.classNames.length === 1 ? 'one class' : 'no labels'}`);
  if (classBalance !== 1) log(classBalanceLine(data.labels, data.classNames, classBalance));
  log(`data: ${data.name}, ${data.count} images ${data.shape.width}x${data.shape.height}x${data.shape.channels}, ${perEpoch} batches of ${batchSize} per epoch`);

  // Model
  const rng = new SeededRandom(seed);
  const model = family.create(config, { image: data.shape, classCount: data.classNames.length, ema, diffAugment }, rng); // as familyContext(meta) rebuilds it
  const latent = family.latent(config);
  const grid: GridSpec = { seed, ...(model.sampleGrid ?? SAMPLE_GRID), latentSize: latent.size, distribution: latent.distribution, image: data.shape, pixelRange: family.pixelRange };
  const pixels = data.shape.width * data.shape.height * data.shape.channels;
  const reconN = Math.min(SAMPLE_GRID.n / 2, data.count);
  const reconSource = { n: reconN, data: bytesToPixels(data.images.subarray(0, reconN * pixels), family.pixelRange) };
  // What samples, evaluation and checkpoints (so the export) use, readied once per step it is needed at: an EMA
  // generator's own batch-norm statistics (adversarial.ts), from classes drawn as the steps draw them, by a stream of
  // the seed alone, so the same weights always get the same statistics.
  let settledAt = -1;
  const settle = () => {
    if (!model.settle || settledAt === meta.step) return;
    const pick = new SeededRandom((seed ^ 0x5e771e) >>> 0);
    // Classes as the steps drew them: the data's proportions, or re-weighted by --class-balance.
    model.settle(classBalance === 1 ? (n) => new Uint8Array(n).map(() => data.labels[pick.nextInt(data.count)] ?? 0) : classSampler(data.labels, data.classNames.length, classBalance, pick));
    settledAt = meta.step;
  };
  const writeSamples = async (name: string) => {
    settle();
    await writeGrid(join(runDir, 'samples', `${name}.png`), model, grid);
    await writeReconstructionGrid(join(runDir, 'samples', `recon-${name}.png`), model, reconSource, grid);
  };

  // Resume
  let meta: Omit<RunMeta, 'optimizerWeights'> = {
    family: familyName, config, seed, batchSize, limit: limit ?? null, dataDir, dataset: data.name, datasetSize: data.count,
    image: data.shape, classNames: data.classNames, ...(data.preprocess ? { preprocess: data.preprocess } : {}), augment, ema, diffAugment, lrDecayEpochs, classBalance, step: 0, batchesSeen: 0, totalSteps, rng: rng.state(),
    backend: backend.description, wallTimeSeconds: 0, losses: {},
  };
  let stepRng = rng;
  if (previous) {
    await restoreRun(model, previous);
    meta = { ...previous.meta, totalSteps, lrDecayEpochs, classBalance, backend: backend.description };
    stepRng = SeededRandom.fromState(previous.meta.rng);
    log(`resumed ${runDir} at step ${meta.step}/${totalSteps}`);
  } else {
    await mkdir(runDir, { recursive: true });
    await writeFileAtomic(join(runDir, 'config.json'), JSON.stringify({ family: familyName, config, seed, batchSize, dataDir, limit: limit ?? null, preprocess: data.preprocess ?? null, augment, ema, diffAugment }, null, 2));
  }

  // Numbers: FCD and friends after every epoch, from the classifier (trainer/eval/), when it fits the data.
  const evaluator = await createEpochEvaluator({ n: opts.evalN, seed, dataDir, dataset: data.name, image: data.shape, latent, pixelRange: family.pixelRange, classCount: model.exports.reduce((k, e) => Math.max(k, e.classCount ?? 0), 0), runDir }, log);
  const evals = await readJsonLines<EvalRecord>(join(runDir, EVALS_FILE));
  const evalLog = new EvalLog(runDir); // evals.jsonl gets a record once its step's checkpoint is saved
  let bestPending = false;
  // Once the checkpoint of the step just measured is saved: its record, and a copy as the best if its FCD is lowest.
  const afterSaved = async () => {
    await evalLog.afterCheckpoint();
    if (bestPending) await keepAsBest(runDir);
    bestPending = false;
  };
  const measure = async (epoch: number) => {
    settle();
    const r = await evaluator!.measure(model, { step: meta.step, epoch });
    evalLog.add(r);
    log(`\nepoch ${epoch}: FCD ${r.fcd.toFixed(3)} (real-vs-real ${r.fcdRealReference.toFixed(3)}), classifier score ${r.classifierScore.toFixed(3)}${r.classAccuracy !== undefined ? `, class accuracy ${(100 * r.classAccuracy).toFixed(1)}%` : ''} (N = ${r.n})`);
    evals.push(r);
    // The lowest FCD so far: its checkpoint is kept as the best once saved (checkpoint.ts, BEST_CHECKPOINT_FILE).
    bestPending = evals.every((e) => e === r || e.fcd > r.fcd);
    return r;
  };
  if (evaluator && previous && evals.length === 0) await measure(Math.floor(meta.batchesSeen / perEpoch)).then(afterSaved);
  const evalsBefore = evals.length; // the plateau rule waits for a window of epochs measured from here on
  let plateau = false;

  // Loop
  const cursor = { batchesSeen: meta.batchesSeen };
  const nextBatch = batchSource(data, family as Family<object>, seed, batchSize, cursor, augment, classBalance);
  const metrics: string[] = [];
  const progress = new ProgressBar(totalSteps, `${familyName} ${runDir}`);
  const started = performance.now();
  const firstStep = meta.step;
  const wallBefore = meta.wallTimeSeconds;
  // Ctrl-C / SIGTERM: finish the step, save, exit. One Ctrl-C can arrive several times within milliseconds (npm
  // and tsx relay it to this process too), so only a signal more than a second after the first quits at once.
  let stop = false;
  let firstSignal = 0;
  const onSignal = () => {
    if (!stop) {
      stop = true;
      firstSignal = Date.now();
      log('\nstopping after this step to save a checkpoint (Ctrl-C again to quit without saving)');
    } else if (Date.now() - firstSignal > 1000) process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const scaleLearningRates = learningRateScaler(model.optimizers);
  if (decaySteps > 0) log(`learning rates: constant until step ${Math.max(0, totalSteps - decaySteps)}, then linearly toward 0 at step ${totalSteps}`);
  let savedStep = meta.step;
  const checkpoint = async () => {
    meta = { ...meta, rng: stepRng.state(), batchesSeen: cursor.batchesSeen, wallTimeSeconds: wallBefore + (performance.now() - started) / 1000 };
    settle();
    await saveCheckpoint(runDir, await captureRun(model, meta));
    await afterSaved();
    savedStep = meta.step;
    if (metrics.length > 0) await appendFile(join(runDir, 'metrics.jsonl'), metrics.splice(0).join(''));
  };

  try {
    let windowStart = performance.now();
    let windowSteps = 0;
    let speed = 0;
    while (meta.step < totalSteps && !stop) {
      // Let the event loop run between steps (a step's work is queued synchronously), so a Ctrl-C is seen within one step.
      await new Promise((resolve) => setImmediate(resolve));
      const epochBefore = Math.floor(cursor.batchesSeen / perEpoch);
      scaleLearningRates(learningRateFactor(meta.step, totalSteps, decaySteps));
      const kept = () => (savedStep > 0 ? `the last good checkpoint (step ${savedStep}) is kept in ${runDir}` : 'no checkpoint had been written yet');
      // A GPU fault (webgpu.ts) voids the step: stop without saving, so the last checkpoint stays the good one.
      const losses = await backend.guard(() => model.step(nextBatch, stepRng)).catch((err: Error) => {
        if (err.name === 'GpuFault') err.message = `${err.message} (step ${meta.step + 1}); training stopped; ${kept()}; continue with --resume, on this or another --backend`;
        throw err;
      });
      const bad = Object.entries(losses).find(([, v]) => !Number.isFinite(v));
      if (bad) throw new TrainingDiverged(`loss ${bad[0]} became ${bad[1]} at step ${meta.step + 1}; training stopped; ${kept()}`);
      meta.step++;
      meta.losses = losses;
      windowSteps++;
      const now = performance.now();
      if (now - windowStart > 5000) {
        speed = (windowSteps * 1000) / (now - windowStart);
        windowStart = now;
        windowSteps = 0;
      }
      const epoch = Math.floor(cursor.batchesSeen / perEpoch);
      metrics.push(`${JSON.stringify({ step: meta.step, epoch: cursor.batchesSeen / perEpoch, ...losses, time: wallBefore + (now - started) / 1000 })}\n`);
      const average = ((meta.step - firstStep) * 1000) / (now - started + 1e-9);
      progress.update(meta.step, losses, speed || average, false, average);

      // Samples (every epoch) and checkpoints (every epoch, every N steps, at the end).
      const epochDone = epoch > epochBefore;
      if (epochDone) await writeSamples(`epoch-${String(epoch).padStart(3, '0')}`);
      if (epochDone && evaluator) {
        await measure(epoch);
        // Stop once FCD improves by less than the asked fraction over a window of epochs: more steps no longer pay.
        const improvement = opts.untilPlateau !== undefined ? plateauReached(evals.map((e) => e.fcd), opts.untilPlateau, opts.plateauPatience ?? 5, evals.length - evalsBefore) : null;
        if (improvement !== null) {
          plateau = true;
          const n = opts.plateauPatience ?? 5;
          const over = n === 1 ? `over epoch ${epoch}` : `in the best of epochs ${epoch - n + 1}-${epoch} on the best of the ${n} before`;
          log(`FCD improved by ${(100 * improvement).toFixed(1)}% (< ${100 * opts.untilPlateau!}%) ${over}: stopping`);
        }
      }
      if (epochDone || plateau || meta.step % opts.checkpointEvery === 0 || meta.step === totalSteps) await checkpoint();
      if (plateau) break;
      // The shown rate counts training steps only: its window starts again after an epoch's samples, eval and save.
      if (epochDone) [windowStart, windowSteps] = [performance.now(), 0];
    }
    if (stop) {
      await checkpoint();
      log(`\ninterrupted: checkpoint saved at step ${meta.step}; continue with --resume`);
    }
  } finally {
    progress.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (!stop) {
    await writeSamples('final');
    // The last checkpoint is of this step: its record is written at once.
    if (evaluator && evals.at(-1)?.step !== meta.step) await measure(cursor.batchesSeen / perEpoch).then(afterSaved);
    await writeReport(runDir, log, meta.backend);
    log(`done: ${meta.step} steps in ${formatDuration(meta.wallTimeSeconds)} (${runDir}); export with: npm run export -- ${runDir}`);
  }
  await evaluator?.release();
  for (const net of Object.values(model.networks)) net.dispose();
  for (const opt of Object.values(model.optimizers)) opt.dispose();
  return meta;
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCli(async () => {
    const opts = parseTrainArgs(process.argv.slice(2));
    if (!opts) {
      console.log(usage());
      return;
    }
    await train(opts);
  });
}
