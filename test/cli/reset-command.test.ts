import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { runCli, startCli, firstCommit } from '../helpers/cli.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { expectWarehouseEqualsTruth, rowsOf, stateOf } from '../helpers/truth.js'

const sims: Simulator[] = []
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop()
})

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ rateLimit: false, records: 150, ...options })
  sims.push(s)
  return s
}

const envFor = (s: Simulator, destination: string) => ({
  THENA_API_TOKEN: s.token,
  THENA_BASE_URL: s.url,
  THENA_DESTINATION: destination,
})

const pipelineFor = (s: Simulator, destination: string) =>
  resolvePipeline(
    { pipelines: { thena: { token: s.token, baseUrl: s.url, destination } } },
    'thena',
    {},
  )

/** The `thena-sync:` lines of a command's stderr (its errors). */
const errorsOf = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))

/** Names of the tables in the warehouse's `thena` schema (views aside), sorted. */
async function tablesIn(url: string, s: Simulator): Promise<string[]> {
  const rows = await rowsOf(
    pipelineFor(s, url),
    `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'thena' AND table_type = 'BASE TABLE' ORDER BY 1`,
  )
  return rows.map((r) => String(r.t))
}

describe('thena-sync reset (CLI): what it refuses', () => {
  it('without --resource or --all, or with an unknown resource: exit 2 naming --resource and the known ones, nothing opened', async () => {
    const s = await start()
    const dir = tempDir()
    const url = await DESTINATION_KINDS[0]!.freshUrl()
    const env = envFor(s, url)
    const none = await runCli(['reset'], { cwd: dir, env })
    expect(none.code).toBe(2)
    expect(errorsOf(none.stderr)).toEqual([
      'thena-sync: --resource: say which resources to reset (known: sub_statuses, custom_fields, users, requests, requests_v3), or --all for every one',
    ])
    const unknown = await runCli(['reset', '--resource', 'requests', 'tickets'], { cwd: dir, env })
    expect(unknown.code).toBe(2)
    expect(errorsOf(unknown.stderr)).toEqual([
      'thena-sync: --resource: no resource `tickets` in thena; known: sub_statuses, custom_fields, users, requests, requests_v3',
    ])
    const both = await runCli(['reset', '--all', '--resource', 'users'], { cwd: dir, env })
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('--all')
    // A reset of a warehouse that does not exist is a mistake, not a success.
    const missing = await runCli(['reset', '--all'], { cwd: dir, env })
    expect(missing.code).toBe(4)
    expect(errorsOf(missing.stderr)[0]).toContain('no warehouse at')
    expect(s.counters.requests).toBe(0)
  })
})

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync reset (CLI) on ${kind.name}`, () => {
    it('clears the state of one resource, records a reset load; the next run walks it whole and merges', async () => {
      const s = await start()
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envFor(s, url)
      const pipeline = pipelineFor(s, url)
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const before = await stateOf(pipeline)
      expect(before.get('requests')?.position?.cursor).toBeTruthy()
      // A warehouse made before `_thena_loads` had its `details` column gets it.
      await rowsOf(pipeline, 'ALTER TABLE thena._thena_loads DROP COLUMN details')

      const reset = await runCli(['reset', '--resource', 'requests'], { cwd: dir, env })
      expect(errorsOf(reset.stderr)).toEqual([])
      expect(reset.code).toBe(0)
      expect(reset.stdout).toMatch(
        /^thena: reset requests \(saved state cleared: requests\) \[load /,
      )
      const after = await stateOf(pipeline)
      expect(after.has('requests')).toBe(false)
      expect(after.get('requests_v3')).toEqual(before.get('requests_v3'))
      const [load] = await rowsOf(
        pipeline,
        `SELECT command, status, records, requests, details FROM thena._thena_loads ORDER BY started_at DESC LIMIT 1`,
      )
      expect(load).toMatchObject({ command: 'reset', status: 'success', records: '0' })
      expect(JSON.parse(String(load!.details))).toEqual({
        resources: ['requests'],
        cleared: ['requests'],
        droppedTables: [],
      })
      // The tables are kept.
      expect(await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')).toEqual([
        { n: '150' },
      ])

      s.mutate({ op: 'insertRequests', count: 5 })
      const again = await runCli(['run'], { cwd: dir, env })
      expect(again.code).toBe(0)
      // The whole list was read again (155 records), and merged on the key: no row twice.
      expect(again.stdout).toMatch(/^ {2}requests\s+155 records/m)
      expect((await stateOf(pipeline)).get('requests')?.records).toBe(155)
      expect(await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')).toEqual([
        { n: '155' },
      ])
      await expectWarehouseEqualsTruth(pipeline, s)
    }, 120_000)

    it('--drop-tables needs --yes (exit 2, nothing changed); with it the tables go, and the next run makes them again', async () => {
      const s = await start()
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envFor(s, url)
      const pipeline = pipelineFor(s, url)
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const tables = await tablesIn(url, s)
      const own = tables.filter((t) => t === 'requests' || t.startsWith('requests__'))
      expect(own).toContain('requests__custom_fields')
      const state = await stateOf(pipeline)

      const refused = await runCli(['reset', '--resource', 'requests', '--drop-tables'], {
        cwd: dir,
        env,
      })
      expect(refused.code).toBe(2)
      expect(errorsOf(refused.stderr)).toEqual([
        'thena-sync: --drop-tables: deletes the tables of the reset resources and every row in them; add --yes to confirm (reset never asks)',
      ])
      expect(await tablesIn(url, s)).toEqual(tables)
      expect(await stateOf(pipeline)).toEqual(state)

      const dropped = await runCli(['reset', '--resource', 'requests', '--drop-tables', '--yes'], {
        cwd: dir,
        env,
      })
      expect(errorsOf(dropped.stderr)).toEqual([])
      expect(dropped.code).toBe(0)
      expect(dropped.stdout).toContain(`dropped ${own.length} tables: `)
      expect(await tablesIn(url, s)).toEqual(tables.filter((t) => !own.includes(t)))
      const history = await rowsOf(
        pipeline,
        `SELECT DISTINCT table_name FROM thena._thena_schema_history ORDER BY 1`,
      )
      expect(history.map((r) => r.table_name)).toEqual(
        tables.filter((t) => !t.startsWith('_thena_') && !own.includes(t)),
      )
      expect((await stateOf(pipeline)).has('requests')).toBe(false)
      const [load] = await rowsOf(
        pipeline,
        `SELECT details FROM thena._thena_loads WHERE command = 'reset'`,
      )
      const details = JSON.parse(String(load!.details)) as { droppedTables: string[] }
      expect([...details.droppedTables].sort()).toEqual([...own].sort())
      // Children go before their parents.
      expect(details.droppedTables.at(-1)).toBe('requests')

      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      expect(await tablesIn(url, s)).toEqual(tables)
      await expectWarehouseEqualsTruth(pipeline, s)
    }, 120_000)

    it('cursors the API rejects name their resources and `reset`; the other resources load; after the reset the run succeeds', async () => {
      const first = await start({ seed: 1 })
      const dir = tempDir()
      const url = await kind.freshUrl()
      expect((await runCli(['run'], { cwd: dir, env: envFor(first, url) })).code).toBe(0)
      // Another tenant (another seed) knows none of the saved cursors.
      const other = await start({ seed: 2 })
      const env = envFor(other, url)
      const pipeline = pipelineFor(other, url)
      const failed = await runCli(['run'], { cwd: dir, env })
      expect(failed.code).toBe(4)
      const errors = errorsOf(failed.stderr)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(
        'resources requests, requests_v3: the API refused the saved cursor each resumed from (first: GET ',
      )
      expect(errors[0]).toContain('HTTP 400: {"message":"Invalid cursor"}')
      expect(errors[0]).toContain(
        'start them over with `thena-sync reset --pipeline thena --resource requests requests_v3`',
      )
      const [load] = await rowsOf(
        pipeline,
        `SELECT status, error, records FROM thena._thena_loads ORDER BY started_at DESC LIMIT 1`,
      )
      expect(load!.status).toBe('failed')
      expect(load!.error).toContain('thena-sync reset --pipeline thena --resource requests')
      // Resources that resumed nowhere were still loaded from the new API.
      expect(failed.stdout).toMatch(/^ {2}users\s+[1-9]\d* records/m)
      expect(Number(load!.records)).toBeGreaterThan(0)

      const one = await runCli(['reset', '--resource', 'requests', '--drop-tables', '--yes'], {
        cwd: dir,
        env,
      })
      expect(one.code).toBe(0)
      const still = errorsOf((await runCli(['run'], { cwd: dir, env })).stderr)
      expect(still).toHaveLength(1)
      expect(still[0]).toContain('resource requests_v3: the API refused the saved cursor this run')
      expect(still[0]).toContain(
        'start requests_v3 over with `thena-sync reset --pipeline thena --resource requests_v3`',
      )
      await expectWarehouseEqualsTruth(pipeline, other)

      const reset = await runCli(['reset', '--resource', 'requests_v3', '--drop-tables', '--yes'], {
        cwd: dir,
        env,
      })
      expect(reset.code).toBe(0)
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      await expectWarehouseEqualsTruth(pipeline, other)
      await expectWarehouseEqualsTruth(pipeline, other, 'requests_v3')
    }, 120_000)

    it('is refused while a run holds the pipeline (exit 4), and changes nothing', async () => {
      const s = await start({ records: 3000, faults: { latency: { rate: 1, ms: 25 } } })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envFor(s, url)
      const { child, done } = startCli(['run'], { cwd: dir, env })
      await firstCommit(child)
      const busy = await runCli(['reset', '--resource', 'requests'], { cwd: dir, env })
      expect(busy.code).toBe(4)
      expect(errorsOf(busy.stderr)).toHaveLength(1)
      expect(errorsOf(busy.stderr)[0]).toMatch(
        kind.name === 'duckdb'
          ? /is in use by a run in progress: retry when it has finished/
          : /pipeline thena is running in another process .* retry when it has finished/,
      )
      expect((await done).code).toBe(0)
      const pipeline = pipelineFor(s, url)
      expect((await stateOf(pipeline)).get('requests')?.position?.cursor).toBeTruthy()
      expect(
        await rowsOf(
          pipeline,
          `SELECT count(*) AS n FROM thena._thena_loads WHERE command = 'reset'`,
        ),
      ).toEqual([{ n: '0' }])
    }, 60_000)
  })
}
