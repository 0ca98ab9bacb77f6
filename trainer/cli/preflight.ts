/**
 * What `npm run train` checks before any slow work (loading a backend, decoding a folder, building networks): the
 * data folder exists and is a folder, and the model can be built for its images (a DCGAN's sides, a conv VAE's
 * sides, a cGAN's classes). Each problem is one line (a UsageError or DataError: trainer/cli/main.ts prints it and
 * exits non-zero), where before it was a stack trace after the whole folder was decoded.
 */
import { existsSync, statSync } from 'node:fs';
import { dcganChannels, type DcganConfig } from '../families/dcgan.js';
import type { ImageShape } from '../../shared/grid.js';
import { DataError, DEFAULT_DATA_DIR } from '../data/idx.js';
import { isIdxDir } from '../data/load.js';
import { IMAGE_SIZE_RANGE, scanFolder, type FolderOptions } from '../data/folder.js';
import { UsageError } from './options.js';
import { findRuler } from '../eval/ruler.js';

type Shape = ImageShape;

/** Why `family` with `config` cannot be built for images of `shape`, or null when it can. */
export function shapeProblem(family: string, config: Record<string, unknown>, shape: Shape): string | null {
  try {
    // A cGAN is a DCGAN with a class input (cgan.ts): the same stages.
    if (family === 'dcgan' || family === 'cgan') dcganChannels(config as unknown as DcganConfig, shape);
  } catch (err) {
    return (err as Error).message;
  }
  if (family === 'vae' && config['arch'] === 'conv' && (shape.width % 4 !== 0 || shape.height % 4 !== 0)) return `--arch conv needs image sides divisible by 4, got ${shape.width}x${shape.height}`;
  return null;
}

/** The sizes in IMAGE_SIZE_RANGE nearest to `size` that the model can be built for (at most two). */
export function nearestSizes(family: string, config: Record<string, unknown>, size: number, channels: ImageShape['channels']): number[] {
  const fits = (s: number) => s >= IMAGE_SIZE_RANGE[0] && s <= IMAGE_SIZE_RANGE[1] && shapeProblem(family, config, { width: s, height: s, channels }) === null;
  for (let d = 1; d <= IMAGE_SIZE_RANGE[1]; d++) {
    const found = [size - d, size + d].filter(fits);
    if (found.length > 0) return found;
  }
  return [];
}

/**
 * Checks `--data` and the model against each other, reading only the folder's listing and image headers. IDX data
 * (Fashion-MNIST) is 28x28 gray with 10 classes, which every family takes; its loader says what is missing.
 */
export async function preflightTrain(family: string, config: Record<string, unknown>, data: string, folder: FolderOptions, plateau?: { untilPlateau?: number; evalN: number }): Promise<void> {
  if (!existsSync(data)) {
    if (data === DEFAULT_DATA_DIR) return; // the IDX loader says how to install it
    throw new DataError(`--data ${data}: no such directory`);
  }
  if (!statSync(data).isDirectory()) throw new DataError(`--data ${data} is a file, not a folder: give the folder that holds the images (or the IDX files)`);
  if (isIdxDir(data)) return checkPlateau(data, { width: 28, height: 28, channels: 1 }, plateau);
  const scan = await scanFolder(data, folder);
  if (family === 'cgan' && scan.classNames.length < 2) {
    const has = scan.classNames.length === 0 ? 'has no class subfolders' : `has one class only ("${scan.classNames[0]}")`;
    throw new UsageError(`--model cgan needs labelled data with at least 2 classes (one subfolder per class, or --labels FILE.csv); ${data} ${has}`);
  }
  const { size, channels } = scan.preprocess;
  const problem = shapeProblem(family, config, { width: size, height: size, channels });
  if (problem) {
    const from = folder.imageSize !== undefined ? `--image-size ${size}` : `the images' own size, ${size} (the default --image-size)`;
    const sizes = nearestSizes(family, config, size, channels);
    throw new UsageError(`${from} does not fit --model ${family}: ${problem}${sizes.length ? `; try --image-size ${sizes.join(' or ')}` : ''}`);
  }
  await checkPlateau(data, { width: size, height: size, channels }, plateau);
}

/** `--until-plateau` stops on the per-epoch FCD: without a ruler of this data there is none, so it is an error. */
async function checkPlateau(data: string, image: ImageShape, plateau?: { untilPlateau?: number; evalN: number }): Promise<void> {
  if (plateau?.untilPlateau === undefined) return;
  if (plateau.evalN === 0) throw new UsageError('--until-plateau stops on the per-epoch FCD, which --eval-n 0 turns off');
  const ruler = await findRuler(data, image);
  if (!ruler.ok) throw new UsageError(`--until-plateau needs a ruler trained on this data set, to measure FCD every epoch: ${ruler.reason}`);
}
