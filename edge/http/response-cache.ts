/**
 * Seeded image and latent responses are pure functions of (model version, URL), so the worker keeps them, in
 * the isolate's memory (MemoryCache) and in the Workers Cache API (`caches.default`, per data centre; miniflare
 * locally), and answers a repeat without running the model. The key holds the model version (the one serving now
 * for an unversioned URL, the named one for `id@version`) and the render version: an activation or rollback
 * changes the key, so no layer serves a stale version. Entries are stored as immutable (their key pins them); a hit
 * gets the Cache-Control of the URL it answers (responses.ts). Unseeded (no-store) responses are never stored.
 */
import type { MiddlewareHandler } from 'hono';
import { cacheControl, PINNED_CACHE_CONTROL, RENDER_VERSION } from './responses.js';
import { waitUntilOf } from './context.js';
import { pathAndQuery } from './url-parts.js';
import { LRUCache } from 'lru-cache';

/**
 * The part of the Workers `Cache` the middleware uses, keyed by URL strings (the Workers Cache takes those too):
 * building a Request for a key only to read its URL back costs more than the isolate LRU's lookup.
 */
export interface ResponseCache {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

const MODEL_ROUTE = /^\/v1\/models\/([^/]+)\/[^/]+$/;

export function responseCache(cache: ResponseCache, versionOf: (ref: string) => string | undefined): MiddlewareHandler {
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
    const keyFor = (v: string) => `https://response-cache.internal/r${RENDER_VERSION}/${v}${url.pathname.replace(/@[^/]*/, '')}${url.search}`;
    const key = keyFor(version);
    const caching = cacheControl(route![1]!.includes('@'));
    const hit = await cache.match(key);
    if (hit) {
      const etag = hit.headers.get('ETag');
      const tags = (c.req.header('If-None-Match') ?? '').split(',').map((t) => t.trim());
      if (etag && (tags.includes(etag) || tags.includes('*'))) return new Response(null, { status: 304, headers: { ETag: etag, 'Cache-Control': caching } });
      return withHeaders(hit, { 'Server-Timing': 'cache;desc="hit"', 'Cache-Control': caching });
    }
    await next();
    if (c.res.status === 200 && c.res.headers.has('ETag') && c.res.headers.get('Cache-Control') !== 'no-store') {
      // Keyed by the version that produced the response: the model may have switched version during the request.
      const served = c.res.headers.get('X-Model-Version');
      const copy = c.res.clone();
      const entry = new Response(copy.body, copy);
      entry.headers.set('Cache-Control', PINNED_CACHE_CONTROL);
      const stored = cache.put(served && served !== version ? keyFor(served) : key, entry).catch(() => {});
      const waitUntil = waitUntilOf(c);
      if (waitUntil) waitUntil(stored);
      else await stored;
    }
  };
}

/**
 * `res` with headers set. The isolate LRU's responses are fresh and mutable and are used as they are; the Cache
 * API's have immutable headers and are copied first. Not copying saved ~0.3 ms of a ~3 ms cache hit in workerd
 * (p50 over five alternating rounds: 2.08-3.6 ms against 2.77-3.83).
 */
function withHeaders(res: Response, headers: Record<string, string>): Response {
  let out = res;
  try {
    for (const [k, v] of Object.entries(headers)) out.headers.set(k, v);
  } catch {
    out = new Response(res.body, res);
    for (const [k, v] of Object.entries(headers)) out.headers.set(k, v);
  }
  return out;
}

/**
 * An LRU of responses in the isolate's memory, bounded in bytes: a repeat in the same isolate costs a Map lookup
 * instead of a Cache API round trip. Layered in front of `caches.default` by `layeredCache`.
 */
export class MemoryCache implements ResponseCache {
  // lru-cache bounds the entries by their bodies' bytes (maxSize) and drops the least recently used first.
  private readonly entries: LRUCache<string, CachedResponse>;

  constructor(private readonly maxBytes: number) {
    this.entries = new LRUCache<string, CachedResponse>({ maxSize: maxBytes, sizeCalculation: (e) => Math.max(1, e.body.byteLength) });
  }

  async match(key: string): Promise<Response | undefined> {
    const e = this.entries.get(key);
    return e ? new Response(e.body.slice(0), { status: e.status, headers: e.headers }) : undefined;
  }

  async put(key: string, response: Response): Promise<void> {
    const body = await response.arrayBuffer();
    // A response over a quarter of the budget would push out many small ones for one large one.
    if (body.byteLength > this.maxBytes / 4) return;
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => headers.push([name, value]));
    this.entries.set(key, { body, status: response.status, headers });
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
  }
}

interface CachedResponse {
  body: ArrayBuffer;
  status: number;
  headers: [string, string][];
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
