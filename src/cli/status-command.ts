import { Command } from 'commander'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import type { DestinationSession, StoredLoad, TableCount } from '../load/destination.js'
import { timestampText } from '../load/system-tables.js'
import { selectPipeline } from './common.js'
import type { PipelineFlags } from './common.js'
import { formatRows } from './output.js'

/**
 * A run's heartbeat moves at every commit; a run that still holds its lock but has not
 * committed for this long is hung, and shown as `stale` too.
 */
const STALE_HEARTBEAT_MS = 30 * 60_000

/** Runs `status` lists. */
const RECENT_LOADS = 5

/** Schema changes `status` lists. */
const RECENT_SCHEMA_CHANGES = 10

const when = (date: Date | null | undefined): string | null => (date ? timestampText(date) : null)

/** A load as `status` prints it: the `_thena_loads` columns it shows, in their order. */
function loadLine(load: StoredLoad, stale: boolean): Record<string, unknown> {
  return {
    load_id: load.loadId,
    command: load.command,
    status: stale ? 'stale' : load.status,
    started_at: when(load.startedAt),
    finished_at: when(load.finishedAt),
    heartbeat_at: when(load.heartbeatAt),
    records: load.records,
    unchanged: load.unchanged,
    rejects: load.rejects,
    requests: load.requests,
    retries: load.retries,
    rate_limited: load.rateLimited,
    error: load.error ?? null,
  }
}

/** Everything `status` shows, as `--json` prints it. */
export interface StatusReport {
  readonly pipeline: string
  readonly destination: string
  readonly loads: readonly Record<string, unknown>[]
  readonly tables: readonly { table: string; rows: number }[]
  readonly resources: readonly Record<string, unknown>[]
  readonly schemaChanges: readonly Record<string, unknown>[]
  /** The pipeline's views: built, failed (with the error) or skipped (with what they need). */
  readonly views: readonly Record<string, unknown>[]
}

/**
 * What `status` shows of one pipeline, read in `session` (`show` reads its pages with it too);
 * `recentLoads` runs, newest first (default 5).
 */
export async function collectStatus(
  session: DestinationSession,
  resolved: ResolvedPipeline,
  recentLoads = RECENT_LOADS,
): Promise<StatusReport> {
  const { name: pipeline } = resolved
  const destination = resolved.destination.description
  const recent = await session.readLoads(pipeline, recentLoads)
  // A `running` row whose process is gone (killed, crashed) stays until the next run marks it
  // aborted: shown as `stale`, so that status never reports a dead run as running.
  const live = recent.some((l) => l.status === 'running')
    ? await session.isLockHeld(pipeline)
    : false
  const now = Date.now()
  const loads = recent.map((l) =>
    loadLine(
      l,
      l.status === 'running' &&
        (!live || now - (l.heartbeatAt?.getTime() ?? -Infinity) > STALE_HEARTBEAT_MS),
    ),
  )
  const counts = new Map<string, TableCount>()
  for (const table of await session.readTables())
    counts.set(table.name, await session.countRows(table))
  const states = await session.readState(pipeline)
  const rejects = await session.countOpenRejects(
    pipeline,
    resolved.resources.map((r) => r.name),
  )
  // What the last finished run skipped, and why (a tier the account's plan does not include).
  const last = recent.find((l) => l.status !== 'running')
  const skipped = (last?.details?.skipped ?? {}) as Readonly<Record<string, unknown>>
  const resources = []
  for (const r of resolved.resources) {
    const s = states.get(r.name)
    const { rows, softDeleted } = counts.get(r.name) ?? { rows: 0, softDeleted: 0 }
    resources.push({
      resource: r.name,
      sync: r.sync ?? (r.strategy.type === 'full_refresh' ? 'full' : 'incremental'),
      lastCompleteRun: s?.completedAt ?? null,
      cursor: describePosition(s?.position),
      lookbackDays: r.strategy.type === 'page_lookback' ? r.lookbackDays : null,
      lookbackPages: s?.lookback?.length ?? 0,
      lastReconcile: s?.reconciledAt ?? null,
      rows,
      softDeleted,
      rejects: rejects.get(r.name) ?? 0,
      skipped: typeof skipped[r.name] === 'string' ? skipped[r.name] : null,
    })
  }
  const schemaChanges = (await session.readSchemaChanges(RECENT_SCHEMA_CHANGES)).map((c) => ({
    event: c.event,
    table_name: c.table,
    columns: c.columns,
    load_id: c.loadId,
    recorded_at: timestampText(c.recordedAt),
  }))
  const tables = [...counts].map(([table, count]) => ({ table, rows: count.rows }))
  const views = (await session.readViews(pipeline)).map((v) => ({
    view: v.name,
    status: v.status,
    // A view a failed rebuild left in place still answers, with its older columns.
    exists: v.exists,
    built_at: when(v.builtAt),
    load_id: v.loadId,
    error: v.error ?? null,
  }))
  return { pipeline, destination, loads, tables, resources, schemaChanges, views }
}

/**
 * `thena-sync status`: last loads, rows per table, and per resource its last complete run,
 * cursor, lookback window, last reconcile, rows, soft-deleted rows and rejects; the views and
 * how their last build went.
 */
export function statusCommand(): Command {
  return new Command('status')
    .description('last loads, rows per table, cursor per resource, schema changes, views')
    .option('--json', 'print one JSON document (for scripts)')
    .option('--pipeline <name>', 'which pipeline (default: the first)')
    .option('--config <path>', 'config file (default ./pipelines.config.ts)')
    .action(async (flags: PipelineFlags & { json?: boolean }) => {
      const pipeline = await selectPipeline(flags)
      const session = await pipeline.destination.connect({ readOnly: true })
      let report: StatusReport
      try {
        report = await collectStatus(session, pipeline)
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
      section('Views', report.views)
    })
}

/**
 * A saved position for people: a cursor as it is, else its fields (`page 3`, `offset 200`);
 * null when the resource starts from the first page.
 */
export function describePosition(
  position: Readonly<Record<string, unknown>> | null | undefined,
): string | null {
  if (!position) return null
  if (typeof position.cursor === 'string') return position.cursor
  const parts = Object.entries(position).filter(([, v]) => v !== null && v !== undefined)
  if (parts.length === 0) return null
  return parts.map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')
}
