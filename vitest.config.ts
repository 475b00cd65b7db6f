import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'sdk/test/**/*.test.ts'],
    // Run alone afterwards by vitest.exclusive.config.ts (they restart PostgreSQL).
    exclude: [...configDefaults.exclude, 'test/**/*.exclusive.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // Two cores: more parallel files only fight over them, and timing-sensitive e2e tests suffer.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
