/**
 * End to end into DuckDB: N simulated requests fetched over HTTP, validated, normalized and
 * loaded, against DuckDB's own read_json of the same records from NDJSON (the reference).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { spawnSimulator } from '../helpers/spawn-simulator.js'
import { availableParallelism } from 'node:os'
import { cpuLine, measureFetchOnly, measureLoad, writeTruthNdjson } from './measure-load.js'

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
    '## DuckDB: end to end (simulator -> HTTP -> zod -> normalize -> DELETE by key + appender), vs read_json alone',
  )
  const dir = mkdtempSync(join(tmpdir(), 'thena-bench-'))
  try {
    for (const n of [10_000, 100_000]) {
      const sim = await spawnSimulator(['--records', String(n), '--no-rate-limit'])
      try {
        const m = measureLoad(sim, `duckdb:${join(dir, `e2e-${n}.duckdb`)}`)
        const ceiling = measureFetchOnly(sim)
        const ndjson = join(dir, `requests-${n}.ndjson`)
        await writeTruthNdjson(sim, ndjson)
        const reference = await readJsonReference(ndjson, dir)
        rmSync(join(dir, 'reference.duckdb'), { force: true })
        const e2e = m.requests / m.seconds
        const ref = n / reference
        const top = ceiling.requests / ceiling.seconds
        console.log(
          `${n} requests: end to end ${e2e.toFixed(0)} records/s (${m.seconds.toFixed(2)} s, ${m.records} rows incl. users), ` +
            `read_json ${ref.toFixed(0)} records/s (${reference.toFixed(2)} s), ratio ${(e2e / ref).toFixed(2)}, ` +
            `peak RSS ${m.peakRssMb.toFixed(0)} MB`,
        )
        console.log(`  ${cpuLine(m, availableParallelism())}`)
        console.log(
          `  fetch + JSON.parse only, nothing validated or loaded: ${top.toFixed(0)} records/s ` +
            `(${ceiling.seconds.toFixed(2)} s, ${cpuLine(ceiling, availableParallelism())}), ratio ${(top / ref).toFixed(2)}`,
        )
      } finally {
        await sim.stop()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
