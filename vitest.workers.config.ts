import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

/**
 * Tests that run inside the real Workers runtime (workerd), against the worker built from wrangler.toml. The rate
 * limit is lowered (20 requests per 10 s instead of 600 per 60 s) so its test needs tens of requests, not a thousand.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        ratelimits: { RATE_LIMITER: { simple: { limit: 20, period: 10 } } },
        bindings: { RATE_LIMIT: '20', RATE_LIMIT_PERIOD: '10' },
      },
    }),
  ],
  test: {
    include: ['tests/worker/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
