import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/**
 * Tests that run inside the real Workers runtime (workerd), against the worker built from wrangler.toml. The rate
 * limit is lowered (20 requests per 10 s instead of 600 per 60 s) so its test needs tens of requests, not a thousand.
 * The R2 model registry is miniflare's local R2.
 */
// At least 32 characters: a shorter ADMIN_TOKEN disables the admin API (edge/app.ts).
const ADMIN_TOKEN_FOR_TESTS = 'test-admin-token-7f3c-0123456789abcdef';
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        ratelimits: { RATE_LIMITER: { namespace_id: '1001', simple: { limit: 20, period: 10 } } },
        // The admin API's token, and a 1 s registry sync so a test sees another isolate's activation quickly.
        bindings: { RATE_LIMIT: '20', RATE_LIMIT_PERIOD: '10', ADMIN_TOKEN: ADMIN_TOKEN_FOR_TESTS, MODEL_SYNC_SECONDS: '1' },
      },
    }),
  ],
  test: {
    include: ['tests/worker/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
