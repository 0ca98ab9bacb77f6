/** GET /v1/models and /v1/models/{id}: what clients may know of each model, to pick one. */
import { Hono } from 'hono';
import type { Manifest } from '../../shared/manifest.js';
import type { ModelRegistry } from '../model-registry.js';
import { readQuery } from '../params.js';
import { DEFAULT_GRID_SIZE } from '../query-schema.js';

/** A manifest without file names, hashes or the training config. */
export function publicModel(m: Manifest, origin: string) {
  const { config: _config, ...training } = m.training;
  const self = `${origin}/v1/models/${m.id}`;
  const cls = m.classes.count > 0 ? '&class=0' : '';
  return {
    id: m.id,
    family: m.family,
    version: m.version,
    createdAt: m.createdAt,
    description: m.description,
    latent: m.latent,
    classes: m.classes,
    image: m.image,
    canEncode: Boolean(m.graphs.encoder),
    training,
    // The model card's numbers (npm run eval), null until the model has been measured.
    evaluation: m.evaluation ?? null,
    links: {
      sample: `${self}/sample.png?seed=1${cls}`,
      grid: `${self}/grid.png?seed=1&n=${DEFAULT_GRID_SIZE}`,
      interpolate: `${self}/interpolate.png?from=1&to=2&steps=8${cls}`,
    },
  };
}

export function modelRoutes(registry: ModelRegistry): Hono {
  const app = new Hono();
  app.get('/', (c) => {
    readQuery(c, []);
    const origin = new URL(c.req.url).origin;
    return c.json({ models: registry.available().map((m) => publicModel(m, origin)) });
  });
  app.get('/:id', (c) => {
    readQuery(c, []);
    return c.json(publicModel(registry.get(c.req.param('id')).manifest, new URL(c.req.url).origin));
  });
  return app;
}
