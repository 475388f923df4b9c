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

/** Tickets of the Platform API joined to their accounts. */
const PLATFORM_SAMPLE = `SELECT a.name AS account, count(*) AS tickets,
  count(*) FILTER (WHERE t.priority IN ('High', 'Urgent')) AS high_or_urgent,
  count(*) FILTER (WHERE t.status NOT IN ('Resolved', 'Closed')) AS still_open,
  coalesce(sum(c.n), 0) AS comments
FROM thena_platform.tickets t
JOIN thena_platform.accounts a ON a.id = t.account_id
LEFT JOIN (SELECT ticket_id, count(*) AS n FROM thena_platform.comments
  WHERE _thena_deleted_at IS NULL GROUP BY ticket_id) c ON c.ticket_id = t.id
WHERE t._thena_deleted_at IS NULL
GROUP BY a.name ORDER BY tickets DESC LIMIT 8`

/** The datasets a demo warehouse holds, one per API. */
const DEMO_DATASETS = ['thena', 'thena_platform', 'thena_workflows'] as const

/** `--records`, `--tickets`: a whole number of records to simulate, at least 1. */
const recordCount =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(
        `Expected \`${flag}\` to be a whole number of at least 1, got \`${value}\``,
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
    let demoLoads = 0
    for (const dataset of DEMO_DATASETS) {
      const exists = await count(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = '${dataset}' AND table_name = '_thena_loads'`,
      )
      if (exists === 0) continue
      demoLoads++
      const others = await count(
        `SELECT count(*) FILTER (WHERE command <> '${DEMO_COMMAND}') AS n FROM ${dataset}._thena_loads`,
      )
      if (others > 0) throw refuse('holds loads made by other commands than `demo`')
    }
    if (demoLoads === 0) throw refuse('is not a thena-sync demo warehouse')
    const datasets = DEMO_DATASETS.map((d) => `'${d}'`).join(', ')
    // Another dataset in the same file (another pipeline's) is as much not the demo's.
    const elsewhere = await count(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema NOT IN (${datasets})`,
    )
    if (elsewhere > 0)
      throw refuse(
        `holds tables outside the demo's schemas (${DEMO_DATASETS.map((d) => `\`${d}\``).join(', ')})`,
      )
  } finally {
    await session.close()
  }
  for (const path of [file, `${file}.wal`, `${file}.tmp`])
    rmSync(path, { recursive: true, force: true })
}

/**
 * `thena-sync demo`: the three simulated APIs (bolt, Platform, Workflows), a run of each into
 * one DuckDB file of its own, and two sample queries (requests by status; tickets by account).
 */
export function demoCommand(setExitCode: (code: ExitCode) => void): Command {
  return new Command('demo')
    .description(
      'load a simulated Thena workspace (bolt, Platform, Workflows) into ./thena.duckdb and query it (no token needed)',
    )
    .option('--records <n>', 'simulated bolt requests (default 1000)', recordCount('--records'))
    .option('--tickets <n>', 'simulated Platform tickets (default 200)', recordCount('--tickets'))
    .option('--file <path>', 'the DuckDB file of the demo (default ./thena.duckdb)')
    .action(async (flags: { records?: number; tickets?: number; file?: string }) => {
      const [
        { startSimulator },
        { startPlatformSimulator },
        { startWorkflowsSimulator },
        { resolvePipeline },
        { platformPipeline },
        { workflowsPipeline },
      ] = await Promise.all([
        import('../../sources/thena/simulator/index.js'),
        import('../../sources/thena-platform/simulator/index.js'),
        import('../../sources/thena-workflows/simulator/index.js'),
        import('../config/resolve-pipeline.js'),
        import('../../sources/thena-platform/index.js'),
        import('../../sources/thena-workflows/index.js'),
      ])
      const file = flags.file ?? './thena.duckdb'
      const destination = `duckdb:${file}`
      if (process.env.THENA_DESTINATION)
        console.log('demo ignores THENA_DESTINATION: it writes only to a DuckDB file of its own')
      // Without the 60-a-minute limit: a demo should take seconds, not the minutes a real
      // first load of every ticket's comments takes.
      const sim = await startSimulator({ records: flags.records ?? 1000, seed: 1 })
      const platform = await startPlatformSimulator({
        seed: 1,
        tickets: flags.tickets ?? 200,
        rateLimit: false,
      })
      const workflows = await startWorkflowsSimulator({ seed: 1, rateLimit: false })
      try {
        const env = {
          THENA_PLATFORM_API_KEY: platform.apiKey,
          THENA_PLATFORM_BASE_URL: platform.url,
          THENA_WORKFLOWS_BASE_URL: workflows.url,
          THENA_DESTINATION: destination,
        }
        const config = {
          pipelines: {
            thena: { token: sim.token, baseUrl: sim.url, destination },
            platform: platformPipeline,
            workflows: workflowsPipeline,
          },
        }
        const pipelines = ['thena', 'platform', 'workflows'].map((name) =>
          resolvePipeline(config, name, env),
        )
        await claimDemoFile(file, pipelines[0]!.destination)
        console.log(
          `Simulated Thena APIs: bolt at ${sim.url}, Platform at ${platform.url}, Workflows at ${workflows.url}; loading into ${pipelines[0]!.destination.description}`,
        )
        const code = await runPipelines(pipelines, { command: DEMO_COMMAND })
        if (code !== EXIT_CODES.ok) return setExitCode(code)
        const session = await pipelines[0]!.destination.connect({ readOnly: true })
        try {
          for (const sql of [SAMPLE, PLATFORM_SAMPLE]) {
            console.log(`\n${sql}\n`)
            console.log(formatRows(await session.query(sql), 'table'))
          }
        } finally {
          await session.close()
        }
        const where = flags.file ? `THENA_DESTINATION=${destination} ` : ''
        console.log(
          `\nNext: ${where}npx thena-sync query "select name, is_active from thena_workflows.workflows"   |   ${where}npx thena-sync status --pipeline platform`,
        )
      } finally {
        await workflows.close()
        await platform.close()
        await sim.stop()
      }
    })
}
