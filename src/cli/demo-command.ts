import { Command } from 'commander'
import { EXIT_CODES } from './exit-codes.js'
import type { ExitCode } from './exit-codes.js'
import { formatRows } from './output.js'
import { runPipelines } from './run-command.js'

const SAMPLE = `SELECT status, count(*) AS requests,
  round(avg(first_response_time__actual_time) / 60) AS avg_first_response_min,
  count(*) FILTER (WHERE sla_metrics__first_response_sla__is_breached) AS sla_breached
FROM thena.requests GROUP BY status ORDER BY requests DESC`

/** `thena-sync demo`: the simulator, a run into DuckDB, and a sample query. No token needed. */
export function demoCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('demo')
    .description(
      'load a simulated Thena workspace into ./thena.duckdb and query it (no token needed)',
    )
    .option('--records <n>', 'simulated requests (default 1000)', (v) => Number(v))
    .action(async (flags: { records?: number }) => {
      const [{ startSimulator }, { destinationFromUrl, resolvePipeline }] = await Promise.all([
        import('../simulator/index.js'),
        import('../config/resolve-pipeline.js'),
      ])
      const sim = await startSimulator({ records: flags.records ?? 1000, seed: 1 })
      try {
        const destination = process.env.THENA_DESTINATION || 'duckdb:./thena.duckdb'
        const pipeline = resolvePipeline(
          { pipelines: { thena: { token: sim.token, baseUrl: sim.url, destination } } },
          'thena',
          {},
        )
        console.log(
          `Simulated Thena API at ${sim.url}; loading into ${pipeline.destination.description}`,
        )
        const code = await runPipelines([pipeline], { command: 'demo' })
        if (code !== EXIT_CODES.ok) return setExitCode(code)
        const session = await destinationFromUrl(destination, 'thena').connect()
        try {
          console.log(`\n${SAMPLE}\n`)
          console.log(formatRows(await session.query(SAMPLE), 'table'))
        } finally {
          await session.close()
        }
        console.log(
          '\nNext: npx thena-sync query "select * from thena.users limit 5"   |   npx thena-sync status',
        )
      } finally {
        await sim.stop()
      }
    })
}
