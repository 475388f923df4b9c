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
import { measureLoad } from './measure-load.js'
import { createDatabase, startPostgres } from '../helpers/postgres-server.js'
import { spawnSimulator } from '../helpers/spawn-simulator.js'
import type { SpawnedSimulator } from '../helpers/spawn-simulator.js'

/** The default lookback window of `requests`, which the runs here use. */
const LOOKBACK_DAYS = 14

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

interface Counters {
  requests: number
  byRoute: Record<string, number>
  rateLimited: number
  firstRequestAt: number
  lastRequestAt: number
  acceptedPerWindow: Record<string, number>
}

async function counters(sim: SpawnedSimulator): Promise<Counters> {
  const res = await request(`${sim.url}/__admin/counters`, {
    headers: { authorization: `Bearer ${sim.adminToken}` },
  })
  return (await res.body.json()) as Counters
}

/** Changes every request created in the last `days` days (a new `updated_at` each). */
async function updateRecent(sim: SpawnedSimulator, days: number): Promise<number> {
  const res = await request(`${sim.url}/__admin/mutations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.adminToken}` },
    body: JSON.stringify({
      op: 'updateRequests',
      count: 1_000_000,
      createdAfter: new Date(Date.now() - days * 86_400_000).toISOString(),
    }),
  })
  return ((await res.body.json()) as { ids: string[] }).ids.length
}

async function resetCounters(sim: SpawnedSimulator): Promise<void> {
  const res = await request(`${sim.url}/__admin/reset-counters`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.adminToken}` },
  })
  await res.body.dump()
}

/** Both runs in a fresh process each, as `thena-sync run` would be (the requests resource). */
async function noChangeRun(
  label: string,
  sim: SpawnedSimulator,
  destination: string,
): Promise<void> {
  const first = measureLoad(sim, destination)
  const session = await pipelineFor(sim, destination).destination.connect({ readOnly: true })
  const lookbackPages = (await session.readState('bench')).get('requests')?.lookback?.length ?? 0
  await session.close()
  await resetCounters(sim)
  const again = measureLoad(sim, destination)
  const byRoute = (await counters(sim)).byRoute
  console.log(
    `${label}: no-change run on ${first.requests} requests: ${byRoute.requests ?? 0} list requests ` +
      `(target <= lookback pages ${lookbackPages} + 1), ${again.seconds.toFixed(2)} s ` +
      `(target < 2 s; ${(again.unchanged ?? 0) + again.requests} records re-read, ${again.requests} merged: ` +
      `pages unchanged since they were loaded are not merged again; the initial load took ${first.seconds.toFixed(1)} s)`,
  )
  // The other end: every record of the window changed, so every re-read page is merged.
  const updated = await updateRecent(sim, LOOKBACK_DAYS)
  const changed = measureLoad(sim, destination)
  console.log(
    `${label}: the same run after all ${updated} requests of the ${LOOKBACK_DAYS}-day window changed: ` +
      `${changed.seconds.toFixed(2)} s, ${changed.requests} merged`,
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
    await runPipeline(pipeline)
    const c = await counters(sim)
    // The limit is a fixed window aligned to the epoch. The run starts and ends part-way
    // through a window, so the use is measured over the windows in between (gaps count as 0).
    const keys = Object.keys(c.acceptedPerWindow).map(Number)
    const first = Math.min(...keys)
    const last = Math.max(...keys)
    let inner = 0
    for (let w = first + 1; w < last; w++) inner += c.acceptedPerWindow[String(w)] ?? 0
    const innerWindows = last - first - 1
    const served = c.requests - c.rateLimited
    console.log(
      `rate limit ${limit}/s with headers: ${served} requests over ${last - first + 1} windows; ` +
        `the ${innerWindows} full windows carried ${inner} of ${innerWindows * limit} allowed = ` +
        `${((100 * inner) / (innerWindows * limit)).toFixed(1)}% (target >= 95%); ` +
        `${c.rateLimited} responses 429 (target 0)`,
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
