/** GET sample.png, grid.png and interpolate.png: seeded images, cacheable forever when the seed is given. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { defaultColumns } from '../../shared/grid.js';
import { interpolateLatents, latentsForSeed } from '../../shared/latent.js';
import type { Manifest } from '../../shared/manifest.js';
import type { ModelRegistry } from '../registry/registry.js';
import { classesFor, parseClass, seedOf, within } from '../http/params.js';
import { notModified, pngResponse } from '../http/responses.js';
import { chargeImages } from '../http/rate-limit.js';
import { CACHING_NOTE, DEFAULT_GRID_SIZE, errorResponses, GridQuery, InterpolateQuery, ModelParams, pngContent, SampleQuery } from '../api/schemas.js';
import { rejectInvalid } from '../http/validation.js';
import { type KeyParts, keyWhat, renderGrid, scaleWithin } from './render.js';
import { maxImages } from '../api/limits.js';

const image = <P extends string, Q extends typeof SampleQuery | typeof GridQuery | typeof InterpolateQuery>(path: P, summary: string, query: Q) =>
  createRoute({ method: 'get', path, summary, description: CACHING_NOTE, request: { params: ModelParams, query }, responses: { 200: { description: summary, content: pngContent }, ...errorResponses } });

const sample = image('/{id}/sample.png', 'One image', SampleQuery);
const grid = image('/{id}/grid.png', 'n images tiled in a grid', GridQuery);
const interpolate = image('/{id}/interpolate.png', 'A row of images between the latents of two seeds', InterpolateQuery);

/** What a seeded image route draws, once its own parameters are read against the model. */
interface Drawing {
  /** The route's own key parts (class and scale are added by seededPng). */
  parts: KeyParts;
  n: number;
  cols: number;
  /** Drawn only after the 304 check. */
  latents: () => Float32Array;
  /** The seed X-Seed reports, and whether it was given (else the response is neither cached nor revalidated). */
  seed: number;
  given: boolean;
  /** A grid may leave the class out: then it cycles through the classes. */
  classOptional?: boolean;
}

/**
 * Every seeded image route: resolve the model, read the route's parameters (`plan`), then the class and the scale
 * (bounded by the image's size), the ETag key, 304 before any inference, the rate-limit charge per image, and the
 * PNG. The order of the checks is the order of the errors a client sees.
 */
async function seededPng(c: Context, registry: ModelRegistry, route: string, id: string, q: { class?: string | undefined; scale: number }, plan: (m: Manifest) => Promise<Drawing>): Promise<Response> {
  const entry = await registry.resolve(id);
  const m = entry.manifest;
  const d = await plan(m);
  const cls = parseClass(m, q.class, d.classOptional);
  const scale = scaleWithin(q.scale, d.cols * m.image.width, Math.ceil(d.n / d.cols) * m.image.height);
  const key = { version: m.version, pinned: id.includes('@'), what: keyWhat(route, { ...d.parts, class: cls, scale }) };
  const cached = notModified(c, key, d.given);
  if (cached) return cached;
  await chargeImages(c, d.n);
  return pngResponse(await renderGrid(registry, entry, d.latents(), d.n, d.cols, classesFor(m, d.n, cls), scale), key, d.seed, d.given);
}

export function imageRoutes(registry: ModelRegistry) {
  return new OpenAPIHono()
    .openapi(sample, (c) => {
      const q = c.req.valid('query');
      return seededPng(c, registry, 'sample', c.req.valid('param').id, q, async (m) => {
        const { seed, given } = await seedOf(q.seed);
        return { parts: { seed }, n: 1, cols: 1, latents: () => latentsForSeed(seed, 1, m.latent.size, m.latent.distribution), seed, given };
      });
    }, rejectInvalid(SampleQuery))
    .openapi(grid, (c) => {
      const q = c.req.valid('query');
      return seededPng(c, registry, 'grid', c.req.valid('param').id, q, async (m) => {
        const { seed, given } = await seedOf(q.seed);
        const n = within('n', q.n ?? Math.min(DEFAULT_GRID_SIZE, maxImages(m)), 1, maxImages(m));
        const cols = within('cols', q.cols ?? defaultColumns(n), 1, n);
        // Without a class, a conditional model's grid cycles through the classes: image i has class i mod k.
        return { parts: { seed, n, cols }, n, cols, latents: () => latentsForSeed(seed, n, m.latent.size, m.latent.distribution), seed, given, classOptional: true };
      });
    }, rejectInvalid(GridQuery))
    .openapi(interpolate, (c) => {
      const q = c.req.valid('query');
      return seededPng(c, registry, 'interp', c.req.valid('param').id, q, async (m) => {
        const { seed: from } = await seedOf(q.from);
        const { seed: to } = await seedOf(q.to);
        const steps = within('steps', q.steps, 2, Math.max(2, maxImages(m)));
        const { size, distribution } = m.latent;
        const latents = () => interpolateLatents(latentsForSeed(from, 1, size, distribution), latentsForSeed(to, 1, size, distribution), steps, distribution);
        return { parts: { from, to, steps }, n: steps, cols: steps, latents, seed: from, given: true };
      });
    }, rejectInvalid(InterpolateQuery));
}
