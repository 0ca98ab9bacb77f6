/**
 * Trainer throughput per family with its default config on the selected backend: optimisation steps and images per
 * second. The colour DCGANs (32x32 and 64x64) run beside PyTorch on the same architecture, batch, images and thread
 * count, in alternating blocks (pytorch-reference.ts); the ratio is printed only when both were measured in this run.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tf } from '../../trainer/backend/tf.js';
import { selectBackend, type BackendChoice } from '../../trainer/backend/select.js';
import { findAdapter } from '../../trainer/backend/webgpu.js';
import { DEFAULT_DATA_DIR, loadImageDataset, type ImageDataset } from '../../trainer/data/idx.js';
import { FAMILIES } from '../../trainer/families/index.js';
import type { Batch, Family } from '../../trainer/families/family.js';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { SeededRandom } from '../../shared/rng.js';
import { dcganChannels, type DcganConfig } from '../../trainer/families/dcgan.js';
import { startReference, type Reference } from './pytorch-reference.js';
import { nativeKernelsInUse, useNativeKernels } from '../../trainer/backend/kernels/register.js';

export interface TrainerResult {
  family: string;
  backend: string;
  /** The GPU adapter (webgpu): vendor, architecture, description. */
  adapter?: string;
  batchSize: number;
  stepsPerSecond: number;
  /** Real images consumed per second (k discriminator batches per generator step). */
  imagesPerSecond: number;
  /** Steps timed in all (three runs). */
  steps: number;
  /** The backend's thread count. */
  threads: number;
  /** PyTorch on the same network, batch, images and threads, measured in the same blocks (colour DCGANs only). */
  pytorch?: { torch: string; threads: number; blas: string; stepsPerSecond: number; ratio: number };
  /** Why there is no PyTorch figure, when there should have been one. */
  pytorchAbsent?: string;
  /** wasm with native kernels: the same steps without them (XNNPACK's convolutions), in the same blocks (colour DCGANs only). */
  withoutNative?: { stepsPerSecond: number; speedup: number };
}

const STEPS: Record<string, number> = { dcgan: 15, cgan: 12, gan: 60, vae: 80 };
const BATCH = 64;

interface Case {
  name: string;
  family: Family<object>;
  config: object;
  data: ImageDataset;
  steps: number;
  /** Time PyTorch on the same network beside it. */
  reference?: boolean;
}

/**
 * Every family's default config on Fashion-MNIST, and the colour DCGAN with base width 256 on the Noto Emoji folder
 * (npm run data:emoji) at 32x32 (G 256-128-64 from 4x4, D 64-128-256) and at 64x64 (G 256-128-64-32, D 32-64-128-256,
 * emoji-dcgan's size), each beside PyTorch.
 */
async function allCases(): Promise<Case[]> {
  if (!existsSync(DEFAULT_DATA_DIR)) throw new Error(`trainer benchmark needs Fashion-MNIST in ${DEFAULT_DATA_DIR} (apt-get install dataset-fashion-mnist)`);
  if (!existsSync(EMOJI_DIR)) throw new Error(`trainer benchmark needs the emoji folder in ${EMOJI_DIR} (npm run data:emoji)`);
  const fashion = loadImageDataset(DEFAULT_DATA_DIR, 'train', 4096);
  const colour = async (side: number, steps: number): Promise<Case> => ({
    name: `dcgan ${side}x${side} RGB`,
    family: FAMILIES['dcgan'] as Family<object>,
    config: { ...FAMILIES['dcgan']!.defaults, baseChannels: 256 },
    data: await loadFolderDataset(EMOJI_DIR, { imageSize: side, fit: 'crop', background: [255, 255, 255] }),
    steps,
    reference: true,
  });
  return [
    ...Object.entries(FAMILIES).map(([name, family]) => ({ name, family: family as Family<object>, config: family.defaults, data: fashion, steps: STEPS[name]! })),
    await colour(32, 12),
    await colour(64, 9),
  ];
}

const EMOJI_DIR = 'data/emoji';

/**
 * `cases`: run only the cases whose name contains one of these (e.g. ['RGB']); all when empty. Every backend present:
 * 'auto' (the fastest CPU path here), then webgpu when a real GPU adapter is found (TRAINER_BENCH_WEBGPU=1: a
 * software one too, e.g. SwiftShader, which only shows that the path runs).
 */
export async function benchTrainer(quick: boolean, log: (line: string) => void, cases: string[] = []): Promise<TrainerResult[]> {
  const results = await benchOn('auto', quick, log, cases);
  if (results.some((r) => r.backend === 'webgpu')) return results;
  const found = await findAdapter();
  if ('missing' in found || (found.info.fallback && process.env['TRAINER_BENCH_WEBGPU'] !== '1')) {
    log(`trainer: webgpu not measured (${'missing' in found ? found.missing : 'only a software adapter; TRAINER_BENCH_WEBGPU=1 measures it'})`);
    return results;
  }
  return [...results, ...(await benchOn('webgpu', quick, log, cases))];
}

async function benchOn(choice: BackendChoice, quick: boolean, log: (line: string) => void, cases: string[]): Promise<TrainerResult[]> {
  const threads = availableParallelism();
  const backend = await selectBackend(choice, threads);
  const label = backend.name === 'wasm' && nativeKernelsInUse() ? 'wasm + native kernels' : backend.name;
  const results: TrainerResult[] = [];
  const chosen = (await allCases()).filter((c) => cases.length === 0 || cases.some((part) => c.name.includes(part)));
  if (chosen.length === 0) throw new Error(`--cases ${cases.join(',')}: no trainer case matches`);
  for (const { name, family, config, data, steps: planned, reference } of chosen) {
    const { width, height, channels } = data.shape;
    const px = width * height * channels;
    const model = family.create(config, { image: data.shape, classCount: data.classNames.length }, new SeededRandom(1));
    let cursor = 0;
    let images = 0;
    const nextBatch = (): Batch => {
      const values = new Float32Array(BATCH * px);
      const labels = new Uint8Array(BATCH);
      for (let i = 0; i < BATCH; i++) {
        const idx = (cursor++ * 7919) % data.count;
        bytesToPixels(data.images.subarray(idx * px, (idx + 1) * px), family.pixelRange, values.subarray(i * px, (i + 1) * px));
        labels[i] = data.labels[idx]!;
      }
      images += BATCH;
      return { images: tf.tensor4d(values, [BATCH, height, width, channels]), labels };
    };
    const rng = new SeededRandom(2);
    for (let i = 0; i < 2; i++) await model.step(nextBatch, rng); // warm-up: kernel compilation, first allocations
    // Timed runs of `per` steps each (3; 5 beside PyTorch); the figures are those of the median run, and the ratio to
    // PyTorch the median of each block's own ratio: this machine drifts by 10-20% between blocks, alike for both.
    const blocks = reference && choice === 'auto' ? 5 : 3;
    const per = Math.max(1, Math.round((planned * (quick ? 0.3 : 1)) / 3));
    let pytorch: Reference | undefined;
    let pytorchAbsent: string | undefined;
    if (reference && choice === 'auto') {
      const channels = dcganChannels(config as DcganConfig, data.shape);
      const { kernel } = config as DcganConfig;
      const opts = { images: data.images, labels: data.labels, count: data.count, imageSize: width, generatorChannels: channels.generator, discriminatorChannels: channels.discriminator, kernel, batch: BATCH, threads, stepsPerBlock: per, blocks };
      pytorch = await startReference(opts).catch((err: Error) => ((pytorchAbsent = err.message), undefined));
      if (!pytorch) log(`trainer ${name}: PyTorch absent, no ratio (${pytorchAbsent})`);
    }
    const runs: { seconds: number; images: number }[] = [];
    const refSeconds: number[] = [];
    const wasmSeconds: number[] = [];
    // The same steps without the native kernels, in the same blocks: what they gain, measured here.
    const native = reference && backend.name === 'wasm' ? nativeKernelsInUse() : null;
    const timed = async () => {
      const t = performance.now();
      for (let i = 0; i < per; i++) await model.step(nextBatch, rng);
      return (performance.now() - t) / 1000;
    };
    try {
      for (let run = 0; run < blocks; run++) {
        images = 0;
        runs.push({ seconds: await timed(), images });
        if (native) {
          useNativeKernels(null);
          wasmSeconds.push(await timed().finally(() => useNativeKernels(native)));
        }
        if (pytorch) refSeconds.push(await pytorch.block());
      }
    } finally {
      await pytorch?.close();
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const blockRatios = refSeconds.map((ref, i) => ref / runs[i]!.seconds);
    const mid = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
    const steps = per * blocks;
    const r: TrainerResult = { family: name, backend: label, ...(backend.adapter ? { adapter: backend.description } : {}), batchSize: BATCH, stepsPerSecond: round(per / mid.seconds), imagesPerSecond: round(mid.images / mid.seconds), steps, threads };
    log(`trainer ${name}: ${r.stepsPerSecond} steps/s, ${r.imagesPerSecond} images/s (batch ${BATCH}, ${backend.adapter ? backend.description : `${label}, ${threads} threads`})`);
    if (native) {
      const wasmMid = median(wasmSeconds);
      r.withoutNative = { stepsPerSecond: round(per / wasmMid), speedup: round(wasmMid / mid.seconds) };
      log(`trainer ${name}: the same blocks without native kernels (XNNPACK's convolutions and products, wasm batch norm, tfjs's Adam): ${r.withoutNative.stepsPerSecond} steps/s; native kernels ${r.withoutNative.speedup}x as fast`);
    }
    if (pytorch) {
      const refMid = median(refSeconds);
      const stepsPerSecond = round(per / refMid);
      r.pytorch = { ...pytorch.ready, stepsPerSecond, ratio: round(median(blockRatios)) };
      log(`trainer ${name}: PyTorch ${pytorch.ready.torch} CPU (${pytorch.ready.blas}), ${pytorch.ready.threads} threads, same blocks: ${stepsPerSecond} steps/s; trainer / PyTorch ${r.pytorch.ratio}x (the median of the blocks' ${blockRatios.map((b) => b.toFixed(2)).join(', ')})`);
    } else if (pytorchAbsent) r.pytorchAbsent = pytorchAbsent;
    results.push(r);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();
  }
  return results;
}

const round = (v: number) => Math.round(v * 100) / 100;
