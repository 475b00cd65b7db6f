import { defineConfig } from 'vitest/config';

/**
 * Tests that must run alone: they restart the PostgreSQL server, or they time something other files would slow.
 * `npm test` runs them after the main run (test/helpers/run-tests.ts), never in parallel with other files.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.exclusive.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
