/**
 * What keeping a warehouse fresh costs: a `run` with no change on a warehouse of 200,000
 * requests (API requests and wall time), and how much of a 20-per-second rate limit a run uses.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { createDatabase, startPostgres } from '../helpers/postgres-server.js'
import { spawnSimulator } from '../helpers/spawn-simulator.js'
import type { SpawnedSimulator } from '../helpers/spawn-simulator.js'

const requestsOnly = {
  requests_v3: { enabled: false },
} as const

const pipelineFor = (
  sim: SpawnedSimulator,
  destination: string,
  extra: Partial<PipelineConfig> = {},
) =>
  resolvePipeline(
    {
      pipelines: {
        bench: {
          token: sim.token,
          baseUrl: sim.url,
          destination,
          resources: requestsOnly,
          ...extra,
        },
      },
    },
    'bench',
    {},
  )

async function counters(
  sim: SpawnedSimulator,
): Promise<{ byRoute: Record<string, number>; rateLimited: number }> {
  const res = await request(`${sim.url}/__admin/counters`, {
    headers: { authorization: `Bearer ${sim.adminToken}` },
  })
  return (await res.body.json()) as { byRoute: Record<string, number>; rateLimited: number }
}

async function resetCounters(sim: SpawnedSimulator): Promise<void> {
  const res = await request(`${sim.url}/__admin/reset-counters`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.adminToken}` },
  })
  await res.body.dump()
}

async function noChangeRun(
  label: string,
  sim: SpawnedSimulator,
  destination: string,
): Promise<void> {
  const pipeline = pipelineFor(sim, destination)
  const first = await runPipeline(pipeline)
  if (first.status !== 'success')
    throw new Error(`initial load ${first.status}: ${first.error?.message}`)
  const session = await pipeline.destination.connect({ readOnly: true })
  const lookbackPages = (await session.readState('bench')).get('requests')?.lookback?.length ?? 0
  await session.close()
  await resetCounters(sim)
  const started = performance.now()
  const again = await runPipeline(pipeline)
  const seconds = (performance.now() - started) / 1000
  if (again.status !== 'success') throw new Error(`no-change run ${again.status}`)
  const byRoute = (await counters(sim)).byRoute
  console.log(
    `${label}: no-change run on ${first.resources.find((r) => r.resource === 'requests')!.records} requests: ` +
      `${again.requests} API requests (requests list ${byRoute.requests ?? 0}, target <= lookback pages ${lookbackPages} + 1; ` +
      `users ${byRoute.users ?? 0}, custom fields ${byRoute['custom-fields'] ?? 0}, sub-statuses ${byRoute['sub-status'] ?? 0}), ` +
      `${seconds.toFixed(2)} s (target < 2 s; initial load took ${first.seconds.toFixed(1)} s)`,
  )
}

async function rateLimitUse(dir: string): Promise<void> {
  const limit = 20
  const sim = await spawnSimulator([
    '--records',
    '30000',
    '--rate-limit',
    String(limit),
    '--rate-window-ms',
    '1000',
  ])
  try {
    const pipeline = pipelineFor(sim, `duckdb:${join(dir, 'rate.duckdb')}`, {
      http: { concurrency: 4 },
    })
    const started = performance.now()
    const result = await runPipeline(pipeline)
    const seconds = (performance.now() - started) / 1000
    const { rateLimited } = await counters(sim)
    // Requests the limit allowed over the run: every started window, the first one partly.
    const allowed = seconds * limit
    console.log(
      `rate limit ${limit}/s with headers: ${result.requests} requests in ${seconds.toFixed(1)} s = ` +
        `${((100 * result.requests) / allowed).toFixed(1)}% of the ${allowed.toFixed(0)} allowed (target >= 95%), ` +
        `${rateLimited} responses 429 (target 0)`,
    )
  } finally {
    await sim.stop()
  }
}

export async function freshnessBench(): Promise<void> {
  console.log('## Freshness: a no-change run on 200,000 requests, and rate-limit use')
  const dir = mkdtempSync(join(tmpdir(), 'thena-bench-fresh-'))
  const server = await startPostgres()
  const sim = await spawnSimulator(['--records', '200000', '--no-rate-limit'])
  try {
    await noChangeRun('DuckDB', sim, `duckdb:${join(dir, 'fresh.duckdb')}`)
    await noChangeRun('Postgres', sim, await createDatabase(server.url))
    await rateLimitUse(dir)
  } finally {
    await sim.stop()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
