/**
 * Image responses. Seeded ones carry a strong ETag bound to the model version. At a version-pinned URL
 * (`/v1/models/{id}@{version}/...`) they are immutable: the bytes can never change. At an unversioned URL they may
 * change when another version is activated or rolled back, so browsers and CDNs keep them for a minute (and serve a
 * stale copy while revalidating for ten): a rollback reaches every client within FLOATING_MAX_AGE seconds.
 * Unseeded responses say their seed and are not stored.
 */
import type { Context } from 'hono';
// onnxruntime-web does not export its package.json; the relative path reads the one installed (and bundled).
import { version as ORT_WEB_VERSION } from '../../node_modules/onnxruntime-web/package.json';
import { version as FFLATE_VERSION } from 'fflate/package.json';
import { PNG_ENCODER_VERSION } from '../../shared/png.js';
import { RNG_VERSION } from '../../shared/rng.js';

/** Bump it whenever this project's own drawing changes the bytes for the same version and parameters (pixel scaling, tiling, latents). */
const RENDER_REVISION = 1;

/**
 * Everything that shapes an image's bytes besides the model version and the parameters: the project's drawing, the
 * runtime that runs the graph, the deflate library and PNG encoder, the RNG. Upgrading any of them changes the
 * ETags and the response cache's keys, so a pinned URL's strong ETag never names other bytes. The golden images
 * test (tests/worker/golden-images.test.ts) fails when the bytes change and this does not.
 */
export const RENDER_VERSION = `${RENDER_REVISION}.ort${ORT_WEB_VERSION}.fflate${FFLATE_VERSION}.png${PNG_ENCODER_VERSION}.rng${RNG_VERSION}`;

export const FLOATING_MAX_AGE = 60;
export const PINNED_CACHE_CONTROL = 'public, max-age=31536000, immutable';
export const FLOATING_CACHE_CONTROL = `public, max-age=${FLOATING_MAX_AGE}, stale-while-revalidate=600`;

export interface ImageKey {
  /** The model version that produced the image. */
  version: string;
  /** Whether the URL named the version (`id@version`): then the response never changes. */
  pinned: boolean;
  /** The route and its canonical parameters, e.g. 'grid:s=1:n=16:c=4'. */
  what: string;
}

export function etagFor(key: ImageKey): string {
  return `"r${RENDER_VERSION}-${key.version}-${key.what}"`;
}

export function cacheControl(pinned: boolean): string {
  return pinned ? PINNED_CACHE_CONTROL : FLOATING_CACHE_CONTROL;
}

function cacheHeaders(seed: number, given: boolean, etag: string, pinned: boolean): Record<string, string> {
  return given ? { 'Cache-Control': cacheControl(pinned), ETag: etag, 'X-Seed': String(seed) } : { 'Cache-Control': 'no-store', 'X-Seed': String(seed) };
}

/** 304 for a matching If-None-Match on a seeded request, before any inference runs; otherwise null. */
export function notModified(c: Context, key: ImageKey, seedGiven: boolean): Response | null {
  if (!seedGiven) return null;
  const etag = etagFor(key);
  const header = c.req.header('If-None-Match');
  if (!header) return null;
  const tags = header.split(',').map((t) => t.trim());
  if (!tags.includes(etag) && !tags.includes('*')) return null;
  return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': cacheControl(key.pinned) } });
}

/** A PNG and where its time went: inference, then tiling + PNG encoding. */
export interface RenderedPng {
  png: Uint8Array<ArrayBuffer>;
  timing?: { inferMs: number; encodeMs: number };
}

/**
 * `Server-Timing: infer;dur=..., png;dur=...` (milliseconds), shown by browsers' dev tools and read by the benchmark.
 * workerd's clocks tick in whole milliseconds (locally too), and deployed Workers advance them only at I/O: the
 * numbers are coarse, good for batches, not for one small image.
 */
function timingHeader(r: RenderedPng): Record<string, string> {
  return r.timing ? { 'Server-Timing': `infer;dur=${r.timing.inferMs.toFixed(2)}, png;dur=${r.timing.encodeMs.toFixed(2)}` } : {};
}

/** The headers of a response that is a pure function of (model version, parameters, seed): cacheable when the seed was given. */
export function seededHeaders(key: ImageKey, seed: number, seedGiven: boolean): Record<string, string> {
  return { 'X-Model-Version': key.version, ...cacheHeaders(seed, seedGiven, etagFor(key), key.pinned) };
}

/** A response that is a pure function of (model version, parameters, seed): cacheable when the seed was given. */
export function seededResponse(body: Uint8Array | string, contentType: string, key: ImageKey, seed: number, seedGiven: boolean, extra: Record<string, string> = {}): Response {
  return new Response(body as Uint8Array<ArrayBuffer> | string, { status: 200, headers: { 'Content-Type': contentType, ...seededHeaders(key, seed, seedGiven), ...extra } });
}

/** A PNG drawn from a request body (generate, reconstruct): not addressable by URL, so never stored. */
export function uncachedPng(r: RenderedPng, version: string): Response {
  return new Response(r.png, { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'X-Model-Version': version, ...timingHeader(r) } });
}

export function pngResponse(r: RenderedPng, key: ImageKey, seed: number, seedGiven: boolean): Response {
  return seededResponse(r.png, 'image/png', key, seed, seedGiven, timingHeader(r));
}
