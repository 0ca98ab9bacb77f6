/** Trainer throughput per family with its default config on the selected backend: optimisation steps and images per second. */
import { existsSync } from 'node:fs';
import { tf } from '../../trainer/backend/tf.js';
import { selectBackend } from '../../trainer/backend/select.js';
import { DEFAULT_DATA_DIR, loadImageDataset, type ImageDataset } from '../../trainer/data/idx.js';
import { FAMILIES } from '../../trainer/families/index.js';
import type { Batch, Family } from '../../trainer/families/family.js';
import { loadFolderDataset } from '../../trainer/data/folder.js';
import { bytesToPixels } from '../../shared/pixels.js';
import { SeededRandom } from '../../shared/rng.js';

export interface TrainerResult {
  family: string;
  backend: string;
  batchSize: number;
  stepsPerSecond: number;
  /** Real images consumed per second (k discriminator batches per generator step). */
  imagesPerSecond: number;
  /** Steps timed in all (three runs). */
  steps: number;
}

const STEPS: Record<string, number> = { dcgan: 15, cgan: 12, gan: 60, vae: 80 };
const BATCH = 64;

interface Case {
  name: string;
  family: Family<object>;
  config: object;
  data: ImageDataset;
  steps: number;
}

/**
 * Every family's default config on Fashion-MNIST, and a 32x32 RGB DCGAN (G 256-128-64 from 4x4, D 64-128-256, the
 * PyTorch reference architecture of docs/benchmarks.md) on the Noto Emoji folder (npm run data:emoji).
 */
async function cases(): Promise<Case[]> {
  if (!existsSync(DEFAULT_DATA_DIR)) throw new Error(`trainer benchmark needs Fashion-MNIST in ${DEFAULT_DATA_DIR} (apt-get install dataset-fashion-mnist)`);
  if (!existsSync(EMOJI_DIR)) throw new Error(`trainer benchmark needs the emoji folder in ${EMOJI_DIR} (npm run data:emoji)`);
  const fashion = loadImageDataset(DEFAULT_DATA_DIR, 'train', 4096);
  const emoji = await loadFolderDataset(EMOJI_DIR, { imageSize: 32, fit: 'crop', background: [255, 255, 255] });
  return [
    ...Object.entries(FAMILIES).map(([name, family]) => ({ name, family: family as Family<object>, config: family.defaults, data: fashion, steps: STEPS[name]! })),
    { name: 'dcgan 32x32 RGB', family: FAMILIES['dcgan'] as Family<object>, config: { ...FAMILIES['dcgan']!.defaults, baseChannels: 256 }, data: emoji, steps: 9 },
  ];
}

const EMOJI_DIR = 'data/emoji';

export async function benchTrainer(quick: boolean, log: (line: string) => void): Promise<TrainerResult[]> {
  const backend = await selectBackend('auto');
  const results: TrainerResult[] = [];
  for (const { name, family, config, data, steps: planned } of await cases()) {
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
    // Three timed runs of `per` steps each; the figures are those of the median run.
    const per = Math.max(1, Math.round((planned * (quick ? 0.3 : 1)) / 3));
    const runs: { seconds: number; images: number }[] = [];
    for (let run = 0; run < 3; run++) {
      images = 0;
      const t = performance.now();
      for (let i = 0; i < per; i++) await model.step(nextBatch, rng);
      runs.push({ seconds: (performance.now() - t) / 1000, images });
    }
    const mid = runs.sort((a, b) => a.seconds - b.seconds)[1]!;
    const steps = per * 3;
    const r = { family: name, backend: backend.name, batchSize: BATCH, stepsPerSecond: round(per / mid.seconds), imagesPerSecond: round(mid.images / mid.seconds), steps };
    log(`trainer ${name}: ${r.stepsPerSecond} steps/s, ${r.imagesPerSecond} images/s (batch ${BATCH}, ${backend.name})`);
    results.push(r);
    for (const net of Object.values(model.networks)) net.dispose();
    for (const opt of Object.values(model.optimizers)) opt.dispose();
  }
  return results;
}

const round = (v: number) => Math.round(v * 100) / 100;
