/** GET sample.png, grid.png and interpolate.png: seeded images, cacheable forever when the seed is given. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { defaultColumns } from '../../shared/grid.js';
import { interpolateLatents, latentsForSeed } from '../../shared/latent.js';
import type { ModelRegistry } from '../registry/registry.js';
import { classesFor, parseClass, seedOf, within } from '../http/params.js';
import { notModified, pngResponse } from '../http/responses.js';
import { chargeImages } from '../http/rate-limit.js';
import { CACHING_NOTE, DEFAULT_GRID_SIZE, errorResponses, GridQuery, InterpolateQuery, ModelParams, pngContent, SampleQuery } from '../api/schemas.js';
import { rejectInvalid } from '../http/validation.js';
import { renderGrid, scaleKey, scaleWithin } from './render.js';
import { maxImages } from '../api/limits.js';

const image = <Q extends typeof SampleQuery | typeof GridQuery | typeof InterpolateQuery>(path: string, summary: string, query: Q) =>
  createRoute({ method: 'get', path, summary, description: CACHING_NOTE, request: { params: ModelParams, query }, responses: { 200: { description: summary, content: pngContent }, ...errorResponses } });

const sample = image('/{id}/sample.png', 'One image', SampleQuery);
const grid = image('/{id}/grid.png', 'n images tiled in a grid', GridQuery);
const interpolate = image('/{id}/interpolate.png', 'A row of images between the latents of two seeds', InterpolateQuery);

export function imageRoutes(registry: ModelRegistry) {
  return new OpenAPIHono()
    .openapi(sample, async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const entry = await registry.resolve(id);
      const m = entry.manifest;
      const { seed, given } = await seedOf(q.seed);
      const cls = parseClass(m, q.class);
      const scale = scaleWithin(q.scale, m.image.width, m.image.height);
      const key = { version: m.version, pinned: id.includes('@'), what: `sample:s=${seed}${cls === undefined ? '' : `:c=${cls}`}${scaleKey(scale)}` };
      const cached = notModified(c, key, given);
      if (cached) return cached;
      const latents = latentsForSeed(seed, 1, m.latent.size, m.latent.distribution);
      return pngResponse(await renderGrid(registry, entry, latents, 1, 1, classesFor(m, 1, cls), scale), key, seed, given);
    }, rejectInvalid(SampleQuery))
    .openapi(grid, async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const entry = await registry.resolve(id);
      const m = entry.manifest;
      const { seed, given } = await seedOf(q.seed);
      const n = within('n', q.n ?? Math.min(DEFAULT_GRID_SIZE, maxImages(m)), 1, maxImages(m));
      const cols = within('cols', q.cols ?? defaultColumns(n), 1, n);
      // Without a class, a conditional model's grid cycles through the classes: image i has class i mod k.
      const cls = parseClass(m, q.class, true);
      const scale = scaleWithin(q.scale, cols * m.image.width, Math.ceil(n / cols) * m.image.height);
      const key = { version: m.version, pinned: id.includes('@'), what: `grid:s=${seed}:n=${n}:c=${cols}${cls === undefined ? '' : `:k=${cls}`}${scaleKey(scale)}` };
      const cached = notModified(c, key, given);
      if (cached) return cached;
      await chargeImages(c, n);
      const latents = latentsForSeed(seed, n, m.latent.size, m.latent.distribution);
      return pngResponse(await renderGrid(registry, entry, latents, n, cols, classesFor(m, n, cls), scale), key, seed, given);
    }, rejectInvalid(GridQuery))
    .openapi(interpolate, async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const entry = await registry.resolve(id);
      const m = entry.manifest;
      const { seed: from } = await seedOf(q.from);
      const { seed: to } = await seedOf(q.to);
      const steps = within('steps', q.steps, 2, Math.max(2, maxImages(m)));
      const cls = parseClass(m, q.class);
      const scale = scaleWithin(q.scale, steps * m.image.width, m.image.height);
      const key = { version: m.version, pinned: id.includes('@'), what: `interp:f=${from}:t=${to}:k=${steps}${cls === undefined ? '' : `:c=${cls}`}${scaleKey(scale)}` };
      const cached = notModified(c, key, true);
      if (cached) return cached;
      await chargeImages(c, steps);
      const { size, distribution } = m.latent;
      const latents = interpolateLatents(latentsForSeed(from, 1, size, distribution), latentsForSeed(to, 1, size, distribution), steps, distribution);
      return pngResponse(await renderGrid(registry, entry, latents, steps, steps, classesFor(m, steps, cls), scale), key, from, true);
    }, rejectInvalid(InterpolateQuery));
}
