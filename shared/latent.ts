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

/**
 * `steps` latents from `a` to `b` inclusive. Normal latents follow the great circle (spherical interpolation,
 * White 2016: a straight line between two Gaussian samples passes through atypically short vectors); uniform
 * latents a straight line, which stays inside the cube.
 */
export function interpolateLatents(a: Float32Array, b: Float32Array, steps: number, distribution: LatentDistribution): Float32Array {
  const size = a.length;
  const out = new Float32Array(steps * size);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < size; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1))));
  const spherical = distribution === 'normal' && Math.sin(omega) > 1e-6;
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    const [wa, wb] = spherical ? [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)] : [1 - t, t];
    for (let i = 0; i < size; i++) out[s * size + i] = wa * a[i]! + wb * b[i]!;
  }
  return out;
}
