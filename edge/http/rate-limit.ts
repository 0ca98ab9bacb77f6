/**
 * Per-client rate limiting of the public API, on the Workers rate-limiting binding (`[[ratelimits]]` in
 * wrangler.toml; miniflare runs the same binding locally). The client is the address Cloudflare puts in
 * `CF-Connecting-IP` (clients cannot set or remove it in production), an IPv6 client by its /64 (one host
 * usually holds a whole /64, so per-address keys would let it rotate freely). Requests without it or from a
 * loopback address only happen locally (`wrangler dev` sets 127.0.0.1, tests set nothing) and are not limited,
 * so local benchmarks and load tests measure the model, not the limiter. A request counts once per
 * IMAGES_PER_CHARGE images it draws (routes call `charge`), so n = 64 costs 8 times what n = 1 does.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HttpError } from '../api/errors.js';

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

/** Images a request may draw for one unit of its client's rate limit. */
export const IMAGES_PER_CHARGE = 8;

/** The rate-limit key of an address: IPv4 as it is, IPv6 by its first 64 bits. */
export function clientKey(address: string): string {
  if (!address.includes(':') || /^::ffff:\d/i.test(address)) return address.replace(/^::ffff:/i, '');
  const [head, tail = ''] = address.toLowerCase().split('::', 2);
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (g.replace(/^0+(?=.)/, '') || '0')).join(':')}::/64`;
}

export function rateLimit({ limiter, limit, periodSeconds }: RateLimitOptions): MiddlewareHandler {
  return async (c, next) => {
    const address = c.req.header('CF-Connecting-IP');
    const key = address && !LOOPBACK.test(address) ? clientKey(address) : null;
    const take = async (units: number) => {
      for (let i = 0; i < units; i++) {
        if (key && !(await limiter.limit({ key })).success) {
          c.header('Retry-After', String(periodSeconds));
          throw new HttpError(429, 'rate_limited', `too many requests: at most ${limit} per ${periodSeconds} s per client (a request of n images counts ceil(n / ${IMAGES_PER_CHARGE})); retry later`, { limit, periodSeconds, imagesPerCharge: IMAGES_PER_CHARGE });
        }
      }
    };
    await take(1);
    c.set(CHARGE, async (images: number) => take(Math.ceil(images / IMAGES_PER_CHARGE) - 1));
    await next();
  };
}

const CHARGE = 'rateLimitCharge';

/** Charges a request that draws `images` images for the units beyond the one every request pays (none unlimited). */
export async function chargeImages(c: Context, images: number): Promise<void> {
  const charge = (c.get as (k: string) => ((n: number) => Promise<void>) | undefined)(CHARGE);
  await charge?.(images);
}
