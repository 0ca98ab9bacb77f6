/**
 * Seeded image and latent responses are pure functions of (model version, URL), so the worker keeps them, in
 * the isolate's memory (MemoryCache) and in the Workers Cache API (`caches.default`, per data centre; miniflare
 * locally), and answers a repeat without running the model. The key holds the model version and the render version, so a redeployed model never serves an old
 * image, and unseeded (no-store) responses are never stored.
 */
import type { MiddlewareHandler } from 'hono';
import { RENDER_VERSION } from './responses.js';
import { waitUntilOf } from './context.js';
import { pathAndQuery } from './url-parts.js';

/**
 * The part of the Workers `Cache` the middleware uses, keyed by URL strings (the Workers Cache takes those too):
 * building a Request for a key only to read its URL back costs more than the isolate LRU's lookup.
 */
export interface ResponseCache {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

const MODEL_ROUTE = /^\/v1\/models\/([^/]+)\/[^/]+$/;

export function responseCache(cache: ResponseCache, versionOf: (id: string) => string | undefined): MiddlewareHandler {
  return async (c, next) => {
    const url = pathAndQuery(c.req.url);
    const route = c.req.method === 'GET' ? MODEL_ROUTE.exec(url.pathname) : null;
    let version: string | undefined;
    try {
      version = route ? versionOf(decodeURIComponent(route[1]!)) : undefined;
    } catch {
      version = undefined;
    }
    if (!version) return next();
    const keyFor = (v: string) => `https://response-cache.internal/r${RENDER_VERSION}/${v}${url.pathname}${url.search}`;
    const key = keyFor(version);
    const hit = await cache.match(key);
    if (hit) {
      const etag = hit.headers.get('ETag');
      const tags = (c.req.header('If-None-Match') ?? '').split(',').map((t) => t.trim());
      if (etag && (tags.includes(etag) || tags.includes('*'))) {
        return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': hit.headers.get('Cache-Control') ?? '' } });
      }
      return withHeader(hit, 'Server-Timing', 'cache;desc="hit"');
    }
    await next();
    if (c.res.status === 200 && /\bimmutable\b/.test(c.res.headers.get('Cache-Control') ?? '')) {
      // Keyed by the version that produced the response: the model may have switched version during the request.
      const served = c.res.headers.get('X-Model-Version');
      const stored = cache.put(served && served !== version ? keyFor(served) : key, c.res.clone()).catch(() => {});
      const waitUntil = waitUntilOf(c);
      if (waitUntil) waitUntil(stored);
      else await stored;
    }
  };
}

/**
 * `res` with a header set. The isolate LRU's responses are fresh and mutable and are used as they are; the Cache
 * API's have immutable headers and are copied first. Not copying saved ~0.3 ms of a ~3 ms cache hit in workerd
 * (p50 over five alternating rounds: 2.08-3.6 ms against 2.77-3.83).
 */
function withHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}

/**
 * An LRU of responses in the isolate's memory, bounded in bytes: a repeat in the same isolate costs a Map lookup
 * instead of a Cache API round trip. Layered in front of `caches.default` by `layeredCache`.
 */
export class MemoryCache implements ResponseCache {
  private readonly entries = new Map<string, { body: ArrayBuffer; status: number; headers: [string, string][] }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  async match(key: string): Promise<Response | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, e);
    return new Response(e.body.slice(0), { status: e.status, headers: e.headers });
  }

  async put(key: string, response: Response): Promise<void> {
    const body = await response.arrayBuffer();
    if (body.byteLength > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.body.byteLength;
      this.entries.delete(key);
    }
    const headers: [string, string][] = [];
    response.headers.forEach((value, key) => headers.push([key, value]));
    this.entries.set(key, { body, status: response.status, headers });
    this.bytes += body.byteLength;
    for (const [key, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= e.body.byteLength;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

/**
 * Looks in `first`, then `second` (copying a hit into `first`); stores in both. Keys for which `useSecond`
 * says no stay in `first` alone: a lookup in the second costs more than it saves for cheap responses. Errors of the
 * second (bare workerd without a cache service throws "No Cache was configured") count as misses.
 */
export function layeredCache(first: ResponseCache, second: ResponseCache, useSecond: (key: string) => boolean = () => true): ResponseCache {
  return {
    async match(key) {
      const hit = await first.match(key);
      if (hit || !useSecond(key)) return hit;
      // The second layer (the Cache API) failing is a miss: the request renders instead of failing.
      const res = await second.match(key).catch(() => undefined);
      if (res) await first.put(key, res.clone());
      return res;
    },
    async put(key, response) {
      if (!useSecond(key)) return first.put(key, response);
      await Promise.all([first.put(key, response.clone()), second.put(key, response).catch(() => {})]);
    },
  };
}

/**
 * What is worth a Cache API lookup: grids and interpolations (tens of ms of inference). A single image or a
 * latents response renders in about the time a Cache API miss costs (measured: ~6 ms per miss through wrangler
 * dev, sample.png p50 12.4 -> 6.1 ms without it), so those stay in the isolate's LRU only.
 */
export function worthSharedCache(key: string): boolean {
  return !/\/(sample\.png|latents)(\?|$)/.test(key);
}
