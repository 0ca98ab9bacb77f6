/** Rendering latents to a PNG grid, shared by the image and generation routes. */
import { tileImages, upscaleNearest } from '../../shared/grid.js';
import { encodePng } from '../../shared/png.js';
import type { RenderedPng } from '../http/responses.js';
import { latentsToImages } from '../inference/generate.js';
import type { ModelRegistry, ServedModel } from '../registry/registry.js';
import { within } from '../http/params.js';
import { MAX_OUTPUT_PIXELS, } from '../api/limits.js';

/** The `scale` query parameter, its bound tightened so that a `width` x `height` image stays within MAX_OUTPUT_PIXELS. */
export function scaleWithin(scale: number, width: number, height: number): number {
  const largest = Math.max(1, Math.floor(Math.sqrt(MAX_OUTPUT_PIXELS / (width * height))));
  return within('scale', scale, 1, Math.min(8, largest));
}

/**
 * The parameters that name a seeded response in its ETag, each part with one name on every route: `seed`, `from`
 * and `to` (as numbers, so a string seed and its number share one), `n`, `cols`, `steps`, `class`, `scale`.
 */
export interface KeyParts {
  seed?: number;
  from?: number;
  to?: number;
  n?: number;
  cols?: number;
  steps?: number;
  class?: number | undefined;
  scale?: number;
}

/** The `what` of an ImageKey: the route, then its parts in a fixed order; an absent class and scale 1 are left out. */
export function keyWhat(route: string, parts: KeyParts): string {
  const order = ['seed', 'from', 'to', 'n', 'cols', 'steps', 'class', 'scale'] as const;
  const named = order.filter((k) => parts[k] !== undefined && !(k === 'scale' && parts[k] === 1)).map((k) => `${k}=${parts[k]}`);
  return [route, ...named].join(':');
}

/** `n` images from latents (and labels), tiled into `cols` columns, upscaled `scale` times, as PNG, with where the time went. */
export async function renderGrid(registry: ModelRegistry, entry: ServedModel, latents: Float32Array, n: number, cols: number, labels?: ArrayLike<number>, scale = 1): Promise<RenderedPng> {
  const session = await registry.session(entry);
  const t0 = performance.now();
  const pixels = await latentsToImages(entry.manifest, session, latents, n, labels);
  const t1 = performance.now();
  const png = encodePng(upscaleNearest(tileImages(pixels, n, entry.manifest.image, cols), scale));
  return { png, timing: { inferMs: t1 - t0, encodeMs: performance.now() - t1 } };
}
