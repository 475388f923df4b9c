import { existsSync, rmSync } from 'node:fs'
import { Command, InvalidArgumentError } from 'commander'
import { ConfigError } from '../errors.js'
import type { Destination } from '../load/destination.js'
import { EXIT_CODES } from './exit-codes.js'
import type { ExitCode } from './exit-codes.js'
import { formatRows } from './output.js'
import { runPipelines } from './run-command.js'

const SAMPLE = `SELECT status, count(*) AS requests,
  round(avg(first_response_time__actual_time) / 60) AS avg_first_response_min,
  count(*) FILTER (WHERE sla_metrics__first_response_sla__is_breached) AS sla_breached
FROM thena.requests GROUP BY status ORDER BY requests DESC`

/** `--records`: a whole number of requests to simulate, at least 1. */
function recordCount(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(
      `Expected \`--records\` to be a whole number of at least 1, got \`${value}\``,
    )
  return n
}

/** The command every load of a demo warehouse is recorded with. */
const DEMO_COMMAND = 'demo'

/**
 * Makes room for a demo at `file`: nothing there, or a warehouse that only `demo` ever loaded
 * (it is removed, so that every demo starts from the same simulated data). Anything else is
 * refused, naming the file: demo never writes into a warehouse loaded from another source.
 */
async function claimDemoFile(file: string, destination: Destination): Promise<void> {
  if (!existsSync(file)) return
  const refuse = (what: string) =>
    new ConfigError(
      `demo: ${file} ${what}; demo writes only to a warehouse of its own: run it in another folder, or pass --file demo.duckdb`,
    )
  const session = await destination.connect({ readOnly: true })
  try {
    const count = async (sql: string) =>
      Number(
        (
          await session.query(sql).catch(() => {
            throw refuse('is not a thena-sync demo warehouse')
          })
        ).rows[0]?.n ?? 0,
      )
    const others = await count(
      `SELECT count(*) FILTER (WHERE command <> '${DEMO_COMMAND}') AS n FROM thena._thena_loads`,
    )
    if (others > 0) throw refuse('holds loads made by other commands than `demo`')
    // Another dataset in the same file (another pipeline's) is as much not the demo's.
    const elsewhere = await count(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema <> 'thena'`,
    )
    if (elsewhere > 0) throw refuse("holds tables outside the demo's `thena` schema")
  } finally {
    await session.close()
  }
  for (const path of [file, `${file}.wal`, `${file}.tmp`])
    rmSync(path, { recursive: true, force: true })
}

/** `thena-sync demo`: the simulator, a run into a DuckDB file of its own, and a sample query. */
export function demoCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('demo')
    .description(
      'load a simulated Thena workspace into ./thena.duckdb and query it (no token needed)',
    )
    .option('--records <n>', 'simulated requests (default 1000)', recordCount)
    .option('--file <path>', 'the DuckDB file of the demo (default ./thena.duckdb)')
    .action(async (flags: { records?: number; file?: string }) => {
      const [{ startSimulator }, { resolvePipeline }] = await Promise.all([
        import('../../sources/thena/simulator/index.js'),
        import('../config/resolve-pipeline.js'),
      ])
      const file = flags.file ?? './thena.duckdb'
      const destination = `duckdb:${file}`
      if (process.env.THENA_DESTINATION)
        console.log('demo ignores THENA_DESTINATION: it writes only to a DuckDB file of its own')
      const sim = await startSimulator({ records: flags.records ?? 1000, seed: 1 })
      try {
        const pipeline = resolvePipeline(
          { pipelines: { thena: { token: sim.token, baseUrl: sim.url, destination } } },
          'thena',
          {},
        )
        await claimDemoFile(file, pipeline.destination)
        console.log(
          `Simulated Thena API at ${sim.url}; loading into ${pipeline.destination.description}`,
        )
        const code = await runPipelines([pipeline], { command: DEMO_COMMAND })
        if (code !== EXIT_CODES.ok) return setExitCode(code)
        const session = await pipeline.destination.connect({ readOnly: true })
        try {
          console.log(`\n${SAMPLE}\n`)
          console.log(formatRows(await session.query(SAMPLE), 'table'))
        } finally {
          await session.close()
        }
        const where = flags.file ? `THENA_DESTINATION=${destination} ` : ''
        console.log(
          `\nNext: ${where}npx thena-sync query "select * from thena.users limit 5"   |   ${where}npx thena-sync status`,
        )
      } finally {
        await sim.stop()
      }
    })
}
