import { defineConfig } from 'vitest/config';

/** Node-side tests: shared contract, trainer, exporter and end-to-end runs. Worker tests: vitest.workers.config.ts. */
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/e2e/**/*.test.ts', 'tests/webgpu/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
