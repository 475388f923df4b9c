import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'

const created: string[] = []

/** Removes every directory `tempDir` made (test/setup/temp-dirs.ts, after each test file). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A fresh directory for a test's DuckDB file, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'thena-sync-test-'))
  created.push(dir)
  return dir
}

/** A pipeline reading from a simulator (or any API with a URL and token) into `destination` (default: a new DuckDB file). */
export function simulatorPipeline(
  sim: Pick<Simulator, 'url' | 'token'>,
  overrides: Partial<PipelineConfig> = {},
  destination = `duckdb:${join(tempDir(), 'thena.duckdb')}`,
): ResolvedPipeline {
  return resolvePipeline(
    {
      pipelines: {
        thena: {
          token: sim.token,
          baseUrl: sim.url,
          destination,
          http: { backoffMs: 5 },
          ...overrides,
        },
      },
    },
    'thena',
    {},
  )
}
