/**
 * CORS for the public API: browsers on any origin (or on an allowlist) may call it and read the seed, version and
 * timing headers. Headers are added to the final response after the route ran (errors and 429s included), with
 * no placeholder response per request as hono/cors makes (measured ~0.2 ms of a ~6 ms sample.png in workerd).
 */
import type { MiddlewareHandler } from 'hono';

export interface CorsOptions {
  /** ['*'] for any origin, or the exact origins allowed. */
  origins: string[];
  methods: string[];
  /** Request headers a browser may send. */
  headers: string[];
  /** Response headers a browser script may read. */
  expose: string[];
  /** How long a browser may keep a preflight answer (seconds). */
  maxAgeSeconds: number;
}

export function cors({ origins, methods, headers, expose, maxAgeSeconds }: CorsOptions): MiddlewareHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const exposed = expose.join(',');
  return async (c, next) => {
    const origin = c.req.header('Origin');
    const allow = any ? '*' : origin && allowed.has(origin) ? origin : null;
    if (c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method')) {
      const h = new Headers({ 'Access-Control-Allow-Methods': methods.join(','), 'Access-Control-Allow-Headers': headers.join(','), 'Access-Control-Max-Age': String(maxAgeSeconds) });
      if (allow) h.set('Access-Control-Allow-Origin', allow);
      if (!any) h.set('Vary', 'Origin');
      return new Response(null, { status: 204, headers: h });
    }
    await next();
    // Responses read from elsewhere (a fetch, the Cache API) may have immutable headers: copy those first.
    let res = c.res;
    try {
      res.headers.set('Access-Control-Expose-Headers', exposed);
    } catch {
      c.res = new Response(res.body, res);
      res = c.res; // Hono's setter stores a copy of what it is given
      res.headers.set('Access-Control-Expose-Headers', exposed);
    }
    if (allow) res.headers.set('Access-Control-Allow-Origin', allow);
    if (!any) res.headers.append('Vary', 'Origin');
  };
}
