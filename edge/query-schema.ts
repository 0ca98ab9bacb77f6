/**
 * The query parameters of every GET route, as data: the routes validate with these descriptors (params.ts) and
 * the OpenAPI description (openapi.ts) is generated from them, so the two cannot drift. Bounds that depend on
 * the model (a grid's largest size for large images, a class index) are tightened per request and said in the
 * error, and described here.
 */
import { MAX_SEED_STRING_BYTES } from '../shared/rng.js';

export interface IntegerParam {
  min: number;
  max: number;
  /** Used when the parameter is absent; absent and no default means required (except seed: random). */
  default?: number;
  description: string;
}

/** A seed: an integer in [0, 2^32) or any string of 1 to `maxBytes` UTF-8 bytes (shared/rng.ts's seedFromString). */
export interface SeedParam {
  kind: 'seed';
  maxBytes: number;
  /** Absent and not required: a random seed. */
  required: boolean;
  description: string;
}

export type QueryParam = IntegerParam | SeedParam;
export const isSeedParam = (p: QueryParam): p is SeedParam => 'kind' in p && p.kind === 'seed';

/** Most images one request may ask for. */
export const MAX_IMAGES = 64;
export const DEFAULT_GRID_SIZE = 16;

const seed: SeedParam = { kind: 'seed', maxBytes: MAX_SEED_STRING_BYTES, required: false, description: 'Seed of the latents: an integer in [0, 4294967295], or any string of 1 to 256 UTF-8 bytes (a user id, an e-mail address), which becomes the first 4 bytes of its SHA-256 (shared/rng.ts). X-Seed says the number used. Without it a random seed is used and the response is not cacheable.' };
const cls: IntegerParam = { min: 0, max: 999, description: "Class index of a conditional model (0 .. classes.count - 1, see the model's classes.labels). Rejected by unconditional models." };

/** Largest PNG one request may return after `scale`, in pixels (2048 x 2048): bounds encoding time and memory. */
export const MAX_OUTPUT_PIXELS = 2048 * 2048;
export const scale: IntegerParam = { min: 1, max: 8, default: 1, description: 'Nearest-neighbour upscaling factor of the PNG (crisp pixels in an <img> tag); fewer when the output would pass 2048 x 2048 pixels.' };

export const QUERIES = {
  sample: { seed, scale, class: { ...cls, description: `${cls.description} Required by conditional models.` } },
  grid: {
    seed,
    n: { min: 1, max: MAX_IMAGES, default: DEFAULT_GRID_SIZE, description: 'Number of images (fewer allowed for models with images larger than 256x256).' },
    cols: { min: 1, max: MAX_IMAGES, description: 'Columns of the grid, at most n; default ceil(sqrt(n)).' },
    scale,
    class: { ...cls, description: `${cls.description} Without it a conditional model's image i has class i mod classes.count.` },
  },
  interpolate: {
    from: { kind: 'seed', maxBytes: MAX_SEED_STRING_BYTES, required: true, description: 'Seed of the first image (a number or a string, as `seed`).' },
    to: { kind: 'seed', maxBytes: MAX_SEED_STRING_BYTES, required: true, description: 'Seed of the last image (a number or a string, as `seed`).' },
    steps: { min: 2, max: MAX_IMAGES, default: 8, description: 'Number of images from `from` to `to`: spherical interpolation for normal latents, linear for uniform.' },
    scale,
    class: { ...cls, description: `${cls.description} Required by conditional models.` },
  },
  /** POST generate (format png) and reconstruct. */
  png: { scale },
  latents: { seed, n: { min: 1, max: MAX_IMAGES, default: 1, description: 'Number of latents.' } },
} satisfies Record<string, Record<string, QueryParam>>;

/** Limits of the POST bodies, shared by their validators and the OpenAPI description. */
export const BODY_LIMITS = {
  /** Largest magnitude of a latent component accepted by generate. */
  maxLatentAbs: 1000,
  maxBodyBytes: 1 << 20,
} as const;
