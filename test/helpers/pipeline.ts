import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import type { Simulator } from '../../src/simulator/index.js'

/** A fresh directory for a test's DuckDB file. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'thena-sync-test-'))

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
