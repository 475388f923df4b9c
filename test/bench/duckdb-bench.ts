/**
 * End to end into DuckDB: N simulated requests fetched over HTTP, validated, normalized and
 * loaded, against DuckDB's own read_json of the same records from NDJSON (the reference).
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { DuckDBInstance } from '@duckdb/node-api'
import { request } from 'undici'
import { spawnSimulator } from '../helpers/spawn-simulator.js'

const CHILD = new URL('./duckdb-load-child.ts', import.meta.url).pathname

interface Measured {
  requests: number
  records: number
  seconds: number
  peakRssMb: number
}

async function readJsonReference(ndjson: string, dir: string): Promise<number> {
  const instance = await DuckDBInstance.create(join(dir, 'reference.duckdb'))
  const conn = await instance.connect()
  const started = performance.now()
  await conn.run(
    `CREATE TABLE requests AS SELECT * FROM read_json('${ndjson}', format = 'newline_delimited', maximum_object_size = 16777216)`,
  )
  await conn.run('CHECKPOINT')
  const seconds = (performance.now() - started) / 1000
  conn.closeSync()
  instance.closeSync()
  return seconds
}

export async function duckdbBench(): Promise<void> {
  console.log(
    '## DuckDB: end to end (simulator -> HTTP -> zod -> normalize -> NDJSON staging -> read_json insert), vs read_json alone',
  )
  const dir = mkdtempSync(join(tmpdir(), 'thena-bench-'))
  try {
    for (const n of [10_000, 100_000]) {
      const sim = await spawnSimulator(['--records', String(n), '--no-rate-limit'])
      try {
        const db = join(dir, `e2e-${n}.duckdb`)
        const run = spawnSync(
          process.execPath,
          ['--import', 'tsx', CHILD, sim.url, sim.token, db],
          { encoding: 'utf8' },
        )
        if (run.status !== 0) throw new Error(`bench child failed: ${run.stderr}`)
        const m = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Measured
        const ndjson = join(dir, `requests-${n}.ndjson`)
        const truth = await request(`${sim.url}/__admin/truth?resource=requests`, {
          headers: { authorization: `Bearer ${sim.adminToken}` },
        })
        const out = createWriteStream(ndjson)
        for await (const chunk of truth.body) if (!out.write(chunk)) await once(out, 'drain')
        await new Promise<void>((resolve, reject) =>
          out.end((error?: Error | null) => (error ? reject(error) : resolve())),
        )
        const reference = await readJsonReference(ndjson, dir)
        rmSync(join(dir, 'reference.duckdb'), { force: true })
        const e2e = m.requests / m.seconds
        const ref = n / reference
        console.log(
          `${n} requests: end to end ${e2e.toFixed(0)} records/s (${m.seconds.toFixed(2)} s, ${m.records} rows incl. users), ` +
            `read_json ${ref.toFixed(0)} records/s (${reference.toFixed(2)} s), ratio ${(e2e / ref).toFixed(2)}, ` +
            `peak RSS ${m.peakRssMb.toFixed(0)} MB`,
        )
      } finally {
        await sim.stop()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
