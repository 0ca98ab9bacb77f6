import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

/** Tests that run inside the real Workers runtime (workerd), against the worker built from wrangler.toml. */
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
  test: {
    include: ['tests/worker/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
