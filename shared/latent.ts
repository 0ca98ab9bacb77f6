/**
 * How a latent vector is drawn. The trainer draws its training noise and its fixed sample-grid noise with these
 * functions, and the edge draws the latents of a seed with the same ones: a seed means the same latent everywhere.
 */
import { SeededRandom } from './rng.js';

export const LATENT_DISTRIBUTIONS = ['normal', 'uniform'] as const;
export type LatentDistribution = (typeof LATENT_DISTRIBUTIONS)[number];

/** Fills `out` with draws from `distribution`: N(0, 1), or U[-1, 1) as in the DCGAN paper. */
export function fillLatent(rng: SeededRandom, distribution: LatentDistribution, out: Float32Array): Float32Array {
  if (distribution === 'normal') {
    for (let i = 0; i < out.length; i++) out[i] = rng.nextNormal();
  } else {
    for (let i = 0; i < out.length; i++) out[i] = 2 * rng.nextFloat() - 1;
  }
  return out;
}

/**
 * The `n` latents (row-major, n x size) of `seed`: one stream per seed, image i takes the i-th slice, so the first
 * image of a grid is the single sample of the same seed.
 */
export function latentsForSeed(seed: number, n: number, size: number, distribution: LatentDistribution): Float32Array {
  return fillLatent(new SeededRandom(seed), distribution, new Float32Array(n * size));
}
