/** What the route modules share: the registry and rendering latents to a PNG grid. */
import { tileImages } from '../../shared/grid.js';
import { encodePng } from '../../shared/png.js';
import { latentsToImages } from '../generate.js';
import type { ModelEntry, ModelRegistry } from '../model-registry.js';
import type { Manifest } from '../../shared/manifest.js';

export type ServedModel = ModelEntry & { manifest: Manifest };

/** Most images one request may ask for. */
export const MAX_IMAGES = 64;
export const DEFAULT_GRID_SIZE = 16;

/** `n` images from latents (and labels), tiled into `cols` columns, as PNG. */
export async function renderGrid(registry: ModelRegistry, entry: ServedModel, latents: Float32Array, n: number, cols: number, labels?: ArrayLike<number>): Promise<Uint8Array<ArrayBuffer>> {
  const pixels = await latentsToImages(entry.manifest, await registry.session(entry), latents, n, labels);
  return encodePng(tileImages(pixels, n, entry.manifest.image, cols));
}
