/**
 * End to end into Postgres: N simulated requests fetched, validated, normalized and loaded,
 * against a raw text COPY of the very rows that run wrote (the reference); then the
 * staging-upsert rate of re-loading every request with changed values.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'
import { destinationFromUrl } from '../../src/load/destination-registry.js'
import { Normalizer } from '../../src/normalize/normalizer.js'
import { SchemaRegistry } from '../../src/normalize/schema-registry.js'
import { thenaSource } from '../../sources/thena/index.js'
import { createDatabase, startPostgres } from '../helpers/postgres-server.js'
import type { PostgresServer } from '../helpers/postgres-server.js'
import { spawnSimulator } from '../helpers/spawn-simulator.js'
import { availableParallelism } from 'node:os'
import { cpuLine, measureFetchOnly, measureLoad, writeTruthNdjson } from './measure-load.js'
import type { Measured } from './measure-load.js'

/** Seconds a plain text COPY takes to load every data table the run wrote, into empty copies. */
async function copyReference(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'thena' AND table_name NOT LIKE '\\_thena\\_%'`,
    )
    const dumps = new Map<string, Buffer[]>()
    for (const { name } of rows) {
      const chunks: Buffer[] = []
      const out = client.query(copyTo(`COPY thena."${name}" TO STDOUT`))
      for await (const chunk of out) chunks.push(chunk as Buffer)
      dumps.set(name, chunks)
      await client.query(`CREATE TABLE public."${name}" (LIKE thena."${name}" INCLUDING ALL)`)
    }
    const started = performance.now()
    await client.query('BEGIN')
    for (const [name, chunks] of dumps)
      await pipeline(
        Readable.from(chunks),
        client.query(copyFrom(`COPY public."${name}" FROM STDIN`)),
      )
    await client.query('COMMIT')
    return (performance.now() - started) / 1000
  } finally {
    await client.end()
  }
}

/** Rows per second of merging every request again, each with a changed value. */
async function upsertRate(url: string, ndjson: string): Promise<{ rows: number; seconds: number }> {
  const destination = destinationFromUrl(url, 'thena')
  const session = await destination.connect()
  try {
    const registry = new SchemaRegistry(destination.capabilities, await session.readTables())
    const resource = thenaSource.resources.find((r) => r.name === 'requests')!
    const normalizer = new Normalizer(registry, resource, 'bench-upsert')
    for (const line of readFileSync(ndjson, 'utf8').split('\n')) {
      if (line === '') continue
      const record = JSON.parse(line) as Record<string, unknown>
      record.status = 'changed by the benchmark'
      normalizer.add(record)
    }
    const batch = normalizer.take()
    const table = registry.table('requests')!.schema
    const rows = batch.rows.get('requests')!
    const started = performance.now()
    await session.transaction((tx) => tx.merge(table, rows))
    const seconds = (performance.now() - started) / 1000
    const { rows: check } = await session.query(
      `SELECT count(*) AS n FROM thena.requests WHERE status = 'changed by the benchmark'`,
    )
    if (Number(check[0]!.n) !== rows.length) throw new Error('upsert check failed')
    return { rows: rows.length, seconds }
  } finally {
    await session.close()
  }
}

/** A load into `url` and the server CPU it cost, counted once its backends have exited. */
async function measureServedLoad(
  server: PostgresServer,
  sim: Parameters<typeof measureLoad>[0],
  url: string,
): Promise<{ m: Measured; serverCpuSeconds: number }> {
  const before = server.cpuSeconds()
  const m = measureLoad(sim, url)
  const database = new URL(url).pathname.slice(1)
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
        [database],
      )
      if (rows[0]!.n === '0') break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  } finally {
    await client.end()
  }
  return { m, serverCpuSeconds: server.cpuSeconds() - before }
}

/**
 * What a ratio of 0.5 leaves for validating, normalizing and encoding: twice the reference's
 * time on every core, less the CPU that fetching alone (the fetch-only walk), the server and the
 * simulator took in this run.
 */
function budgetLine(
  n: number,
  reference: number,
  cores: number,
  m: Measured,
  serverCpuSeconds: number,
  fetchOnly: Measured,
): string {
  const wall = 2 * reference
  const left = cores * wall - fetchOnly.cpuSeconds - serverCpuSeconds - m.simulatorCpuSeconds
  return (
    `ratio 0.5 means ${wall.toFixed(2)} s at most, ${(cores * wall).toFixed(1)} CPU-s on ${cores} cores: ` +
    `fetching alone takes ${fetchOnly.cpuSeconds.toFixed(1)} s in the loader (fetch-only walk, ` +
    `${(n / fetchOnly.seconds).toFixed(0)} records/s), the server ${serverCpuSeconds.toFixed(1)} s and the ` +
    `simulator ${m.simulatorCpuSeconds.toFixed(1)} s, which leaves ${left.toFixed(1)} s to validate, ` +
    `normalize and encode ${n} requests even with both cores busy throughout; ` +
    `this loader spends ${(m.cpuSeconds - fetchOnly.cpuSeconds).toFixed(1)} s on that`
  )
}

export async function postgresBench(): Promise<void> {
  console.log(
    '## Postgres: end to end (simulator -> HTTP -> zod -> normalize -> COPY text into staging -> INSERT ON CONFLICT), vs raw text COPY of the same rows',
  )
  const server = await startPostgres()
  const dir = mkdtempSync(join(tmpdir(), 'thena-bench-pg-'))
  try {
    for (const n of [10_000, 100_000]) {
      const sim = await spawnSimulator(['--records', String(n), '--no-rate-limit'])
      try {
        const url = await createDatabase(server.url)
        const { m, serverCpuSeconds } = await measureServedLoad(server, sim, url)
        const reference = await copyReference(url)
        const e2e = m.requests / m.seconds
        const ref = n / reference
        console.log(
          `${n} requests: end to end ${e2e.toFixed(0)} records/s (${m.seconds.toFixed(2)} s, ${m.records} rows incl. users), ` +
            `raw COPY ${ref.toFixed(0)} records/s (${reference.toFixed(2)} s), ratio ${(e2e / ref).toFixed(2)}, ` +
            `peak RSS ${m.peakRssMb.toFixed(0)} MB`,
        )
        console.log(`  ${cpuLine(m, availableParallelism(), serverCpuSeconds)}`)
        if (n === 100_000) {
          const fetchOnly = measureFetchOnly(sim)
          console.log(
            `  ${budgetLine(n, reference, availableParallelism(), m, serverCpuSeconds, fetchOnly)}`,
          )
          const ndjson = join(dir, 'requests.ndjson')
          await writeTruthNdjson(sim, ndjson)
          const upsert = await upsertRate(url, ndjson)
          console.log(
            `re-load of ${upsert.rows} changed requests (COPY into staging + INSERT ON CONFLICT): ` +
              `${(upsert.rows / upsert.seconds).toFixed(0)} rows/s (${upsert.seconds.toFixed(2)} s)`,
          )
        }
      } finally {
        await sim.stop()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await server.stop()
  }
}
