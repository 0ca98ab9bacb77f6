/** Sample grids: the fixed latents of the run's seed through the model, tiled and written as PNG. */
import { tf } from '../backend/tf.js';
import type { TrainingModel } from '../families/family.js';
import { writeFileAtomic } from './atomic.js';
import { encodePng } from '../../shared/png.js';
import { tileImages, type ImageShape } from '../../shared/grid.js';
import { pixelsToBytes, type PixelRange } from '../../shared/pixels.js';
import { latentsForSeed, type LatentDistribution } from '../../shared/latent.js';

export interface GridSpec {
  seed: number;
  n: number;
  cols: number;
  latentSize: number;
  distribution: LatentDistribution;
  image: ImageShape;
  pixelRange: PixelRange;
}

/**
 * PNG of the grid the edge serves as `grid.png?seed=S&n=N&cols=C` for the exported model: the same latents
 * (shared/latent.ts), the same pixel conversion and tiling.
 */
export async function renderGrid(model: TrainingModel, g: GridSpec): Promise<Uint8Array> {
  const latents = latentsForSeed(g.seed, g.n, g.latentSize, g.distribution);
  const images = model.sample(latents, g.n, model.gridLabels?.(g.n, g.cols));
  const values = await images.data();
  images.dispose();
  return encodePng(tileImages(pixelsToBytes(values, g.pixelRange), g.n, g.image, g.cols));
}

export async function writeGrid(path: string, model: TrainingModel, g: GridSpec): Promise<void> {
  await writeFileAtomic(path, await renderGrid(model, g));
}


/** An autoencoder's check: `n` fixed real images (top half) above their reconstructions (bottom half). */
export async function writeReconstructionGrid(path: string, model: TrainingModel, real: { data: Float32Array; n: number }, g: GridSpec): Promise<void> {
  if (!model.reconstruct) return;
  const { width, height, channels } = g.image;
  const input = tf.tensor4d(real.data, [real.n, height, width, channels]);
  const recon = model.reconstruct(input);
  input.dispose(); // every epoch: it leaked once per epoch before
  const values = new Float32Array(2 * real.data.length);
  values.set(real.data);
  values.set(await recon.data(), real.data.length);
  recon.dispose();
  await writeFileAtomic(path, encodePng(tileImages(pixelsToBytes(values, g.pixelRange), 2 * real.n, g.image, g.cols)));
}
