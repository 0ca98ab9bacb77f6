/**
 * Per-client rate limiting of the public API, on the Workers rate-limiting binding (`[[ratelimits]]` in
 * wrangler.toml; miniflare runs the same binding locally). The client is the address Cloudflare puts in
 * `CF-Connecting-IP` (clients cannot set or remove it in production). Requests without it or from a loopback
 * address only happen locally (`wrangler dev` sets 127.0.0.1, tests set nothing) and are not limited, so local
 * benchmarks and load tests measure the model, not the limiter.
 */
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.js';

/** The binding's interface (a `RateLimit` in @cloudflare/workers-types). */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export interface RateLimitOptions {
  limiter: RateLimiter;
  /** What wrangler.toml configures, for the error message and Retry-After. */
  limit: number;
  periodSeconds: number;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export function rateLimit({ limiter, limit, periodSeconds }: RateLimitOptions): MiddlewareHandler {
  return async (c, next) => {
    const client = c.req.header('CF-Connecting-IP');
    if (client && !LOOPBACK.test(client) && !(await limiter.limit({ key: client })).success) {
      c.header('Retry-After', String(periodSeconds));
      throw new HttpError(429, 'rate_limited', `too many requests: at most ${limit} per ${periodSeconds} s per client; retry later`, { limit, periodSeconds });
    }
    await next();
  };
}
