import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    globalSetup: ['test/setup/postgres.ts'],
    setupFiles: ['test/setup/temp-dirs.ts'],
    pool: 'forks',
    // Two files at once even on two cores (vitest would run one): most tests wait on child
    // processes, simulators and Postgres, not on the CPU. Measured on a 2-core machine: 742 s
    // for the suite against 1,015 s one file at a time.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
