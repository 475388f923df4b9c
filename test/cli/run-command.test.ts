import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterEach, describe, expect, it } from 'vitest'
import { resolvePipeline } from '../../src/config/resolve-pipeline.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { runCli, startCli, firstCommit } from '../helpers/cli.js'
import { DESTINATION_KINDS, dumpWarehouse } from '../helpers/destinations.js'
import { tempDir } from '../helpers/pipeline.js'
import { expectWarehouseEqualsTruth, rowsOf } from '../helpers/truth.js'

const TOKEN = 'tok-Very-Secret-4242-abcdef'
let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({ rateLimit: false, token: TOKEN, records: 300, ...options })
  return sim
}

const duckdbIn = (dir: string) => `duckdb:${join(dir, 'thena.duckdb')}`

const envFor = (s: Simulator, dir: string, token = s.token, destination = duckdbIn(dir)) => ({
  THENA_API_TOKEN: token,
  THENA_BASE_URL: s.url,
  THENA_DESTINATION: destination,
})

const pipelineFor = (s: Simulator, dir: string, destination = duckdbIn(dir)) =>
  resolvePipeline(
    { pipelines: { thena: { token: s.token, baseUrl: s.url, destination } } },
    'thena',
    {},
  )

/** Every byte the run left on disk, to look for the token in. */
const filesText = (dir: string) =>
  readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n')

describe('thena-sync run (CLI)', () => {
  it('a refused token: exit code 3, one clear line, nothing written', async () => {
    const s = await start()
    const dir = tempDir()
    const res = await runCli(['run'], { cwd: dir, env: envFor(s, dir, `${TOKEN}-wrong`) })
    expect(res.code).toBe(3)
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain('refused the token (HTTP 401)')
    expect(res.stdout + res.stderr).not.toContain(TOKEN)
    expect(existsSync(join(dir, 'thena.duckdb'))).toBe(false)
  })

  it('a missing token is a config error naming the variables that enable each pipeline, before any request (exit 2)', async () => {
    const s = await start()
    const dir = tempDir()
    const env = { THENA_BASE_URL: s.url, THENA_DESTINATION: `duckdb:${join(dir, 'x.duckdb')}` }
    const res = await runCli(['run'], { cwd: dir, env })
    expect(res.code).toBe(2)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    expect(res.stderr.trim()).toBe(
      'thena-sync: no pipeline to run: each runs once its key is set: THENA_API_TOKEN (thena), THENA_PLATFORM_API_KEY (platform, workflows); export one (or try `thena-sync demo`, which needs none)',
    )
    const named = await runCli(['run', '--pipeline', 'thena'], { cwd: dir, env })
    expect(named.code).toBe(2)
    expect(named.stderr).toContain(
      'pipeline `thena` is disabled: it runs once THENA_API_TOKEN is set',
    )
    expect(s.counters.requests).toBe(0)
    const bad = await runCli(['run'], {
      cwd: dir,
      env: { ...envFor(s, dir), THENA_DESTINATION: 'mysql://x' },
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('THENA_DESTINATION: expected')
  })
})

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync run (CLI) into ${kind.name}`, () => {
    it('loads everything, logs structured lines off a TTY, and never shows or stores the token', async () => {
      const s = await start()
      const dir = tempDir()
      const url = await kind.freshUrl()
      const res = await runCli(['run'], { cwd: dir, env: envFor(s, dir, s.token, url) })
      expect(res.stderr).not.toContain('thena-sync:')
      expect(res.code).toBe(0)
      expect(res.stdout).toMatch(/thena: success — \d+ records/)
      const lines = res.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines.at(-1)).toMatchObject({ event: 'run', status: 'success' })
      await expectWarehouseEqualsTruth(pipelineFor(s, dir, url), s)
      const everything =
        res.stdout + res.stderr + filesText(dir) + dumpWarehouse(pipelineFor(s, dir, url))
      expect(everything).not.toContain(TOKEN)
    })

    it('SIGKILLed at random moments, then re-run: exactly the truth, nothing lost or doubled', async () => {
      const s = await start({ records: 3000, faults: { latency: { rate: 1, ms: 25 } } })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envFor(s, dir, s.token, url)
      // Deterministic "random" kill times spread over a run's life, counted from its first commit.
      for (const delay of [0, 150, 400, 60, 700]) {
        const { child, done } = startCli(['run'], { cwd: dir, env })
        await firstCommit(child)
        await new Promise((r) => setTimeout(r, delay))
        child.kill('SIGKILL')
        const res = await done
        expect(res.code === 0 || res.signal === 'SIGKILL').toBe(true)
        if (res.signal === 'SIGKILL') {
          // The dead run's row still says `running`; status knows its process is gone.
          const status = await runCli(['status', '--json'], { cwd: dir, env })
          const [last] = (JSON.parse(status.stdout) as { loads: { status: string }[] }).loads
          expect(last!.status).toBe('stale')
        }
        s.mutate({ op: 'insertRequests', count: 7 })
      }
      const final = await runCli(['run'], { cwd: dir, env })
      expect(final.code).toBe(0)
      const pipeline = pipelineFor(s, dir, url)
      await expectWarehouseEqualsTruth(pipeline, s)
      await expectWarehouseEqualsTruth(pipeline, s, 'requests_v3')
      const loads = await rowsOf(
        pipeline,
        'SELECT status, count(*) AS n FROM thena._thena_loads GROUP BY 1 ORDER BY 1',
      )
      expect(loads.find((l) => l.status === 'running')).toBeUndefined()
      // The kills did land mid-run: those runs were left `running` and are now marked aborted.
      expect(Number(loads.find((l) => l.status === 'aborted')?.n ?? 0)).toBeGreaterThanOrEqual(3)
      // Their lock rows had a heartbeat from their last commit, and were taken over.
      const [beats] = await rowsOf(
        pipeline,
        `SELECT count(*) AS n FROM thena._thena_loads WHERE status = 'aborted' AND heartbeat_at >= started_at`,
      )
      expect(Number(beats!.n)).toBeGreaterThanOrEqual(3)
    }, 120_000)

    it('SIGTERM finishes the current batch, commits, and exits 130; the next run completes', async () => {
      const s = await start({ records: 3000, faults: { latency: { rate: 1, ms: 25 } } })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envFor(s, dir, s.token, url)
      const { child, done } = startCli(['run'], { cwd: dir, env })
      await firstCommit(child)
      if (kind.name === 'postgres') {
        // Postgres can be read during a run: a live run is `running`, not stale.
        const status = await runCli(['status', '--json'], { cwd: dir, env })
        const [live] = (JSON.parse(status.stdout) as { loads: { status: string }[] }).loads
        expect(live!.status).toBe('running')
      }
      child.kill('SIGTERM')
      const res = await done
      expect(res.code).toBe(130)
      expect(res.stdout).toContain('interrupted')
      const pipeline = pipelineFor(s, dir, url)
      const [load] = await rowsOf(pipeline, 'SELECT status FROM thena._thena_loads')
      expect(load!.status).toBe('interrupted')
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      await expectWarehouseEqualsTruth(pipeline, s)
    }, 60_000)
  })
}

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync query and status (CLI) on ${kind.name}`, () => {
    it('query prints a table, JSON or CSV; status shows loads, rows, cursors', async () => {
      const s = await start({ records: 120 })
      const dir = tempDir()
      const env = envFor(s, dir, s.token, await kind.freshUrl())
      const early = await runCli(['query', 'select 1'], { cwd: dir, env })
      expect(early.code).toBe(4)
      expect(early.stderr).toContain('no warehouse at')
      expect(existsSync(join(dir, 'thena.duckdb'))).toBe(false)
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      const sql = 'select status, count(*) as n from thena.requests group by 1 order by 1'
      const table = await runCli(['query', sql], { cwd: dir, env })
      expect(table.code).toBe(0)
      expect(table.stdout).toMatch(/status.*n/)
      const json = JSON.parse(
        (await runCli(['query', sql, '--format', 'json'], { cwd: dir, env })).stdout,
      ) as { n: string }[]
      expect(json.reduce((sum, r) => sum + Number(r.n), 0)).toBe(120)
      const csv = (
        await runCli(['query', "select 'a,b' as x, 'say \"hi\"' as y", '--format', 'csv'], {
          cwd: dir,
          env,
        })
      ).stdout
      expect(csv.trim()).toBe('x,y\r\n"a,b","say ""hi"""')
      const bad = await runCli(['query', 'select * from thena.nope'], { cwd: dir, env })
      expect(bad.code).toBe(4)
      expect(bad.stderr.trim().split('\n')).toHaveLength(1)
      const status = JSON.parse((await runCli(['status', '--json'], { cwd: dir, env })).stdout) as {
        loads: { status: string }[]
        tables: { table: string; rows: number }[]
        resources: { resource: string; cursor: string | null }[]
      }
      expect(status.loads[0]!.status).toBe('success')
      expect(status.tables.find((t) => t.table === 'requests')!.rows).toBe(120)
      expect(status.resources.find((r) => r.resource === 'requests')!.cursor).toBeTruthy()
      const human = await runCli(['status'], { cwd: dir, env })
      expect(human.stdout).toContain('Rows per table')
    })
  })
}

for (const kind of DESTINATION_KINDS) {
  describe(`thena-sync reconcile, backfill and status (CLI) on ${kind.name}`, () => {
    it('reconcile soft-deletes; backfill checks its flags; status shows every resource', async () => {
      const s = await start({ records: 300 })
      const dir = tempDir()
      const url = await kind.freshUrl()
      const env = envFor(s, dir, s.token, url)
      expect((await runCli(['run'], { cwd: dir, env })).code).toBe(0)
      s.mutate({ op: 'deleteRequests', count: 3 })
      const reconcile = await runCli(['reconcile'], { cwd: dir, env })
      expect(reconcile.code).toBe(0)
      expect(reconcile.stdout).toContain('6 soft-deleted')
      const bad = await runCli(['backfill', '--from', 'yesterday'], { cwd: dir, env })
      expect(bad.code).toBe(2)
      expect(bad.stderr.trim()).toBe(
        'thena-sync: --from: expected a date like 2026-01-31 or 2026-01-31T12:00:00Z, got `yesterday`',
      )
      const unknown = await runCli(['backfill', '--resource', 'tickets'], { cwd: dir, env })
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain('--resource: no resource `tickets`')
      const backfill = await runCli(
        ['backfill', '--resource', 'requests', '--from', '2020-01-01', '--to', '2099-12-31'],
        { cwd: dir, env },
      )
      expect(backfill.code).toBe(0)
      expect(backfill.stdout).toMatch(/requests\s+297 records/)
      const status = JSON.parse((await runCli(['status', '--json'], { cwd: dir, env })).stdout) as {
        loads: { command: string; status: string }[]
        resources: Record<string, unknown>[]
      }
      expect(status.loads.map((l) => l.command).slice(0, 3)).toEqual([
        'backfill',
        'reconcile',
        'run',
      ])
      const requests = status.resources.find((r) => r.resource === 'requests')!
      expect(requests).toMatchObject({
        sync: 'incremental',
        lookbackDays: 14,
        rows: 300,
        softDeleted: 3,
        rejects: 0,
      })
      expect(requests.cursor).toBeTruthy()
      expect(requests.lastReconcile).toBeTruthy()
      expect(requests.lastCompleteRun).toBeTruthy()
      const users = status.resources.find((r) => r.resource === 'users')!
      expect(users).toMatchObject({ sync: 'full', lookbackDays: null, softDeleted: 0 })
      const human = await runCli(['status'], { cwd: dir, env })
      expect(human.stdout).toMatch(/lastReconcile/)
      // An API that suddenly lists nothing: the guard holds until the deletion is confirmed.
      s.mutate({ op: 'deleteRequests', ids: [...s.truth.requests()].map((r) => r.id as string) })
      const guarded = await runCli(['reconcile'], { cwd: dir, env })
      expect(guarded.code).toBe(4)
      const lines = guarded.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain('reconcile would soft-delete 297 of the 297 rows of requests')
      const confirmed = await runCli(['reconcile', '--allow-mass-delete'], { cwd: dir, env })
      expect(confirmed.code).toBe(0)
      expect(confirmed.stdout).toMatch(/\d+ soft-deleted/)
    })
  })
}

describe('thena-sync query during a run (CLI, DuckDB)', () => {
  it('says the file is busy and when to retry, then works once the run is done', async () => {
    const s = await start({ records: 3000, faults: { latency: { rate: 1, ms: 25 } } })
    const dir = tempDir()
    const env = envFor(s, dir)
    const { child, done } = startCli(['run'], { cwd: dir, env })
    await firstCommit(child)
    const busy = await runCli(['query', 'select count(*) from thena.requests'], { cwd: dir, env })
    expect(busy.code).toBe(4)
    expect(busy.stderr.trim()).toMatch(
      /^thena-sync: duckdb:.* is in use by a run in progress: retry when it has finished/,
    )
    expect((await done).code).toBe(0)
    expect((await runCli(['query', 'select 1 AS one'], { cwd: dir, env })).code).toBe(0)
  }, 60_000)
})

describe('thena-sync demo (CLI)', () => {
  it('needs no token: the three APIs simulated, run into ./thena.duckdb, sample queries; run again, it starts over', async () => {
    const dir = tempDir()
    const res = await runCli(['demo', '--records', '200', '--tickets', '40'], { cwd: dir })
    expect(res.code).toBe(0)
    for (const pipeline of ['thena', 'platform', 'workflows'])
      expect(res.stdout).toContain(`${pipeline}: success`)
    expect(res.stdout).toMatch(/status\s.*requests/)
    // Tickets joined to their accounts: one row per account, with its ticket count.
    expect(res.stdout).toMatch(/account\s.*tickets\s.*high_or_urgent/)
    expect(res.stdout).toContain('JOIN thena_platform.accounts a ON a.id = t.account_id')
    expect(existsSync(join(dir, 'thena.duckdb'))).toBe(true)
    const again = await runCli(['demo', '--records', '300', '--tickets', '20'], { cwd: dir })
    expect(again.code).toBe(0)
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: dir })).stdout) as {
      loads: { command: string }[]
      tables: { table: string; rows: number }[]
    }
    expect(status.loads.map((l) => l.command)).toEqual(['demo'])
    expect(status.tables.find((t) => t.table === 'requests')!.rows).toBe(300)
    const platform = JSON.parse(
      (await runCli(['status', '--json', '--pipeline', 'platform'], { cwd: dir })).stdout,
    ) as typeof status
    expect(platform.loads.map((l) => l.command)).toEqual(['demo'])
    expect(platform.tables.find((t) => t.table === 'tickets')!.rows).toBe(20)
    const joined = await runCli(
      [
        'query',
        'select count(*) as n from thena_workflows.workflow_tasks t join thena_workflows.workflow_executions e on e.id = t.execution_id',
        '--format',
        'json',
      ],
      { cwd: dir },
    )
    expect(Number((JSON.parse(joined.stdout) as { n: unknown }[])[0]!.n)).toBeGreaterThan(0)
  })

  it('never touches a real warehouse: THENA_DESTINATION is ignored, a real ./thena.duckdb is refused by name', async () => {
    const s = await start({ records: 120 })
    const elsewhere = tempDir()
    const real = duckdbIn(elsewhere)
    expect((await runCli(['run'], { cwd: elsewhere, env: envFor(s, elsewhere) })).code).toBe(0)
    const before = readFileSync(join(elsewhere, 'thena.duckdb'))
    // Exported, as it would be in a shell used for real runs.
    const dir = tempDir()
    const res = await runCli(['demo', '--records', '100', '--tickets', '10'], {
      cwd: dir,
      env: { THENA_DESTINATION: real },
    })
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('demo ignores THENA_DESTINATION')
    expect(existsSync(join(dir, 'thena.duckdb'))).toBe(true)
    expect(readFileSync(join(elsewhere, 'thena.duckdb')).equals(before)).toBe(true)
    // In the folder of the real warehouse: refused, naming the file; nothing written.
    const refused = await runCli(['demo', '--records', '100', '--tickets', '10'], {
      cwd: elsewhere,
    })
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim()).toBe(
      'thena-sync: demo: ./thena.duckdb holds loads made by other commands than `demo`; demo writes only to a warehouse of its own: run it in another folder, or pass --file demo.duckdb',
    )
    expect(readFileSync(join(elsewhere, 'thena.duckdb')).equals(before)).toBe(true)
    // A DuckDB file that is no thena-sync warehouse at all is refused too; --file picks another.
    const plain = await DuckDBInstance.create(join(elsewhere, 'plain.duckdb'))
    const conn = await plain.connect()
    await conn.run('CREATE TABLE mine AS SELECT 42 AS answer')
    conn.closeSync()
    plain.closeSync()
    const notOurs = await runCli(['demo', '--file', 'plain.duckdb'], { cwd: elsewhere })
    expect(notOurs.code).toBe(2)
    expect(notOurs.stderr).toContain('plain.duckdb is not a thena-sync demo warehouse')
    // A demo file into which another pipeline loaded its own dataset is not the demo's either.
    const shared = tempDir()
    expect(
      (await runCli(['demo', '--records', '50', '--tickets', '10'], { cwd: shared })).code,
    ).toBe(0)
    const other = resolvePipeline(
      {
        pipelines: {
          other: {
            token: s.token,
            baseUrl: s.url,
            destination: duckdbIn(shared),
            dataset: 'support',
          },
        },
      },
      'other',
      {},
    )
    expect((await runPipeline(other)).status).toBe('success')
    const mixed = await runCli(['demo', '--records', '50', '--tickets', '10'], { cwd: shared })
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toContain(
      "holds tables outside the demo's schemas (`thena`, `thena_platform`, `thena_workflows`)",
    )
    const kept = await rowsOf(other, 'SELECT count(*) AS n FROM support.requests')
    expect(Number(kept[0]!.n)).toBe(120)
    const own = await runCli(
      ['demo', '--records', '50', '--tickets', '10', '--file', 'demo.duckdb'],
      {
        cwd: elsewhere,
      },
    )
    expect(own.code).toBe(0)
    expect(own.stdout).toContain('THENA_DESTINATION=duckdb:demo.duckdb npx thena-sync query')
    const loads = await rowsOf(pipelineFor(s, elsewhere), 'SELECT command FROM thena._thena_loads')
    expect(loads).toEqual([{ command: 'run' }])
  })
})
