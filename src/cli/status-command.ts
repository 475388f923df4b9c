import { Command } from 'commander'
import type { DestinationSession } from '../load/destination.js'
import { selectPipeline } from './common.js'
import type { PipelineFlags } from './common.js'
import { formatRows } from './output.js'

const q = (name: string) => `"${name.replace(/"/g, '""')}"`

/** Everything `status` shows, as `--json` prints it. */
export interface StatusReport {
  readonly pipeline: string
  readonly destination: string
  readonly loads: readonly Record<string, unknown>[]
  readonly tables: readonly { table: string; rows: number }[]
  readonly resources: readonly Record<string, unknown>[]
  readonly schemaChanges: readonly Record<string, unknown>[]
}

async function collect(
  session: DestinationSession,
  pipeline: string,
  dataset: string,
  destination: string,
): Promise<StatusReport> {
  const loads = (
    await session.query(
      `SELECT load_id, command, status, started_at, finished_at, records, rejects, requests, retries, rate_limited, error
       FROM ${q(dataset)}._thena_loads WHERE pipeline = '${pipeline.replace(/'/g, "''")}' ORDER BY started_at DESC LIMIT 5`,
    )
  ).rows
  const tables = (await session.readTables()).map((t) => t.name)
  const counts = []
  for (const table of tables) {
    const { rows } = await session.query(`SELECT count(*) AS n FROM ${q(dataset)}.${q(table)}`)
    counts.push({ table, rows: Number(rows[0]?.n ?? 0) })
  }
  const states = await session.readState(pipeline)
  const resources = [...states].map(([resource, s]) => ({
    resource,
    cursor:
      s.position?.cursor ?? (s.position?.page !== undefined ? `page ${s.position.page}` : null),
    records: s.records,
    updatedAt: s.updatedAt ?? null,
    completedAt: s.completedAt ?? null,
  }))
  const schemaChanges = (
    await session.query(
      `SELECT event, table_name, count(*) AS columns, max(load_id) AS load_id, max(recorded_at) AS recorded_at
       FROM ${q(dataset)}._thena_schema_history GROUP BY event, table_name ORDER BY max(ordinal) DESC LIMIT 10`,
    )
  ).rows
  return { pipeline, destination, loads, tables: counts, resources, schemaChanges }
}

/** `thena-sync status`: last loads, rows per table, cursor per resource, schema changes. */
export function statusCommand(): Command {
  return new Command('status')
    .description('last loads, rows per table, cursor per resource, schema changes')
    .option('--json', 'print one JSON document (for scripts)')
    .option('--pipeline <name>', 'which pipeline (default: the first)')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .action(async (flags: PipelineFlags & { json?: boolean }) => {
      const pipeline = await selectPipeline(flags)
      const session = await pipeline.destination.connect({ readOnly: true })
      let report: StatusReport
      try {
        report = await collect(
          session,
          pipeline.name,
          pipeline.dataset,
          pipeline.destination.description,
        )
      } finally {
        await session.close()
      }
      if (flags.json) {
        console.log(JSON.stringify(report, null, 2))
        return
      }
      const section = (title: string, rows: readonly Record<string, unknown>[]) => {
        console.log(`\n${title}`)
        const columns = rows.length > 0 ? Object.keys(rows[0]!) : ['(none)']
        console.log(formatRows({ columns, rows }, 'table'))
      }
      console.log(`${report.pipeline} -> ${report.destination}`)
      section('Last loads', report.loads)
      section('Rows per table', report.tables)
      section('Resources', report.resources)
      section('Schema changes', report.schemaChanges)
    })
}
