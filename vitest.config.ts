import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    globalSetup: ['test/setup/postgres.ts'],
    setupFiles: ['test/setup/temp-dirs.ts'],
    pool: 'forks',
    // Three files at once even on two cores (vitest would run one): most tests wait on child
    // processes, simulators and Postgres, not on the CPU. Measured on a 2-core machine: 742 s
    // for the suite with two against 1,015 s one file at a time; with the suite grown to 1,066 s
    // on two, a third file takes up the waiting.
    maxWorkers: 3,
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
})
