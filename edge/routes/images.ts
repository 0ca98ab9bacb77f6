/** GET sample.png, grid.png and interpolate.png: seeded images, cacheable forever when the seed is given. */
import { Hono } from 'hono';
import { defaultColumns } from '../../shared/grid.js';
import { interpolateLatents, latentsForSeed } from '../../shared/latent.js';
import type { ModelRegistry } from '../model-registry.js';
import { classesFor, intParam, parseClass, parseSeed, readQuery } from '../params.js';
import { QUERIES } from '../query-schema.js';
import { notModified, pngResponse } from '../responses.js';
import { chargeImages } from '../rate-limit.js';
import { maxImages, renderGrid, scaleKey, scaleParam } from './shared.js';

export function imageRoutes(registry: ModelRegistry): Hono {
  const app = new Hono();

  app.get('/:id/sample.png', async (c) => {
    const entry = await registry.resolve(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, Object.keys(QUERIES.sample));
    const { seed, given } = await parseSeed(q['seed']);
    const cls = parseClass(m, q['class']);
    const scale = scaleParam(q, m.image.width, m.image.height);
    const key = { version: m.version, pinned: c.req.param('id').includes('@'), what: `sample:s=${seed}${cls === undefined ? '' : `:c=${cls}`}${scaleKey(scale)}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    const latents = latentsForSeed(seed, 1, m.latent.size, m.latent.distribution);
    return pngResponse(await renderGrid(registry, entry, latents, 1, 1, classesFor(m, 1, cls), scale), key, seed, given);
  });

  app.get('/:id/grid.png', async (c) => {
    const entry = await registry.resolve(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, Object.keys(QUERIES.grid));
    const { seed, given } = await parseSeed(q['seed']);
    const n = intParam(q, 'n', QUERIES.grid.n, { max: maxImages(m), default: Math.min(QUERIES.grid.n.default, maxImages(m)) });
    const cols = intParam(q, 'cols', QUERIES.grid.cols, { max: n, default: defaultColumns(n) });
    // Without a class, a conditional model's grid cycles through the classes: image i has class i mod k.
    const cls = parseClass(m, q['class'], true);
    const scale = scaleParam(q, cols * m.image.width, Math.ceil(n / cols) * m.image.height);
    const key = { version: m.version, pinned: c.req.param('id').includes('@'), what: `grid:s=${seed}:n=${n}:c=${cols}${cls === undefined ? '' : `:k=${cls}`}${scaleKey(scale)}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    await chargeImages(c, n);
    const latents = latentsForSeed(seed, n, m.latent.size, m.latent.distribution);
    return pngResponse(await renderGrid(registry, entry, latents, n, cols, classesFor(m, n, cls), scale), key, seed, given);
  });

  app.get('/:id/interpolate.png', async (c) => {
    const entry = await registry.resolve(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, Object.keys(QUERIES.interpolate));
    const { seed: from } = await parseSeed(q['from'], 'from', false);
    const { seed: to } = await parseSeed(q['to'], 'to', false);
    const steps = intParam(q, 'steps', QUERIES.interpolate.steps, { max: Math.max(2, maxImages(m)) });
    const cls = parseClass(m, q['class']);
    const scale = scaleParam(q, steps * m.image.width, m.image.height);
    const key = { version: m.version, pinned: c.req.param('id').includes('@'), what: `interp:f=${from}:t=${to}:k=${steps}${cls === undefined ? '' : `:c=${cls}`}${scaleKey(scale)}` };
    const cached = notModified(c, key, true);
    if (cached) return cached;
    await chargeImages(c, steps);
    const { size, distribution } = m.latent;
    const latents = interpolateLatents(latentsForSeed(from, 1, size, distribution), latentsForSeed(to, 1, size, distribution), steps, distribution);
    return pngResponse(await renderGrid(registry, entry, latents, steps, steps, classesFor(m, steps, cls), scale), key, from, true);
  });

  return app;
}
