/**
 * The edge API as a Hono app factory: `createApp({ models, runtime })`. The worker entry (worker.ts) passes the
 * bundled models and onnxruntime-web; tests pass whatever they need. Every route validates its input first;
 * every error goes through the one handler in errors.ts.
 */
import { Hono } from 'hono';
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
  /** Where seeded responses are kept (the worker passes `caches.default`). */
  cache?: ResponseCache;
}

export function createApp({ models, runtime, rateLimit: limits, cache }: AppOptions) {
  const registry = new ModelRegistry(models, runtime);
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);
  if (limits) app.use('/v1/*', rateLimit(limits));
  if (cache) app.use('/v1/models/*', responseCache(cache, (id) => registry.versionOf(id)));
  app.route('/v1/models', modelRoutes(registry));
  app.route('/v1/models', imageRoutes(registry));
  app.route('/v1/models', latentRoutes(registry));
  app.route('/v1/models', vaeRoutes(registry));
  return app;
}
