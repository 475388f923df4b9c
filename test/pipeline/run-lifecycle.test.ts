/**
 * The run lifecycle as a unit: the lock, the preflight request, the `running` row and the
 * takeover of a stale one, and what a run that cannot begin leaves behind.
 */
import { existsSync } from 'node:fs'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { openRun } from '../../src/pipeline/run-lifecycle.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { createDatabase } from '../helpers/postgres-server.js'
import { rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const start = async () => (sim = await startSimulator({ rateLimit: false, records: 50 }))

describe('openRun', () => {
  it('on a new warehouse: one request first, then the file, the lock and a running row', async () => {
    const s = await start()
    const pipeline = simulatorPipeline(s)
    const run = await openRun(pipeline, {})
    if (!('session' in run)) throw new Error(`did not open: ${run.result.error?.message}`)
    try {
      expect(run.http.stats.requests).toBe(1)
      const { rows } = await run.session.query('SELECT status, command FROM thena._thena_loads')
      expect(rows).toEqual([{ status: 'running', command: 'run' }])
      // The preflight response is the first page of the first resource, used once.
      const first = pipeline.resources[0]!
      const plan = { query: {} } as Parameters<typeof run.prefetched>[1]
      expect(run.prefetched(first, plan).size).toBe(1)
      expect(run.prefetched(pipeline.resources[1]!, plan).size).toBe(0)
      expect(run.prefetched(first, { ...plan, query: { created_after: 'x' } }).size).toBe(0)
      await run.finish('success')
    } finally {
      await run.close()
    }
    expect(await rowsOf(pipeline, 'SELECT status FROM thena._thena_loads')).toEqual([
      { status: 'success' },
    ])
  })

  it('a refused token on a new warehouse writes nothing at all, not even the file', async () => {
    const s = await start()
    const pipeline = simulatorPipeline({ url: s.url, token: 'wrong' })
    const run = await openRun(pipeline, {})
    expect('session' in run).toBe(false)
    if ('session' in run) return
    expect(run.result).toMatchObject({ status: 'failed', loadId: '', resources: [] })
    expect(run.result.error?.code).toBe('http_unauthorized')
    expect(existsSync(pipeline.destination.description.slice('duckdb:'.length))).toBe(false)
  })

  it('a second run finds the pipeline busy before making any request (Postgres lock)', async () => {
    const s = await start()
    const pipeline = simulatorPipeline(s, {}, await createDatabase(inject('postgresUrl')))
    const first = await openRun(pipeline, {})
    if (!('session' in first)) throw new Error('first run did not open')
    try {
      const requestsBefore = s.counters.requests
      const second = await openRun(pipeline, {})
      expect('session' in second).toBe(false)
      if ('session' in second) return
      expect(second.result.error?.code).toMatch(/pipeline_busy|destination_busy/)
      expect(s.counters.requests).toBe(requestsBefore)
    } finally {
      await first.finish('success')
      await first.close()
    }
  })

  it('takes over a running row a killed run left behind: it becomes aborted', async () => {
    const s = await start()
    const pipeline = simulatorPipeline(s)
    const killed = await openRun(pipeline, {})
    if (!('session' in killed)) throw new Error('did not open')
    // As if the process died: the lock goes with the session, the running row stays.
    await killed.session.unlock('thena')
    await killed.session.close()
    await killed.http.close()
    const next = await openRun(pipeline, {})
    if (!('session' in next)) throw new Error(`did not open: ${next.result.error?.message}`)
    await next.finish('success')
    await next.close()
    const rows = await rowsOf(
      pipeline,
      'SELECT load_id, status FROM thena._thena_loads ORDER BY started_at',
    )
    expect(rows.map((r) => r.status)).toEqual(['aborted', 'success'])
    expect(rows[1]!.load_id).not.toBe(rows[0]!.load_id)
  })
})
