/**
 * The edge API as a Hono app factory: `createApp({ models, runtime })`. The worker entry (worker.ts) passes the
 * bundled models and onnxruntime-web; tests pass whatever they need. Every route validates its input first;
 * every error goes through the one handler in errors.ts.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { htmlPage } from './http/pages.js';
import { openApiDocument } from './api/openapi.js';
import { cors } from './http/cors.js';
import { noQuery } from './http/validation.js';
import { waitUntilOf } from './http/context.js';
import { HttpError, notFound, onError } from './api/errors.js';
import { ModelRegistry, parseModelRef } from './registry/registry.js';
import { manifestRef, type ModelSource } from './registry/source.js';
import type { ModelStore } from './registry/store.js';
import { ModelSync } from './registry/sync.js';
import type { InferenceRuntime } from '../shared/runtime.js';
import { rateLimit, type RateLimitOptions } from './http/rate-limit.js';
import { responseCache, type ResponseCache } from './http/response-cache.js';
import { imageRoutes } from './routes/images.js';
import { latentRoutes } from './routes/latents.js';
import { ADMIN_ROUTES, adminRoutes } from './routes/admin.js';
import { modelRoutes } from './routes/models.js';
import { vaeRoutes } from './routes/vae.js';

export interface AppOptions {
  models: ModelSource[];
  runtime: InferenceRuntime;
  /**
   * Bundled versions that a re-export replaced (trainer/export/retire.ts): served at their pinned URLs
   * (`{id}@{version}`) only, loaded on demand into the pinned cache, so an embedded avatar never breaks.
   */
  retired?: ModelSource[];
  /** Per-client limits on the public API (the worker passes its rate-limiting binding). */
  rateLimit?: RateLimitOptions;
  /** Where seeded responses are kept (the worker passes an isolate LRU in front of `caches.default`). */
  cache?: ResponseCache;
  /** Origins browsers may call the public API from: ['*'] (the default) or an allowlist. */
  corsOrigins?: string[];
  /**
   * The R2 model registry: versions activated there override the bundled models of the same id, followed within
   * `syncSeconds` (default 30). With `adminToken` too, the admin API under /v1/admin/ manages it.
   */
  store?: ModelStore;
  syncSeconds?: number;
  adminToken?: string;
  /** onnxruntime-web's browser files for the playground's on-device inference, served at /ort/{file}. */
  browserOrt?: StaticFiles;
  /** The playground page at / (its HTML) and its script and styles at /pages/{file}. */
  playground?: StaticFiles & { html: string };
  /** The API docs page at /v1/docs (edge/pages/api-docs.html), which renders /v1/openapi.json. */
  docsPage?: string;
}

/** A shorter ADMIN_TOKEN turns the admin API off (with a logged reason): it must not be guessable. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Files served by name from somewhere else (the worker's static assets). */
export interface StaticFiles {
  files: string[];
  read(file: string): Promise<Response | null>;
}

/** GET {prefix}{file} for the files `source` has; a 404 listing them otherwise. */
function serveFiles(app: OpenAPIHono, prefix: string, source: StaticFiles | undefined): void {
  app.get(`${prefix}:file`, async (c) => {
    const file = c.req.param('file') ?? '';
    const res = source?.files.includes(file) ? await source.read(file) : null;
    if (!res) throw new HttpError(404, 'not_found', `no file ${prefix}${file.slice(0, 60)}`, source?.files ?? []);
    return res;
  });
}

/** The public API (/v1/models/...), typed route by route: `hc<PublicApi>` (hono/client) is its client. */
export function publicApi(registry: ModelRegistry) {
  return new OpenAPIHono()
    .route('/v1/models', modelRoutes(registry))
    .route('/v1/models', imageRoutes(registry))
    .route('/v1/models', latentRoutes(registry))
    .route('/v1/models', vaeRoutes(registry));
}
export type PublicApi = ReturnType<typeof publicApi>;

export function createApp({ models, retired = [], runtime, rateLimit: limits, cache, corsOrigins = ['*'], store, syncSeconds = 30, adminToken, browserOrt, playground, docsPage }: AppOptions) {
  const registry = new ModelRegistry(models, runtime);
  // Version-pinned URLs of versions this isolate does not serve load them, into the pinned cache: a bundled version
  // that a re-export replaced (its pinned URLs must keep their bytes), else one from the R2 registry.
  const retiredByRef = new Map(retired.map((source) => [manifestRef(source.manifest), source]));
  if (store || retiredByRef.size > 0) registry.loadVersion = async (id, version) => {
    const kept = retiredByRef.get(`${id}@${version}`);
    if (kept) return kept;
    const manifest = store ? await store.manifest(id, version) : null;
    return manifest === null ? null : store!.source(id, version, manifest);
  };
  const sync = store ? new ModelSync(registry, store, { intervalMs: syncSeconds * 1000 }) : null;
  const app = new OpenAPIHono();
  app.onError(onError);
  app.notFound(notFound);
  // nosniff, Referrer-Policy, X-Frame-Options and friends on every response (Hono's secure-headers). Images must
  // stay embeddable by any site: Cross-Origin-Resource-Policy cross-origin, not the middleware's same-origin.
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin', crossOriginOpenerPolicy: false, originAgentCluster: false }));
  // A version this request may be using is not released before it finishes (edge/registry/holds.ts).
  app.use('*', async (_c, next) => {
    const done = registry.begin();
    try {
      await next();
    } finally {
      done();
    }
  });
  if (sync) {
    app.use('*', async (c, next) => {
      await sync.beforeRequest(waitUntilOf(c));
      await next();
    });
  }
  // CORS first, so that preflights and errors (429 included) carry the headers a browser needs to read them.
  app.use('/v1/*', cors({
    origins: corsOrigins,
    methods: ['GET', 'POST', 'OPTIONS'],
    headers: ['Content-Type', 'If-None-Match'],
    expose: ['X-Seed', 'X-Model-Version', 'ETag', 'Server-Timing', 'Retry-After'],
    maxAgeSeconds: 86400,
  }));
  if (limits) app.use('/v1/*', rateLimit(limits));
  // The admin API after CORS and the rate limiter (Hono runs middleware in registration order): it gets both.
  if (adminToken !== undefined && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    console.error(`admin API disabled: ADMIN_TOKEN has ${adminToken.length} characters, at least ${MIN_ADMIN_TOKEN_LENGTH} are required (e.g. openssl rand -hex 32)`);
  }
  if (store && sync && adminToken && adminToken.length >= MIN_ADMIN_TOKEN_LENGTH) app.route('/v1/admin', adminRoutes({ token: adminToken, store, registry, sync, runtime }));
  else {
    app.all('/v1/admin/*', () => {
      throw new HttpError(404, 'not_found', `the admin API is disabled: it needs the MODELS R2 bucket binding and an ADMIN_TOKEN secret of at least ${MIN_ADMIN_TOKEN_LENGTH} characters (see README)`);
    });
  }
  if (cache) app.use('/v1/models/*', responseCache(cache, (ref) => {
    const { id, version } = parseModelRef(ref);
    return version ?? registry.versionOf(id);
  }));
  const api = publicApi(registry);
  app.route('/', api);
  app.get('/v1/openapi.json', noQuery, (c) => c.json(openApiDocument(api, ADMIN_ROUTES, new URL(c.req.url).origin)));
  app.get('/', (c) => {
    if (!playground) throw new HttpError(404, 'not_found', 'no playground in this deployment; see GET /v1/models and /v1/docs');
    return htmlPage(c, playground.html);
  });
  serveFiles(app, '/ort/', browserOrt);
  serveFiles(app, '/pages/', playground);
  app.get('/v1/docs', noQuery, (c) => {
    if (!docsPage) throw new HttpError(404, 'not_found', 'no docs page in this deployment; the API is described at GET /v1/openapi.json');
    return htmlPage(c, docsPage);
  });
  return app;
}
