/**
 * Every bound of the API and the registry in one place: what one request may ask for and send, what a manifest may
 * declare, and what the worker keeps loaded. Each is quoted in the 4xx that enforces it and in the OpenAPI document.
 */
import type { Manifest } from '../../shared/manifest.js';

/** Most images one request may ask for. */
export const MAX_IMAGES = 64;

/** Largest PNG one request may return after `scale`, in pixels (2048 x 2048): bounds encoding time and memory. */
export const MAX_OUTPUT_PIXELS = 2048 * 2048;

/** Largest magnitude of a latent component accepted by generate: no prior puts mass beyond it. */
export const MAX_LATENT_ABS = 1000;

/** Largest request body accepted (generate's JSON), in bytes. */
export const MAX_BODY_BYTES = 1 << 20;

/** Largest image a manifest may declare (values per image): a 1024 x 1024 RGB image, 12 MiB as floats. */
export const MAX_IMAGE_VALUES = 1024 * 1024 * 3;

/** Largest latent a manifest may declare. */
export const MAX_LATENT_SIZE = 1024;

/**
 * Versions loaded on demand for version-pinned URLs (`{id}@{version}`), kept in an LRU: at most this many, and at
 * most this many bytes of graphs (a session holds about its graph's size again in the wasm heap).
 */
export const PINNED_MAX_VERSIONS = 4;
export const PINNED_MAX_GRAPH_BYTES = 32 * 2 ** 20;

/**
 * A `{id}@{version}` the store does not have is answered 404 from memory for this long, at most this many remembered
 * (oldest forgotten first): a crawler or a typo does not cost an R2 read per request. An upload through this
 * isolate forgets it at once; other isolates see a new version after at most this long.
 */
export const PINNED_MISS_TTL_MS = 10_000;
export const PINNED_MAX_MISSES = 1000;

/** Rollback history kept per model. */
export const MAX_HISTORY = 20;

/** Largest decoded upload: 2048 x 2048. Decoded RGBA is then at most 16 MiB, well inside an isolate's 128 MB. */
export const MAX_UPLOAD_PIXELS = 2048 * 2048;

/**
 * Largest upload (manifest + graphs), in bytes. While it is checked the graph is held several times (the body, the
 * parsed form and its parts, the smoke session's copy and weights) beside the activations of the largest grid the
 * smoke test runs. Measured on workerd (tests/bench/hostile-inputs.ts, docs/hardening.md), peak memory above the
 * worker's resident memory: a 22.7 MiB 64x64 RGB DCGAN 187 MiB, a 15.6 MiB one 135 MiB, both over an isolate's
 * 128 MB; a 7.7 MiB one 63 MiB. Hence 8 MiB (the 64x64 emoji DCGAN is 4.3 MiB); larger models need the grid drawn in
 * smaller batches first (docs/registry.md).
 */
export const MAX_UPLOAD_BYTES = 8 << 20;

/** Most output pixels one request may make (64 images of 256x256): bounds memory and time for large-image models. */
export const MAX_PIXELS = 64 * 256 * 256;

/** How many images of model `m` one request may ask for: MAX_IMAGES, fewer when its images are large. */
export function maxImages(m: Manifest): number {
  return Math.max(1, Math.min(MAX_IMAGES, Math.floor(MAX_PIXELS / (m.image.width * m.image.height * m.image.channels))));
}
