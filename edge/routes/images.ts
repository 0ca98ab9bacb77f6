/** GET sample.png, grid.png and interpolate.png: seeded images, cacheable forever when the seed is given. */
import { Hono } from 'hono';
import { defaultColumns } from '../../shared/grid.js';
import { interpolateLatents, latentsForSeed } from '../../shared/latent.js';
import { MAX_SEED } from '../../shared/rng.js';
import type { ModelRegistry } from '../model-registry.js';
import { classesFor, parseClass, parseInteger, parseSeed, readQuery } from '../params.js';
import { notModified, pngResponse } from '../responses.js';
import { DEFAULT_GRID_SIZE, maxImages, renderGrid } from './shared.js';

export function imageRoutes(registry: ModelRegistry): Hono {
  const app = new Hono();

  app.get('/:id/sample.png', async (c) => {
    const entry = registry.get(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, ['seed', 'class']);
    const { seed, given } = parseSeed(q['seed']);
    const cls = parseClass(m, q['class']);
    const key = { version: m.version, what: `sample:s=${seed}${cls === undefined ? '' : `:c=${cls}`}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    const latents = latentsForSeed(seed, 1, m.latent.size, m.latent.distribution);
    return pngResponse(await renderGrid(registry, entry, latents, 1, 1, classesFor(m, 1, cls)), key, seed, given);
  });

  app.get('/:id/grid.png', async (c) => {
    const entry = registry.get(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, ['seed', 'n', 'cols', 'class']);
    const { seed, given } = parseSeed(q['seed']);
    const n = parseInteger('n', q['n'], 1, maxImages(m), Math.min(DEFAULT_GRID_SIZE, maxImages(m)));
    const cols = parseInteger('cols', q['cols'], 1, n, defaultColumns(n));
    // Without a class, a conditional model's grid cycles through the classes: image i has class i mod k.
    const cls = parseClass(m, q['class'], true);
    const key = { version: m.version, what: `grid:s=${seed}:n=${n}:c=${cols}${cls === undefined ? '' : `:k=${cls}`}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    const latents = latentsForSeed(seed, n, m.latent.size, m.latent.distribution);
    return pngResponse(await renderGrid(registry, entry, latents, n, cols, classesFor(m, n, cls)), key, seed, given);
  });

  app.get('/:id/interpolate.png', async (c) => {
    const entry = registry.get(c.req.param('id'));
    const m = entry.manifest;
    const q = readQuery(c, ['from', 'to', 'steps', 'class']);
    const from = parseInteger('from', q['from'], 0, MAX_SEED);
    const to = parseInteger('to', q['to'], 0, MAX_SEED);
    const steps = parseInteger('steps', q['steps'], 2, Math.max(2, maxImages(m)), 8);
    const cls = parseClass(m, q['class']);
    const key = { version: m.version, what: `interp:f=${from}:t=${to}:k=${steps}${cls === undefined ? '' : `:c=${cls}`}` };
    const cached = notModified(c, key, true);
    if (cached) return cached;
    const { size, distribution } = m.latent;
    const latents = interpolateLatents(latentsForSeed(from, 1, size, distribution), latentsForSeed(to, 1, size, distribution), steps, distribution);
    return pngResponse(await renderGrid(registry, entry, latents, steps, steps, classesFor(m, steps, cls)), key, from, true);
  });

  return app;
}
