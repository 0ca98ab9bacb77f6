/**
 * The edge API as a Hono app factory: `createApp({ models, runtime })`. The worker entry (worker.ts) passes the
 * bundled models and onnxruntime-web; tests pass whatever they need. Every route validates its input first;
 * every error goes through the one handler in errors.ts.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { openApiDocument, DOCS_PAGE } from './openapi.js';
import { PLAYGROUND_PAGE } from './playground.js';
import { readQuery } from './params.js';
import { notFound, onError } from './errors.js';
import { ModelRegistry } from './model-registry.js';
import type { ModelSource } from './model-source.js';
import type { InferenceRuntime } from './runtime.js';
import { rateLimit, type RateLimitOptions } from './rate-limit.js';
import { responseCache, type ResponseCache } from './response-cache.js';
import { imageRoutes } from './routes/images.js';
import { latentRoutes } from './routes/latents.js';
import { modelRoutes } from './routes/models.js';
import { vaeRoutes } from './routes/vae.js';

export interface AppOptions {
  models: ModelSource[];
  runtime: InferenceRuntime;
  /** Per-client limits on the public API (the worker passes its rate-limiting binding). */
  rateLimit?: RateLimitOptions;
  /** Where seeded responses are kept (the worker passes an isolate LRU in front of `caches.default`). */
  cache?: ResponseCache;
  /** Origins browsers may call the public API from: ['*'] (the default) or an allowlist. */
  corsOrigins?: string[];
}

export function createApp({ models, runtime, rateLimit: limits, cache, corsOrigins = ['*'] }: AppOptions) {
  const registry = new ModelRegistry(models, runtime);
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);
  // CORS first, so that preflights and errors (429 included) carry the headers a browser needs to read them.
  app.use('/v1/*', cors({
    origin: corsOrigins.includes('*') ? '*' : corsOrigins,
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'If-None-Match'],
    exposeHeaders: ['X-Seed', 'X-Model-Version', 'ETag', 'Server-Timing', 'Retry-After'],
    maxAge: 86400,
  }));
  if (limits) app.use('/v1/*', rateLimit(limits));
  if (cache) app.use('/v1/models/*', responseCache(cache, (id) => registry.versionOf(id)));
  app.route('/v1/models', modelRoutes(registry));
  app.route('/v1/models', imageRoutes(registry));
  app.route('/v1/models', latentRoutes(registry));
  app.route('/v1/models', vaeRoutes(registry));
  app.get('/v1/openapi.json', (c) => {
    readQuery(c, []);
    return c.json(openApiDocument(new URL(c.req.url).origin));
  });
  app.get('/', (c) => c.html(PLAYGROUND_PAGE));
  app.get('/v1/docs', (c) => {
    readQuery(c, []);
    return c.html(DOCS_PAGE);
  });
  return app;
}
