/**
 * A data set's training and test splits, the same for the classifier that rules it (npm run classifier) and for
 * everything it measures (npm run eval, per-epoch FCD): IDX data comes split (train / t10k); an image folder is
 * split here, per class, with a fixed seed, holding out TEST_FRACTION of each class's images as its test split.
 */
import type { FolderOptions } from './folder.js';
import type { ImageDataset } from './idx.js';
import { isIdxDir, loadDataset, type LoadedDataset } from './load.js';
import { loadImageDataset } from './idx.js';
import { SeededRandom } from '../../shared/rng.js';

export const TEST_FRACTION = 0.15;
/** Fixed: a ruler and the numbers measured with it must hold out the same images. */
export const SPLIT_SEED = 20261130;

/** Indices of the held-out images: TEST_FRACTION of each class (at least one where a class has two or more). */
export function heldOutIndices(labels: Uint8Array, fraction = TEST_FRACTION, seed = SPLIT_SEED): Uint32Array {
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => {
    const list = byClass.get(l) ?? [];
    list.push(i);
    byClass.set(l, list);
  });
  const out: number[] = [];
  for (const [cls, idx] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const order = new SeededRandom((seed ^ Math.imul(cls + 1, 0x9e3779b1)) >>> 0).permutation(idx.length);
    const k = idx.length < 2 ? 0 : Math.max(1, Math.round(idx.length * fraction));
    for (let j = 0; j < k; j++) out.push(idx[order[j]!]!);
  }
  return Uint32Array.from(out.sort((a, b) => a - b));
}

function subset(d: ImageDataset, idx: ArrayLike<number>, split: string): ImageDataset {
  const px = d.shape.width * d.shape.height * d.shape.channels;
  const images = new Uint8Array(idx.length * px);
  const labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    images.set(d.images.subarray(idx[i]! * px, (idx[i]! + 1) * px), i * px);
    labels[i] = d.labels[idx[i]!]!;
  }
  return { ...d, name: `${d.name.split('/')[0]}/${split}`, images, labels, count: idx.length };
}

export interface Splits {
  train: ImageDataset;
  test: ImageDataset;
  /** The folder's preprocessing (absent for IDX data). */
  preprocess?: LoadedDataset['preprocess'];
}

/** The training and test splits of `dir`; `limit` keeps the first N of each (IDX) or of the folder. */
export async function loadSplits(dir: string, folder: FolderOptions, limit: number | undefined, log: (line: string) => void = () => {}): Promise<Splits> {
  if (isIdxDir(dir)) return { train: loadImageDataset(dir, 'train', limit), test: loadImageDataset(dir, 't10k', limit) };
  const all = await loadDataset(dir, folder, limit, log);
  const test = heldOutIndices(all.labels);
  const held = new Set(test);
  // Shuffled (fixed seed): the folder lists images class by class, and the classifier validates on the last ones.
  const kept = Uint32Array.from({ length: all.count }, (_, i) => i).filter((i) => !held.has(i));
  const train = Uint32Array.from(new SeededRandom(SPLIT_SEED).permutation(kept.length), (j) => kept[j]!);
  return { train: subset(all, train, 'train'), test: subset(all, test, 'test'), ...(all.preprocess ? { preprocess: all.preprocess } : {}) };
}
