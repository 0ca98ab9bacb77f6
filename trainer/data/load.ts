/**
 * `--data DIR`: MNIST-style IDX files (Fashion-MNIST, the default) or a folder of images (folder.ts), told apart
 * by whether DIR holds `train-images-idx3-ubyte[.gz]`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PreprocessOptions } from '../../shared/preprocess.js';
import { loadFolderDataset, type FolderOptions } from './folder.js';
import { DataError, DEFAULT_DATA_DIR, loadImageDataset, type ImageDataset } from './idx.js';

export interface LoadedDataset extends ImageDataset {
  /** How a folder's images were preprocessed (absent for IDX data, which is used as stored). */
  preprocess?: PreprocessOptions;
}

export function isIdxDir(dir: string): boolean {
  return ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'].some((f) => existsSync(join(dir, f)));
}

/** The training split of `dir`, the first `limit` images of it when given. */
export async function loadDataset(dir: string, folder: FolderOptions, limit: number | undefined, log: (line: string) => void): Promise<LoadedDataset> {
  if (!existsSync(dir) && dir !== DEFAULT_DATA_DIR) throw new DataError(`--data ${dir}: no such directory`);
  if (isIdxDir(dir) || !existsSync(dir)) {
    if (folder.imageSize !== undefined || folder.channels !== undefined || folder.labelsFile !== undefined) {
      if (isIdxDir(dir)) throw new DataError(`--image-size, --channels and --labels apply to image folders; ${dir} holds IDX files, used at their own size`);
    }
    return loadImageDataset(dir, 'train', limit);
  }
  const d = await loadFolderDataset(dir, folder, log);
  if (limit === undefined || limit >= d.count) return d;
  const pixels = d.shape.width * d.shape.height * d.shape.channels;
  return { ...d, count: limit, images: d.images.subarray(0, limit * pixels), labels: d.labels.subarray(0, limit) };
}
