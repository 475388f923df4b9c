/**
 * What only Postgres has: a server that can drop the connection mid-batch, a login that can be
 * refused, a host that can be unreachable, and text types that cannot hold U+0000.
 */
import { afterEach, describe, expect, inject, it } from 'vitest'
import pg from 'pg'
import { destinationFromUrl } from '../../src/load/destination-registry.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { runCli } from '../helpers/cli.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { createDatabase } from '../helpers/postgres-server.js'
import { expectWarehouseEqualsTruth } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * From a second connection, terminates the run's backend whenever it is inside a batch
 * transaction that has written something (streaming COPY data, or between two statements),
 * at most `maxKills` times. `stop()` resolves to the number of kills.
 */
async function killMidBatch(database: string, maxKills: number) {
  const admin = new pg.Client({ connectionString: inject('postgresUrl') })
  await admin.connect()
  let running = true
  let killed = 0
  const loop = (async () => {
    while (running && killed < maxKills) {
      const { rows } = await admin.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'thena-sync' AND backend_xid IS NOT NULL
           AND (state = 'idle in transaction' OR query ILIKE 'COPY%')`,
        [database],
      )
      killed += rows.filter((r) => r.ok).length
      await sleep(2)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      await admin.end()
      return killed
    },
  }
}

describe('Postgres: faults', () => {
  it('a backend terminated mid-batch rolls the batch back, the commit is retried, and this run and the next are exact', async () => {
    const s = (sim = await startSimulator({
      rateLimit: false,
      records: 1500,
      faults: { latency: { rate: 1, ms: 5 } },
    }))
    const url = await createDatabase(inject('postgresUrl'))
    const database = new URL(url).pathname.slice(1)
    const pipeline = simulatorPipeline(
      s,
      { batchPages: 1, resources: { requests_v3: { enabled: false } } },
      url,
    )
    // Two kills: fewer than the commit's three attempts, so the run must recover by itself.
    const killer = await killMidBatch(database, 2)
    const first = await runPipeline(pipeline)
    expect(await killer.stop()).toBeGreaterThan(0)
    expect(first.error?.message).toBeUndefined()
    expect(first.status).toBe('success')
    await expectWarehouseEqualsTruth(pipeline, s)
    s.mutate({ op: 'insertRequests', count: 20 })
    const next = await runPipeline(pipeline)
    expect(next.status).toBe('success')
    await expectWarehouseEqualsTruth(pipeline, s)
  }, 120_000)

  it('a connection that keeps dropping fails the run with one clear line; the next run is exact', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 600 }))
    const url = await createDatabase(inject('postgresUrl'))
    const pipeline = simulatorPipeline(s, { resources: { requests_v3: { enabled: false } } }, url)
    // Every attempt of the first batch is killed while it streams its rows.
    const killer = await killMidBatch(new URL(url).pathname.slice(1), Infinity)
    const first = await runPipeline(pipeline)
    await killer.stop()
    expect(first.status).toBe('failed')
    expect(first.error?.code).toBe('destination_connection_lost')
    expect(first.error?.message).toMatch(/^the connection to Postgres at 127\.0\.0\.1:\d+ was lost/)
    expect(first.error?.message).not.toContain(new URL(url).password)
    const next = await runPipeline(pipeline)
    expect(next.status).toBe('success')
    await expectWarehouseEqualsTruth(pipeline, s)
  }, 120_000)

  it('a wrong password: non-zero exit, one line naming the host, never the password', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 50 }))
    const server = new URL(inject('postgresUrl'))
    const wrong = new URL(server)
    wrong.password = 'Not-The-Password-77'
    const res = await runCli(['run'], {
      cwd: tempDir(),
      env: { THENA_API_TOKEN: s.token, THENA_BASE_URL: s.url, THENA_DESTINATION: wrong.toString() },
    })
    expect(res.code).toBe(4)
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`127.0.0.1:${server.port}`)
    expect(errors[0]).toContain('refused the login')
    expect(res.stdout + res.stderr).not.toContain('Not-The-Password-77')
    expect(res.stdout + res.stderr).not.toContain(server.password)
  })

  it('an unreachable host: non-zero exit, one line naming the host', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 50 }))
    // A port nothing listens on: the simulator's, once it is stopped, is known to be free.
    const closed = await startSimulator({ rateLimit: false, records: 1 })
    const port = new URL(closed.url).port
    await closed.stop()
    const res = await runCli(['run'], {
      cwd: tempDir(),
      env: {
        THENA_API_TOKEN: s.token,
        THENA_BASE_URL: s.url,
        THENA_DESTINATION: `postgres://postgres:Secret-Pw-1@127.0.0.1:${port}/postgres`,
      },
    })
    expect(res.code).toBe(4)
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('thena-sync:'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`cannot reach Postgres at 127.0.0.1:${port}`)
    expect(res.stdout + res.stderr).not.toContain('Secret-Pw-1')
  })
})

describe('Postgres: text it cannot store', () => {
  it('U+0000 is removed from text and JSON values (Postgres rejects it); everything else is kept', async () => {
    const destination = destinationFromUrl(await createDatabase(inject('postgresUrl')), 'thena')
    const session = await destination.connect()
    try {
      await session.prepare()
      const registry = new SchemaRegistry(destination.capabilities)
      const root = registry.rootTable('notes', 'id')
      registry.column(root, ['id'], 'text')
      registry.column(root, ['body'], 'text')
      registry.column(root, ['meta'], 'json')
      await session.transaction(async (tx) => {
        await tx.applySchema(registry.takeChanges(), 'l1')
        await tx.merge(root.schema, [
          { id: 'n1', body: 'a\u0000b\tc', meta: { k: 'x\u0000y', z: '\\u0000' } },
        ])
      })
      const { rows } = await session.query('SELECT body, meta FROM thena.notes')
      expect(rows[0]!.body).toBe('ab\tc')
      expect(JSON.parse(rows[0]!.meta as string)).toEqual({ k: 'xy', z: '\\u0000' })
    } finally {
      await session.close()
    }
  })
})
