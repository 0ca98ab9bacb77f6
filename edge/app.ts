/**
 * The edge API as a Hono app factory: `createApp({ models, runtime })`. The worker entry (worker.ts) passes the
 * bundled models and onnxruntime-web; tests pass whatever they need. Every route validates its input first.
 */
import { Hono } from 'hono';
import { defaultColumns, tileImages } from '../shared/grid.js';
import { latentsForSeed } from '../shared/latent.js';
import { encodePng } from '../shared/png.js';
import type { Manifest } from '../shared/manifest.js';
import { notFound, onError } from './errors.js';
import { latentsToImages } from './generate.js';
import { ModelRegistry } from './model-registry.js';
import type { BundledModel } from './model-source.js';
import { parseInteger, parseSeed, readQuery } from './params.js';
import { notModified, pngResponse } from './responses.js';
import type { InferenceRuntime } from './runtime.js';

export interface AppOptions {
  models: BundledModel[];
  runtime: InferenceRuntime;
}

/** Most images one request may ask for. */
export const MAX_IMAGES = 64;
export const DEFAULT_GRID_SIZE = 16;

/** What clients see of a manifest: no file names, hashes or training internals. */
function publicModel(m: Manifest, base: string) {
  const { config: _config, ...training } = m.training;
  const self = `${base}/v1/models/${m.id}`;
  return {
    id: m.id,
    family: m.family,
    version: m.version,
    createdAt: m.createdAt,
    description: m.description,
    latent: m.latent,
    classes: m.classes,
    image: m.image,
    training,
    links: { sample: `${self}/sample.png?seed=1`, grid: `${self}/grid.png?seed=1&n=${DEFAULT_GRID_SIZE}` },
  };
}

export function createApp({ models, runtime }: AppOptions) {
  const registry = new ModelRegistry(models, runtime);
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);

  app.get('/v1/models', (c) => {
    readQuery(c, []);
    const base = new URL(c.req.url).origin;
    return c.json({ models: registry.available().map((m) => publicModel(m, base)) });
  });

  app.get('/v1/models/:id', (c) => {
    readQuery(c, []);
    const { manifest } = registry.get(c.req.param('id'));
    return c.json(publicModel(manifest, new URL(c.req.url).origin));
  });

  app.get('/v1/models/:id/sample.png', async (c) => {
    const entry = registry.get(c.req.param('id'));
    const q = readQuery(c, ['seed']);
    const { seed, given } = parseSeed(q['seed']);
    const key = { version: entry.manifest.version, what: `sample:s=${seed}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    const m = entry.manifest;
    const pixels = await latentsToImages(m, await registry.session(entry), latentsForSeed(seed, 1, m.latent.size, m.latent.distribution), 1);
    return pngResponse(encodePng({ width: m.image.width, height: m.image.height, channels: m.image.channels, data: pixels }), key, seed, given);
  });

  app.get('/v1/models/:id/grid.png', async (c) => {
    const entry = registry.get(c.req.param('id'));
    const q = readQuery(c, ['seed', 'n', 'cols']);
    const { seed, given } = parseSeed(q['seed']);
    const n = parseInteger('n', q['n'], 1, MAX_IMAGES, DEFAULT_GRID_SIZE);
    const cols = parseInteger('cols', q['cols'], 1, n, defaultColumns(n));
    const key = { version: entry.manifest.version, what: `grid:s=${seed}:n=${n}:c=${cols}` };
    const cached = notModified(c, key, given);
    if (cached) return cached;
    const m = entry.manifest;
    const pixels = await latentsToImages(m, await registry.session(entry), latentsForSeed(seed, n, m.latent.size, m.latent.distribution), n);
    return pngResponse(encodePng(tileImages(pixels, n, m.image, cols)), key, seed, given);
  });

  return app;
}
