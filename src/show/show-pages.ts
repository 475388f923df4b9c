import { SCHEMA_HISTORY_COLUMNS, schemaHistoryRow } from '../cli/schema-command.js'
import { collectStatus } from '../cli/status-command.js'
import type { StatusReport } from '../cli/status-command.js'
import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { ThenaSyncError } from '../errors.js'
import type { DestinationSession, QueryResult } from '../load/destination.js'
import { parseTimestamp } from '../load/system-tables.js'
import { readRelations } from '../load/warehouse-relations.js'
import type { WarehouseRelation } from '../load/warehouse-relations.js'
import { MAX_RAW_CHARS, chartData, displayText, html, htmlTable, truncate } from './html.js'
import type { Html } from './html.js'
import type { Page } from './page-layout.js'
import { nextRuns } from './next-runs.js'

/** Rows of a SQL box result the Data page shows; the rest are counted, not shown. */
export const SQL_BOX_ROW_LIMIT = 500

/**
 * Longest a statement of the SQL box may run, in ms. On DuckDB a reader keeps a run that starts
 * meanwhile waiting (3 s at most, then it is refused as busy): the box is for a look, and
 * `thena-sync query` runs longer statements.
 */
export const SQL_BOX_MAX_MS = 2_000

/** Rows of each table and view the Data page shows. */
export const PREVIEW_ROWS = 5

/** Runs the Runs page lists and charts. */
export const RUNS_SHOWN = 100

/** Characters of a reject's reason the Rejects page shows. */
const REASON_SHOWN = 2000

/**
 * Characters of a raw record the Rejects page reads: one up to this long is pretty-printed (then
 * cut to `MAX_RAW_CHARS`), a longer one is shown as stored, cut.
 */
const RAW_READ_CHARS = 100_000

/** Rejects the Rejects page lists, newest first. */
export const REJECTS_SHOWN = 200

/** Seconds between reloads of a page while a run is in progress. */
export const RUNNING_REFRESH_SECONDS = 5

/** What a page reads the warehouses with. */
export interface ShowContext {
  /** The pipelines `show` serves, in config order. */
  readonly pipelines: readonly ResolvedPipeline[]
  /**
   * Runs `fn` in a short read-only session of `pipeline`'s warehouse, closed right after; fails
   * with `destination_busy` when a run holds a DuckDB file (never waits for it).
   */
  read<T>(pipeline: ResolvedPipeline, fn: (session: DestinationSession) => Promise<T>): Promise<T>
  /** The request's time. */
  readonly now: Date
}

/** What one pipeline's warehouse holds, as the pages need it; `extra` what a page read besides. */
interface Snapshot<T = undefined> {
  readonly pipeline: ResolvedPipeline
  readonly relations: readonly WarehouseRelation[]
  /** Absent before the pipeline's first run (no `_thena_loads` in its dataset). */
  readonly report?: StatusReport
  /** Why there is nothing to read (no warehouse yet), when so. */
  readonly missing?: string
  readonly extra?: T
}

const LOADS_TABLE = '_thena_loads'

async function snapshot<T = undefined>(
  ctx: ShowContext,
  pipeline: ResolvedPipeline,
  loads?: number,
  more?: (session: DestinationSession, relations: readonly WarehouseRelation[]) => Promise<T>,
): Promise<Snapshot<T>> {
  try {
    return await ctx.read(pipeline, async (session) => {
      const relations = await readRelations(session, pipeline.dataset)
      const extra = await more?.(session, relations)
      // Before the first run the dataset has no system tables, and their reads would fail.
      if (!relations.some((r) => r.name === LOADS_TABLE)) return { pipeline, relations, extra }
      return { pipeline, relations, extra, report: await collectStatus(session, pipeline, loads) }
    })
  } catch (error) {
    if (error instanceof ThenaSyncError && error.code === 'warehouse_missing')
      return { pipeline, relations: [], missing: error.message }
    throw error
  }
}

const sqlLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`

const relationSql = (pipeline: ResolvedPipeline, name: string): string => {
  const q = pipeline.destination.capabilities.escapeIdentifier
  return `${q(pipeline.dataset)}.${q(name)}`
}

const KNOWN_STATUSES = new Set([
  'running',
  'success',
  'failed',
  'interrupted',
  'aborted',
  'stale',
  'built',
  'skipped',
])

/** A run's or view's status, coloured when it is one thena-sync writes. */
const statusCell = (status: unknown): Html => {
  const text = displayText(status)
  return KNOWN_STATUSES.has(text)
    ? html`<span class="status-${text}">${text}</span>`
    : html`${text}`
}

/** How long ago `then` was, for people: `42 s`, `5 min`, `3 h`, `2 d`. */
export function ageText(then: Date | null, now: Date): string {
  if (!then) return 'never'
  const s = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000))
  if (s < 90) return `${s} s ago`
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

const dateOf = (value: unknown): Date | null => {
  try {
    return parseTimestamp(value)
  } catch {
    return null
  }
}

const isRunning = (report: StatusReport | undefined): boolean =>
  report?.loads[0]?.status === 'running'

const link = (path: string, params: Record<string, string>, text: string): Html =>
  html`<a href="${path}?${new URLSearchParams(params).toString()}">${text}</a>`

/** The pipeline a page is about: `?pipeline=`, else the first one served. */
export function pickPipeline(
  ctx: ShowContext,
  params: URLSearchParams,
): ResolvedPipeline | undefined {
  const name = params.get('pipeline')
  return name === null ? ctx.pipelines[0] : ctx.pipelines.find((p) => p.name === name)
}

/** Links to the same page for each pipeline served, the current one first in bold. */
function pipelineLinks(ctx: ShowContext, path: string, current: ResolvedPipeline): Html {
  if (ctx.pipelines.length < 2) return html``
  return html`<p class="pipelines">
    Pipeline:
    ${ctx.pipelines.map((p) =>
      p === current
        ? html`<strong>${p.name}</strong> `
        : html`${link(path, { pipeline: p.name }, p.name)} `,
    )}
  </p>`
}

const nothingYet = (s: Snapshot<unknown>): Html =>
  s.missing
    ? html`<p class="empty">${s.missing}</p>`
    : html`<p class="empty">
        No runs yet in dataset <code>${s.pipeline.dataset}</code>: run
        <code>thena-sync run --pipeline ${s.pipeline.name}</code>.
      </p>`

const card = (label: string, value: unknown): Html =>
  html`<div class="card">
    <div class="label">${label}</div>
    <div class="value">${value}</div>
  </div>`

/** Overview: each pipeline's last run, freshness, records, rejects, next run, and its resources. */
export async function overviewPage(ctx: ShowContext): Promise<Page> {
  const sections: Html[] = []
  let running = false
  for (const pipeline of ctx.pipelines) {
    const s = await snapshot(ctx, pipeline)
    running ||= isRunning(s.report)
    const next = nextRuns(pipeline)
    const nextText =
      next.length === 0
        ? 'no schedule configured'
        : next
            .map(
              (n) =>
                `${n.mode} ${n.at ? `${n.at.toISOString().replace('T', ' ').slice(0, 16)} UTC` : 'never'} (${n.cron}, ${n.timezone})`,
            )
            .join('; ')
    const head = html`<h2 id="pipeline-${pipeline.name}">${pipeline.name}</h2>
      <p class="muted">
        ${pipeline.destination.description}, dataset <code>${pipeline.dataset}</code>
      </p>`
    if (!s.report) {
      sections.push(
        html`<section>
          ${head}${nothingYet(s)}
          <p>Next scheduled run: ${nextText}</p>
        </section>`,
      )
      continue
    }
    const { report } = s
    const last = report.loads[0]
    const lastSuccess = report.loads.find((l) => l.status === 'success')
    // The data is as fresh as the newest complete walk of a resource (a failed run may have
    // completed some), else the last successful run.
    const walks = report.resources
      .map((r) => dateOf(r.lastCompleteRun)?.getTime() ?? 0)
      .filter((t) => t > 0)
    const freshest =
      walks.length > 0 ? new Date(Math.max(...walks)) : dateOf(lastSuccess?.finished_at)
    const rejects = report.resources.reduce((n, r) => n + Number(r.rejects ?? 0), 0)
    const resources = report.resources.map((r) => {
      const complete = dateOf(r.lastCompleteRun)
      return {
        resource: link(
          '/resource',
          { pipeline: pipeline.name, resource: String(r.resource) },
          String(r.resource),
        ),
        sync: r.sync,
        rows: r.rows,
        soft_deleted: r.softDeleted,
        rejects:
          Number(r.rejects) > 0
            ? link('/rejects', { pipeline: pipeline.name }, String(r.rejects))
            : r.rejects,
        last_complete_run: r.lastCompleteRun,
        data_age: r.skipped ? 'skipped' : ageText(complete, ctx.now),
        cursor: r.cursor,
        last_reconcile: r.lastReconcile,
        skipped: r.skipped,
      }
    })
    sections.push(
      html`<section>
        ${head}
        <div class="cards">
          ${card('Last run', last ? statusCell(last.status) : 'none')}
          ${card('Started', last?.started_at ?? '')} ${card('Data age', ageText(freshest, ctx.now))}
          ${card('Records (last run)', last?.records ?? 0)} ${card('Open rejects', rejects)}
          ${card('Next scheduled run', nextText)}
        </div>
        ${last?.error ? html`<p class="error">Last run: ${truncate(displayText(last.error), 600)}</p>` : ''}
        <h3>Resources</h3>
        ${htmlTable(
          [
            'resource',
            'sync',
            'rows',
            'soft_deleted',
            'rejects',
            'last_complete_run',
            'data_age',
            'cursor',
            'last_reconcile',
            'skipped',
          ],
          resources,
          { id: `resources-${pipeline.name}` },
        )}
      </section>`,
    )
  }
  return {
    title: 'Overview',
    body: html`<h1>Overview</h1>
      ${running ? runningNotice() : ''}${sections}`,
    ...(running && { refreshSeconds: RUNNING_REFRESH_SECONDS }),
  }
}

const runningNotice = (): Html =>
  html`<p class="notice">
    A run is in progress: this page reloads every ${RUNNING_REFRESH_SECONDS} s.
  </p>`

const FAILED = new Set(['failed', 'aborted', 'stale', 'interrupted'])

/** Runs: the pipeline's `_thena_loads`, as a table and a chart of duration and records per run. */
export async function runsPage(ctx: ShowContext, pipeline: ResolvedPipeline): Promise<Page> {
  const s = await snapshot(ctx, pipeline, RUNS_SHOWN)
  const top = html`<h1>Runs of ${pipeline.name}</h1>
    ${pipelineLinks(ctx, '/runs', pipeline)}`
  if (!s.report) return { title: 'Runs', body: html`${top}${nothingYet(s)}` }
  const loads: Record<string, unknown>[] = s.report.loads.map((l) => {
    const started = dateOf(l.started_at)
    const finished = dateOf(l.finished_at)
    const seconds =
      started && finished ? Math.round((finished.getTime() - started.getTime()) / 100) / 10 : null
    return { ...l, duration_s: seconds }
  })
  const oldestFirst = [...loads].reverse()
  const chart = {
    type: 'bar',
    labels: oldestFirst.map((l) => displayText(l.started_at).slice(0, 19)),
    yTitle: 'records',
    y2Title: 'duration (s)',
    datasets: [
      {
        label: 'records',
        data: oldestFirst.map((l) => Number(l.records ?? 0)),
        // Failed runs stand out in red.
        colors: oldestFirst.map((l) => (FAILED.has(String(l.status)) ? '#b42318' : '#2456c8')),
      },
      {
        label: 'duration (s)',
        type: 'line',
        axis: 'y2',
        color: '#12724a',
        data: oldestFirst.map((l) => l.duration_s),
      },
    ],
  }
  const rows = loads.map((l) => ({
    ...l,
    status: statusCell(l.status),
    failed: FAILED.has(String(l.status)) ? '✗' : '',
  }))
  return {
    title: 'Runs',
    charts: true,
    ...(isRunning(s.report) && { refreshSeconds: RUNNING_REFRESH_SECONDS }),
    body: html`${top}${isRunning(s.report) ? runningNotice() : ''}
      <p class="muted">
        The last ${RUNS_SHOWN} runs at most, newest first; failed runs in red in the chart.
      </p>
      <div class="chart">
        <canvas data-chart="runs-chart" aria-label="records and duration per run"></canvas>
      </div>
      ${chartData('runs-chart', chart)}
      ${htmlTable(
        [
          'load_id',
          'command',
          'status',
          'failed',
          'started_at',
          'finished_at',
          'duration_s',
          'records',
          'unchanged',
          'rejects',
          'requests',
          'retries',
          'rate_limited',
          'error',
        ],
        rows,
        { id: 'runs' },
      )}`,
  }
}

/** Per resource: its state, the columns of its tables with source paths and types, its schema history. */
export async function resourcePage(
  ctx: ShowContext,
  pipeline: ResolvedPipeline,
  name: string | null,
): Promise<Page> {
  const names = pipeline.resources.map((r) => r.name)
  const resource = name ?? names[0]
  const top = html`<h1>Resources of ${pipeline.name}</h1>
    ${pipelineLinks(ctx, '/resource', pipeline)}
    <p class="pipelines">
      Resource:
      ${names.map((n) =>
        n === resource
          ? html`<strong>${n}</strong> `
          : html`${link('/resource', { pipeline: pipeline.name, resource: n }, n)} `,
      )}
    </p>`
  if (resource === undefined || !names.includes(resource))
    return {
      title: 'Resources',
      status: 404,
      body: html`${top}
        <p class="error">No resource ${resource ?? ''} in pipeline ${pipeline.name}.</p>`,
    }
  const s = await snapshot(ctx, pipeline, undefined, async (session, relations) => {
    if (!relations.some((r) => r.name === LOADS_TABLE)) return undefined
    return {
      state: (await session.readState(pipeline.name)).get(resource),
      tables: (await session.readTables()).filter((t) => t.resource === resource),
      history: await session.readSchemaHistory(resource),
    }
  })
  if (!s.report || !s.extra) return { title: resource, body: html`${top}${nothingYet(s)}` }
  const { state, tables, history } = s.extra
  const line: Readonly<Record<string, unknown>> =
    s.report.resources.find((r) => r.resource === resource) ?? {}
  const columnTables = tables.map((t) => {
    const kind = t.parent
      ? `child of ${t.parent} (array ${(t.arrayPath ?? []).join('.')})`
      : t.historyOf
        ? `versions of ${t.historyOf} (history)`
        : `root table, key ${t.primaryKey}`
    return html`<h3>${t.name} <span class="muted">${kind}</span></h3>
      ${htmlTable(
        ['column', 'type', 'source_path', 'variant_of'],
        t.columns.map((c) => ({
          column: c.name,
          type: c.type,
          source_path: c.path.length > 0 ? c.path.join('.') : '(thena-sync)',
          variant_of: c.variantOf ?? '',
        })),
        { id: `columns-${t.name}` },
      )}`
  })
  const stateRows = [
    ['sync', line.sync],
    ['position (cursor)', line.cursor ?? 'from the first page'],
    ['lookback window (days)', line.lookbackDays],
    ['lookback pages kept', line.lookbackPages],
    ['last complete run', line.lastCompleteRun],
    ['data age', ageText(dateOf(line.lastCompleteRun), ctx.now)],
    ['last reconcile', line.lastReconcile ?? 'never'],
    ['rows', line.rows],
    ['soft-deleted rows', line.softDeleted],
    ['open rejects', line.rejects],
    ['skipped by the last run', line.skipped],
  ].map(([field, value]) => ({ field, value }))
  return {
    title: resource,
    ...(isRunning(s.report) && { refreshSeconds: RUNNING_REFRESH_SECONDS }),
    body: html`${top}
      <h2>State</h2>
      ${htmlTable(['field', 'value'], stateRows, { id: 'state' })}
      <details>
        <summary>State document (_thena_state)</summary>
        <pre>${truncate(JSON.stringify(state ?? null, null, 2), MAX_RAW_CHARS)}</pre>
      </details>
      <h2>Columns</h2>
      ${columnTables.length > 0 ? columnTables : html`<p class="empty">No table yet.</p>`}
      <h2>Schema history</h2>
      ${htmlTable([...SCHEMA_HISTORY_COLUMNS], history.map(schemaHistoryRow), {
        id: 'schema-history',
      })}`,
  }
}

/** A raw record pretty-printed when it is JSON, as stored otherwise; cut to `MAX_RAW_CHARS`. */
function prettyRaw(text: unknown): string {
  const raw = displayText(text)
  try {
    return truncate(JSON.stringify(JSON.parse(raw), null, 2), MAX_RAW_CHARS)
  } catch {
    return truncate(raw, MAX_RAW_CHARS)
  }
}

/** Rejects: the pipeline's `_thena_rejects`, newest first, each reason with its raw record. */
export async function rejectsPage(ctx: ShowContext, pipeline: ResolvedPipeline): Promise<Page> {
  const s = await snapshot(ctx, pipeline, undefined, async (session, relations) => {
    const table = relations.find((r) => r.name === '_thena_rejects')
    if (!table) return { columns: [], rows: [] } as QueryResult
    // A warehouse from before rejects were kept per pipeline lists all of them.
    const mine = table.columns.some((c) => c.name === 'pipeline')
      ? `WHERE pipeline = ${sqlLiteral(pipeline.name)}`
      : ''
    // Only what the page can show is read: a raw record may be megabytes, 200 of them more.
    return session.query(
      `SELECT resource, record_id, substr(reason, 1, ${REASON_SHOWN + 1}) AS reason, substr(raw_json, 1, ${RAW_READ_CHARS}) AS raw_json, load_id, rejected_at FROM ${relationSql(pipeline, '_thena_rejects')} ${mine} ORDER BY rejected_at DESC LIMIT ${REJECTS_SHOWN}`,
    )
  })
  const top = html`<h1>Rejects of ${pipeline.name}</h1>
    ${pipelineLinks(ctx, '/rejects', pipeline)}`
  if (!s.report) return { title: 'Rejects', body: html`${top}${nothingYet(s)}` }
  const rejects = s.extra ?? { columns: [], rows: [] }
  const open = htmlTable(
    ['resource', 'rejects'],
    s.report.resources.map((r) => ({ resource: r.resource, rejects: r.rejects })),
    { id: 'open-rejects' },
  )
  const list =
    rejects.rows.length === 0
      ? html`<p class="empty">No rejects: every record met its contract.</p>`
      : rejects.rows.map(
          (r, i) =>
            html`<div class="reject" id="reject-${i}">
              <h3>${r.resource} · record ${r.record_id ?? '(none)'}</h3>
              <p class="muted">load ${r.load_id}, ${r.rejected_at}</p>
              <p class="error reason">${truncate(displayText(r.reason), REASON_SHOWN)}</p>
              <pre class="raw">${prettyRaw(r.raw_json)}</pre>
            </div>`,
        )
  return {
    title: 'Rejects',
    body: html`${top}
      <h2>Open rejects per resource</h2>
      ${open}
      <h2>Rejected records (newest ${REJECTS_SHOWN} at most)</h2>
      ${list}`,
  }
}

/** The outcome of the SQL box: rows, or the one-line refusal or failure `query` gives. */
type SqlOutcome = { readonly result: QueryResult } | { readonly error: string }

/** Data: the SQL box (the `query` command's session, limits and refusals) and each table and view's first rows. */
export async function dataPage(
  ctx: ShowContext,
  pipeline: ResolvedPipeline,
  sql: string | null,
): Promise<Page> {
  const s = await snapshot(ctx, pipeline, undefined, async (session, relations) => {
    const previews = new Map<string, QueryResult | string>()
    let outcome: SqlOutcome | undefined
    if (sql !== null && sql.trim() !== '') {
      try {
        outcome = { result: await session.query(sql, { maxMs: SQL_BOX_MAX_MS }) }
      } catch (error) {
        // Refused or failed SQL is the user's to fix: its message, not a broken page.
        if (!(error instanceof ThenaSyncError) || error.code === 'destination_busy') throw error
        outcome = { error: error.message }
      }
    }
    for (const r of relations) {
      try {
        previews.set(
          r.name,
          await session.query(
            `SELECT * FROM ${relationSql(pipeline, r.name)} LIMIT ${PREVIEW_ROWS}`,
          ),
        )
      } catch (error) {
        if (error instanceof ThenaSyncError && error.code === 'destination_busy') throw error
        previews.set(r.name, error instanceof Error ? error.message : String(error))
      }
    }
    return { previews, outcome }
  })
  const previews = s.extra?.previews ?? new Map<string, QueryResult | string>()
  const outcome = s.extra?.outcome
  const firstTable = s.relations.find((r) => r.kind === 'table' && !r.name.startsWith('_thena_'))
  const counts = new Map((s.report?.tables ?? []).map((t) => [t.table, t.rows]))
  const box = html`<form method="get" action="/data" id="sql-box">
    <input type="hidden" name="pipeline" value="${pipeline.name}" />
    <label for="sql"
      >One read-only SQL statement (as <code>thena-sync query</code>: anything that writes is
      refused; at most ${SQL_BOX_ROW_LIMIT} rows shown, ${SQL_BOX_MAX_MS / 1000} s at most:
      <code>thena-sync query</code> runs longer ones). Tables are in schema
      <code>${pipeline.dataset}</code>.</label
    >
    <textarea id="sql" name="sql" spellcheck="false">
${sql ?? (firstTable ? `SELECT * FROM ${relationSql(pipeline, firstTable.name)} LIMIT 10` : '')}</textarea>
    <button type="submit">Run</button>
  </form>`
  let result: Html = html``
  if (outcome && 'error' in outcome)
    result = html`<p class="error" id="sql-error">${outcome.error}</p>`
  else if (outcome) {
    const { columns, rows } = outcome.result
    const shown = rows.slice(0, SQL_BOX_ROW_LIMIT)
    result = html`<p class="muted" id="sql-count">
        ${rows.length}
        row${rows.length === 1 ? '' : 's'}${rows.length > shown.length ? `, the first ${SQL_BOX_ROW_LIMIT} shown` : ''}
      </p>
      ${htmlTable(columns, shown, { id: 'sql-result', empty: 'No rows.' })}`
  }
  const ordered = [...s.relations].sort(
    (a, b) =>
      Number(a.name.startsWith('_thena_')) - Number(b.name.startsWith('_thena_')) ||
      Number(a.kind === 'view') - Number(b.kind === 'view') ||
      a.name.localeCompare(b.name),
  )
  const sections = ordered.map((r) => {
    const preview = previews.get(r.name)
    const count = counts.get(r.name)
    return html`<details open class="relation" id="relation-${r.name}">
      <summary>
        ${r.name}
        <span class="muted">${r.kind}${count === undefined ? '' : `, ${count} rows`}</span>
      </summary>
      ${
        typeof preview === 'string' || preview === undefined
          ? html`<p class="error">${preview ?? 'not read'}</p>`
          : htmlTable(preview.columns, preview.rows, { empty: 'No rows.' })
      }
    </details>`
  })
  const top = html`<h1>Data of ${pipeline.name}</h1>
    ${pipelineLinks(ctx, '/data', pipeline)}`
  return {
    title: 'Data',
    ...(outcome && 'error' in outcome && { status: 400 }),
    body: html`${top}${box}${result}
      <h2>Tables and views <span class="muted">(first ${PREVIEW_ROWS} rows of each)</span></h2>
      ${s.missing ? html`<p class="empty">${s.missing}</p>` : ''}
      ${htmlTable(
        ['table', 'rows'],
        [...counts].map(([table, rows]) => ({ table, rows })),
        { id: 'row-counts', empty: 'No table yet.' },
      )}
      ${sections}`,
  }
}

/** Buckets of the first-response chart, in minutes: `[label, from, to)`. */
const FIRST_RESPONSE_BUCKETS = [
  ['< 5 min', 0, 5],
  ['5–15 min', 5, 15],
  ['15–30 min', 15, 30],
  ['30–60 min', 30, 60],
  ['1–2 h', 60, 120],
  ['2–4 h', 120, 240],
  ['4–8 h', 240, 480],
  ['8–24 h', 480, 1440],
  ['1–3 d', 1440, 4320],
  ['≥ 3 d', 4320, null],
] as const

/** Where a source's items per day by status come from: a view (or table), its columns. */
const PER_DAY_SOURCES = [
  { relation: 'requests_enriched', status: 'status', label: 'Requests' },
  { relation: 'tickets_enriched', status: 'status_display_name', label: 'Tickets' },
] as const

/** Charts of the Thena data: items per day by status, and the distribution of first-response time. */
export async function chartsPage(ctx: ShowContext, pipeline: ResolvedPipeline): Promise<Page> {
  const s = await snapshot(ctx, pipeline, 1, async (session, relations) => {
    let perDay: { label: string; rows: readonly Record<string, unknown>[] } | undefined
    let firstResponse: readonly Record<string, unknown>[] | undefined
    const has = (name: string, column: string) =>
      relations.some((r) => r.name === name && r.columns.some((c) => c.name === column))
    const q = pipeline.destination.capabilities.escapeIdentifier
    const source = PER_DAY_SOURCES.find(
      (p) => has(p.relation, p.status) && has(p.relation, 'created_at'),
    )
    if (source) {
      const from = relationSql(pipeline, source.relation)
      const { rows } = await session.query(
        `SELECT CAST(CAST(${q('created_at')} AS DATE) AS VARCHAR) AS day, COALESCE(CAST(${q(source.status)} AS VARCHAR), '(none)') AS status, count(*) AS n FROM ${from} WHERE ${q('created_at')} IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      perDay = { label: source.label, rows }
    }
    if (has('requests_enriched', 'first_response_minutes')) {
      const minutes = q('first_response_minutes')
      const cases = FIRST_RESPONSE_BUCKETS.map(
        ([, lo, hi], i) =>
          `WHEN ${minutes} >= ${lo}${hi === null ? '' : ` AND ${minutes} < ${hi}`} THEN ${i}`,
      ).join(' ')
      const { rows } = await session.query(
        `SELECT CASE ${cases} END AS bucket, count(*) AS n FROM ${relationSql(pipeline, 'requests_enriched')} WHERE ${minutes} IS NOT NULL AND ${minutes} >= 0 GROUP BY 1 ORDER BY 1`,
      )
      const byBucket = new Map(rows.map((r) => [Number(r.bucket), Number(r.n)]))
      firstResponse = FIRST_RESPONSE_BUCKETS.map(([label], i) => ({
        first_response: label,
        requests: byBucket.get(i) ?? 0,
      }))
    }
    return { perDay, firstResponse }
  })
  const { perDay, firstResponse } = s.extra ?? {}
  const top = html`<h1>Charts of ${pipeline.name}</h1>
    ${pipelineLinks(ctx, '/charts', pipeline)}`
  const noData = (what: string) => html`<p class="empty no-data">No data yet: ${what}</p>`
  let daySection: Html
  if (!perDay || perDay.rows.length === 0) {
    daySection = html`<h2>Requests or tickets per day, by status</h2>
      ${noData(
        'this needs the view requests_enriched (bolt) or tickets_enriched (Platform) with rows; a successful run builds it.',
      )}`
  } else {
    const days = [...new Set(perDay.rows.map((r) => String(r.day)))]
    const statuses = [...new Set(perDay.rows.map((r) => String(r.status)))]
    const count = new Map(
      perDay.rows.map((r) => [`${String(r.day)}\u0000${String(r.status)}`, Number(r.n)]),
    )
    const chart = {
      type: 'bar',
      stacked: true,
      labels: days,
      yTitle: perDay.label.toLowerCase(),
      datasets: statuses.map((st) => ({
        label: st,
        data: days.map((d) => count.get(`${d}\u0000${st}`) ?? 0),
      })),
    }
    const table = days.map((d) =>
      Object.fromEntries([
        ['day', d],
        ...statuses.map((st) => [st, count.get(`${d}\u0000${st}`) ?? 0]),
      ]),
    )
    daySection = html`<h2>${perDay.label} per day, by status</h2>
      <div class="chart">
        <canvas data-chart="per-day-chart" aria-label="${perDay.label} per day by status"></canvas>
      </div>
      ${chartData('per-day-chart', chart)}
      <details>
        <summary>The numbers</summary>
        ${htmlTable(['day', ...statuses], table, { id: 'per-day' })}
      </details>`
  }
  let responseSection: Html
  if (!firstResponse || firstResponse.every((r) => r.requests === 0)) {
    responseSection = html`<h2>First-response time</h2>
      ${noData(
        'this needs requests_enriched.first_response_minutes (the bolt pipeline, after a successful run) with values.',
      )}`
  } else {
    const chart = {
      type: 'bar',
      labels: firstResponse.map((r) => r.first_response),
      yTitle: 'requests',
      datasets: [{ label: 'requests', data: firstResponse.map((r) => r.requests) }],
    }
    responseSection = html`<h2>First-response time</h2>
      <div class="chart">
        <canvas
          data-chart="first-response-chart"
          aria-label="distribution of first-response time"
        ></canvas>
      </div>
      ${chartData('first-response-chart', chart)}
      ${htmlTable(['first_response', 'requests'], firstResponse, { id: 'first-response' })}`
  }
  return {
    title: 'Charts',
    charts: true,
    ...(isRunning(s.report) && { refreshSeconds: RUNNING_REFRESH_SECONDS }),
    body: html`${top}${s.missing ? html`<p class="empty">${s.missing}</p>` : ''}${daySection}${responseSection}`,
  }
}
