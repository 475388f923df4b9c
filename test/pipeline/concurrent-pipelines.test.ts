/**
 * Several pipelines at once in one process: on one DuckDB file (each in its own dataset) and on
 * one Postgres schema. Every run that reports success is on record, and the warehouse stays
 * readable and exact.
 */
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DuckDbDestination } from '../../destinations/duckdb/index.js'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import type { ResolvedPipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { destinationKind } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { expectWarehouseEqualsTruth, rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

/** Pipelines `a`, `b`, ... on one destination, in the datasets given. */
function pipelines(s: Simulator, destination: string, datasets: readonly string[]) {
  const config = {
    pipelines: Object.fromEntries(
      datasets.map((dataset, i) => [
        String.fromCharCode(97 + i),
        { token: s.token, baseUrl: s.url, destination, dataset, http: { backoffMs: 5 } },
      ]),
    ),
  }
  return datasets.map((_, i) => resolvePipeline(config, String.fromCharCode(97 + i), {}))
}

const loadsOf = async (p: ResolvedPipeline) =>
  rowsOf(
    p,
    `SELECT load_id, status FROM ${p.dataset}._thena_loads WHERE pipeline = '${p.name}' ORDER BY started_at`,
  )

describe('pipelines sharing one DuckDB file, in one process', () => {
  it('two runs started in the same tick take turns: both succeed, both are on record', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 600 }))
    const url = await destinationKind('duckdb').freshUrl()
    const [a, b] = pipelines(s, url, ['thena', 'other'])
    for (let round = 0; round < 3; round++) {
      s.mutate({ op: 'insertRequests', count: 20 })
      const results = await Promise.all([runPipeline(a!), runPipeline(b!)])
      expect(results.map((r) => r.error?.message)).toEqual([undefined, undefined])
      expect(results.map((r) => r.status)).toEqual(['success', 'success'])
      for (const [i, p] of [a!, b!].entries())
        expect(await loadsOf(p)).toContainEqual({ load_id: results[i]!.loadId, status: 'success' })
    }
    await expectWarehouseEqualsTruth(a!, s)
    const [other] = await rowsOf(b!, 'SELECT count(*) AS n FROM other.requests')
    expect(Number(other!.n)).toBe(s.truth.requestCount)
  })

  it('a run stopped while it waits for the file gives up its turn and writes nothing', async () => {
    const s = (sim = await startSimulator({
      rateLimit: false,
      records: 2000,
      faults: { latency: { rate: 1, ms: 10 } },
    }))
    const url = await destinationKind('duckdb').freshUrl()
    const [a, b, c] = pipelines(s, url, ['thena', 'other', 'third'])
    const stop = new AbortController()
    const first = runPipeline(a!)
    const waiting = runPipeline(b!, { signal: stop.signal })
    const third = runPipeline(c!)
    stop.abort()
    const results = await Promise.all([first, waiting, third])
    expect(results.map((r) => r.status)).toEqual(['success', 'interrupted', 'success'])
    const [{ n }] = (await rowsOf(
      a!,
      `SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = 'warehouse' AND schema_name = 'other'`,
    )) as [{ n: string }]
    expect(n).toBe('0')
  })
})

describe('one DuckDB file, one session per process, however it is reached', () => {
  it('through a symlink it is the same file: the second session waits or is busy', async () => {
    const dir = tempDir()
    const file = join(dir, 'w.duckdb')
    const first = await new DuckDbDestination({ path: file }).connect()
    symlinkSync(file, join(dir, 'link.duckdb'))
    try {
      await expect(
        new DuckDbDestination({ path: join(dir, 'link.duckdb') }).connect(),
      ).rejects.toMatchObject({ code: 'destination_busy' })
      await expect(
        new DuckDbDestination({ path: join(dir, 'sub', '..', 'w.duckdb') }).connect(),
      ).rejects.toMatchObject({ code: 'destination_busy' })
    } finally {
      await first.close()
    }
  })

  it('a waiter that gives up leaves the file to the session that holds it', async () => {
    const file = join(tempDir(), 'w.duckdb')
    const destination = new DuckDbDestination({ path: file })
    const holder = await destination.connect()
    const stop = new AbortController()
    const waiter = destination.connect({ wait: true, signal: stop.signal })
    stop.abort()
    await expect(waiter).rejects.toBeDefined()
    await expect(destination.connect()).rejects.toMatchObject({ code: 'destination_busy' })
    await holder.close()
    const next = await destination.connect()
    await next.close()
  })
})

describe('pipelines sharing one Postgres schema', () => {
  it('started together on a fresh database, both create the tables and succeed', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
    const kind = destinationKind('postgres')
    for (let round = 0; round < 4; round++) {
      const [a, b] = pipelines(s, await kind.freshUrl(), ['thena', 'thena'])
      const results = await Promise.all([runPipeline(a!), runPipeline(b!)])
      expect(results.map((r) => r.error?.message)).toEqual([undefined, undefined])
      for (const [i, p] of [a!, b!].entries())
        expect(await loadsOf(p)).toEqual([{ load_id: results[i]!.loadId, status: 'success' }])
      await expectWarehouseEqualsTruth(a!, s)
    }
  })
})
