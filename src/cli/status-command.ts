import { Command } from 'commander'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { DestinationSession } from '../load/destination.js'
import type { TableSchema } from '../normalize/table-schema.js'
import { selectPipeline } from './common.js'
import type { PipelineFlags } from './common.js'
import { formatRows } from './output.js'

const q = (name: string) => `"${name.replace(/"/g, '""')}"`

/**
 * A run's heartbeat moves at every commit; a run that still holds its lock but has not
 * committed for this long is hung, and shown as `stale` too.
 */
const STALE_HEARTBEAT_MS = 30 * 60_000

const heartbeatAge = (value: unknown): number => {
  const ms = Date.parse(
    String(value)
      .replace(' ', 'T')
      .replace(/\+00(:00)?$/, 'Z'),
  )
  return Number.isNaN(ms) ? Infinity : Date.now() - ms
}

/** Load counters: bigint columns, which the databases' clients hand back as strings. */
const LOAD_COUNTERS = ['records', 'unchanged', 'rejects', 'requests', 'retries', 'rate_limited']

/** `row` with the named columns as numbers (NULL stays null). */
const withNumbers = (row: Record<string, unknown>, columns: readonly string[]) => {
  const out = { ...row }
  for (const c of columns) if (out[c] != null) out[c] = Number(out[c])
  return out
}

/**
 * Open rejects per resource of the pipeline. A reject is open until its record is written by a
 * load that started after the last load that rejected it so (`last_load_id`): a record fixed
 * at the source closes its rejects, and a `discard_value` note seen again stays open. Rejects
 * of one record alike in reason and content count once (rows written before they were
 * deduplicated, by an older version). A warehouse not yet migrated counts every row.
 */
async function openRejects(
  session: DestinationSession,
  resolved: ResolvedPipeline,
  tables: readonly TableSchema[],
): Promise<Map<string, number>> {
  const { dataset } = resolved
  const t = (name: string) => `${q(dataset)}.${q(name)}`
  const text = (value: string) => `'${value.replace(/'/g, "''")}'`
  const columns = (
    await session.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = ${text(dataset)} AND table_name = '_thena_rejects'`,
    )
  ).rows.map((r) => r.column_name)
  const out = new Map<string, number>()
  if (!columns.includes('last_load_id') || !columns.includes('pipeline')) {
    const { rows } = await session.query(
      `SELECT resource, count(*) AS n FROM ${t('_thena_rejects')} GROUP BY resource`,
    )
    for (const r of rows) out.set(String(r.resource), Number(r.n))
    return out
  }
  for (const resource of resolved.resources) {
    const root = tables.find((table) => table.resource === resource.name && !table.parent)
    const fixed = root
      ? `AND NOT EXISTS (SELECT 1 FROM ${t(root.name)} AS r JOIN ${t('_thena_loads')} AS lr ON lr.load_id = r._thena_load_id
           WHERE CAST(r.${q(root.primaryKey)} AS TEXT) = j.record_id AND lr.started_at > lj.started_at)`
      : ''
    const { rows } = await session.query(
      `SELECT count(*) AS n FROM (
         SELECT DISTINCT j.record_id, j.reason, j.raw_json
         FROM ${t('_thena_rejects')} AS j LEFT JOIN ${t('_thena_loads')} AS lj ON lj.load_id = j.last_load_id
         WHERE j.pipeline = ${text(resolved.name)} AND j.resource = ${text(resource.name)} ${fixed}
       ) AS open_rejects`,
    )
    out.set(resource.name, Number(rows[0]?.n ?? 0))
  }
  return out
}

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
  resolved: ResolvedPipeline,
): Promise<StatusReport> {
  const { name: pipeline, dataset } = resolved
  const destination = resolved.destination.description
  const recent = (
    await session.query(
      `SELECT load_id, command, status, started_at, finished_at, heartbeat_at, records, unchanged, rejects, requests, retries, rate_limited, error
       FROM ${q(dataset)}._thena_loads WHERE pipeline = '${pipeline.replace(/'/g, "''")}' ORDER BY started_at DESC LIMIT 5`,
    )
  ).rows
  // A `running` row whose process is gone (killed, crashed) stays until the next run marks it
  // aborted: shown as `stale`, so that status never reports a dead run as running.
  const live = recent.some((l) => l.status === 'running')
    ? await session.isLockHeld(pipeline)
    : false
  const loads = recent.map((l) =>
    withNumbers(
      l.status === 'running' && (!live || heartbeatAge(l.heartbeat_at) > STALE_HEARTBEAT_MS)
        ? { ...l, status: 'stale' }
        : l,
      LOAD_COUNTERS,
    ),
  )
  const schemas = await session.readTables()
  const tables = schemas.map((t) => t.name)
  const counts = []
  for (const table of tables) {
    const { rows } = await session.query(`SELECT count(*) AS n FROM ${q(dataset)}.${q(table)}`)
    counts.push({ table, rows: Number(rows[0]?.n ?? 0) })
  }
  const states = await session.readState(pipeline)
  const known = new Set(tables)
  const rejects = await openRejects(session, resolved, schemas)
  const resources = []
  for (const r of resolved.resources) {
    const s = states.get(r.name)
    let rows = 0
    let softDeleted = 0
    if (known.has(r.name)) {
      const [counts] = (
        await session.query(
          `SELECT count(*) AS n, count(_thena_deleted_at) AS deleted FROM ${q(dataset)}.${q(r.name)}`,
        )
      ).rows
      rows = Number(counts?.n ?? 0)
      softDeleted = Number(counts?.deleted ?? 0)
    }
    resources.push({
      resource: r.name,
      sync: r.sync,
      lastCompleteRun: s?.completedAt ?? null,
      cursor:
        s?.position?.cursor ?? (s?.position?.page !== undefined ? `page ${s.position.page}` : null),
      lookbackDays: r.createdAtField ? r.lookbackDays : null,
      lookbackPages: s?.lookback?.length ?? 0,
      lastReconcile: s?.reconciledAt ?? null,
      rows,
      softDeleted,
      rejects: rejects.get(r.name) ?? 0,
    })
  }
  const schemaChanges = (
    await session.query(
      `SELECT event, table_name, count(*) AS columns, max(load_id) AS load_id, max(recorded_at) AS recorded_at
       FROM ${q(dataset)}._thena_schema_history GROUP BY event, table_name ORDER BY max(ordinal) DESC LIMIT 10`,
    )
  ).rows.map((row) => withNumbers(row, ['columns']))
  return { pipeline, destination, loads, tables: counts, resources, schemaChanges }
}

/**
 * `thena-sync status`: last loads, rows per table, and per resource its last complete run,
 * cursor, lookback window, last reconcile, rows, soft-deleted rows and rejects.
 */
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
        report = await collect(session, pipeline)
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
