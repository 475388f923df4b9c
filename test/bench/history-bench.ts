/**
 * What history costs (`resources.requests.history`): on 100,000 requests in DuckDB and in
 * Postgres, a `run` after 1% of the requests changed (recent ones, in its lookback) and one
 * with no change, then a `reconcile` (every record re-read and merged) after 1% changed anywhere
 * and one with no change, each with history on and off: seconds, rows written to the current
 * table and to the history table.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Table from 'cli-table3'
import { request } from 'undici'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import type { RunMode } from '../../src/pipeline/run-pipeline.js'
import { createDatabase, startPostgres } from '../helpers/postgres-server.js'
import { spawnSimulator } from '../helpers/spawn-simulator.js'
import type { SpawnedSimulator } from '../helpers/spawn-simulator.js'

const RECORDS = 100_000
const CHANGED = RECORDS / 100

const pipelineFor = (sim: SpawnedSimulator, destination: string, history: boolean) =>
  resolvePipeline(
    {
      pipelines: {
        bench: {
          token: sim.token,
          baseUrl: sim.url,
          destination,
          resources: { requests_v3: { enabled: false }, requests: { history } },
        },
      },
    },
    'bench',
    {},
  )

/** Versions in `requests_history`, and how many of them are closed (0, 0 without history). */
async function historyCounts(p: ResolvedPipeline): Promise<{ rows: number; closed: number }> {
  if (!p.resources.find((r) => r.name === 'requests')!.history) return { rows: 0, closed: 0 }
  const session = await p.destination.connect()
  try {
    const { rows } = await session.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE NOT _thena_is_current) AS closed FROM thena.requests_history`,
    )
    return { rows: Number(rows[0]!.n), closed: Number(rows[0]!.closed) }
  } catch {
    // Not created yet: before the first run.
    return { rows: 0, closed: 0 }
  } finally {
    await session.close()
  }
}

interface Measured {
  readonly seconds: number
  /** Root rows merged into `requests`. */
  readonly current: number
  /** Versions opened (rows inserted) and closed (rows updated) in `requests_history`. */
  readonly opened: number
  readonly closed: number
}

async function measure(p: ResolvedPipeline, mode: RunMode): Promise<Measured> {
  const before = await historyCounts(p)
  const started = performance.now()
  const result = await runPipeline(p, { mode, resources: ['requests'] })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 'success') throw new Error(`${mode}: ${result.error?.message}`)
  const after = await historyCounts(p)
  return {
    seconds,
    current: result.resources.find((r) => r.resource === 'requests')!.records,
    opened: after.rows - before.rows,
    closed: after.closed - before.closed,
  }
}

async function mutate(sim: SpawnedSimulator, body: object): Promise<number> {
  const res = await request(`${sim.url}/__admin/mutations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.adminToken}` },
    body: JSON.stringify(body),
  })
  return ((await res.body.json()) as { ids: string[] }).ids.length
}

export async function historyBench(): Promise<void> {
  console.log(`## History: ${RECORDS.toLocaleString('en')} requests, history off and on`)
  const dir = mkdtempSync(join(tmpdir(), 'thena-bench-history-'))
  const server = await startPostgres()
  const sim = await spawnSimulator(['--records', String(RECORDS), '--no-rate-limit'])
  try {
    const warehouses = [
      { label: 'DuckDB', url: (name: string) => `duckdb:${join(dir, `${name}.duckdb`)}` },
      { label: 'Postgres', url: (_name: string) => createDatabase(server.url) },
    ]
    const runs: { label: string; history: boolean; p: ResolvedPipeline }[] = []
    for (const w of warehouses)
      for (const history of [false, true])
        runs.push({
          label: w.label,
          history,
          p: pipelineFor(sim, await w.url(history ? 'on' : 'off'), history),
        })
    const figures = new Map<string, Measured[]>()
    const step = async (mode: RunMode) => {
      for (const r of runs) {
        const key = `${r.label} ${r.history}`
        figures.set(key, [...(figures.get(key) ?? []), await measure(r.p, mode)])
      }
    }
    await step('run')
    // 1% changed among recent requests, which `run` re-reads (its 14-day lookback), then the
    // same number anywhere, which only `reconcile` reads.
    const recent = new Date(Date.now() - 10 * 86_400_000).toISOString()
    const changedRecent = await mutate(sim, {
      op: 'updateRequests',
      count: CHANGED,
      salt: 2,
      createdAfter: recent,
    })
    await step('run')
    await step('run')
    const changed = await mutate(sim, { op: 'updateRequests', count: CHANGED, salt: 1 })
    await step('reconcile')
    await step('reconcile')
    const table = new Table({
      head: ['', 'history', 'seconds', 'rows: current', 'history: opened', 'history: closed'],
    })
    const steps = [
      'first load (run)',
      `run, ${changedRecent.toLocaleString('en')} recent changed (1%)`,
      'run, no change',
      `reconcile, ${changed.toLocaleString('en')} changed (1%)`,
      'reconcile, no change',
    ]
    for (const [s, name] of steps.entries())
      for (const r of runs) {
        const m = figures.get(`${r.label} ${r.history}`)![s]!
        table.push([
          `${r.label}: ${name}`,
          r.history ? 'on' : 'off',
          m.seconds.toFixed(1),
          m.current.toLocaleString('en'),
          r.history ? m.opened.toLocaleString('en') : '-',
          r.history ? m.closed.toLocaleString('en') : '-',
        ])
      }
    console.log(table.toString())
  } finally {
    await sim.stop()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
