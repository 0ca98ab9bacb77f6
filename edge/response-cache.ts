/**
 * Seeded image and latent responses are pure functions of (model version, URL), so the worker keeps them in the
 * Workers Cache API (`caches.default`, per data centre; miniflare locally) and answers a repeat without running
 * the model. The key holds the model version and the render version, so a redeployed model never serves an old
 * image, and unseeded (no-store) responses are never stored.
 */
import type { MiddlewareHandler } from 'hono';
import { RENDER_VERSION } from './responses.js';

/** The part of the Workers `Cache` the middleware uses. */
export interface ResponseCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

const MODEL_ROUTE = /^\/v1\/models\/([^/]+)\/[^/]+$/;

export function responseCache(cache: ResponseCache, versionOf: (id: string) => string | undefined): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const route = c.req.method === 'GET' ? MODEL_ROUTE.exec(url.pathname) : null;
    let version: string | undefined;
    try {
      version = route ? versionOf(decodeURIComponent(route[1]!)) : undefined;
    } catch {
      version = undefined;
    }
    if (!version) return next();
    const key = new Request(`https://response-cache.internal/r${RENDER_VERSION}/${version}${url.pathname}${url.search}`);
    const hit = await cache.match(key);
    if (hit) {
      const etag = hit.headers.get('ETag');
      const tags = (c.req.header('If-None-Match') ?? '').split(',').map((t) => t.trim());
      if (etag && (tags.includes(etag) || tags.includes('*'))) {
        return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': hit.headers.get('Cache-Control') ?? '' } });
      }
      const res = new Response(hit.body, hit);
      res.headers.set('Server-Timing', 'cache;desc="hit"');
      return res;
    }
    await next();
    if (c.res.status === 200 && /\bimmutable\b/.test(c.res.headers.get('Cache-Control') ?? '')) {
      const stored = cache.put(key, c.res.clone());
      let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
      try {
        ctx = c.executionCtx;
      } catch {
        ctx = undefined; // app.request() in tests has no execution context
      }
      if (ctx) ctx.waitUntil(stored.catch(() => {}));
      else await stored.catch(() => {});
    }
  };
}
