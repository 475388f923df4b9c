import { createHash } from 'node:crypto'
import { retryTransient } from '../load/commit-batch.js'
import type {
  DestinationCapabilities,
  DestinationSession,
  StoredView,
  ViewRecord,
  ViewStatus,
} from '../load/destination.js'
import { redactor } from '../redactor.js'
import { readWarehouseColumns, viewContext } from './view-context.js'
import type { ViewContext, ViewDeclaration } from './view-declaration.js'

/** What a run did with one view: `unchanged` when its SQL was the one already built. */
export interface ViewOutcome {
  readonly name: string
  readonly status: ViewStatus | 'unchanged' | 'dropped'
  /** Why it is not built (failed, skipped). */
  readonly error?: string
}

/** What `refreshViews` works on. */
export interface ViewRefresh {
  readonly session: DestinationSession
  readonly pipeline: string
  readonly dataset: string
  readonly capabilities: DestinationCapabilities
  readonly loadId: string
  /** The source's views, in order (a view may read one declared before it). */
  readonly views: readonly ViewDeclaration[]
  /** One line per view that failed, or that is newly skipped. */
  readonly onNotice?: (event: { resource: string; message: string }) => void
}

/** The hash `_thena_views.sql_hash` holds: of the SQL text exactly. */
export const sqlHash = (sql: string): string => createHash('sha256').update(sql).digest('hex')

const oneLine = (error: unknown): string =>
  redactor.redact((error instanceof Error ? error.message : String(error)).split('\n')[0]!)

/**
 * Brings the pipeline's views up to date after a successful run: each view's SQL is computed
 * from the warehouse as it is now, and the view is dropped and created again (in one
 * transaction) only when that SQL differs from the one it was last built from, or the view is
 * gone; a run where nothing changed takes no lock on any view. A view that cannot be built is
 * recorded (`failed`, or `skipped` when a table it requires is missing) and the others go on;
 * nothing here throws. Views this pipeline built that are no longer declared are dropped.
 */
export async function refreshViews(refresh: ViewRefresh): Promise<ViewOutcome[]> {
  const { session, pipeline } = refresh
  let stored: Map<string, StoredView>
  let context: ViewContext
  try {
    stored = new Map((await session.readViews(pipeline)).map((v) => [v.name, v]))
    if (refresh.views.length === 0 && stored.size === 0) return []
    const columns = await readWarehouseColumns(session, refresh.dataset)
    context = viewContext({ ...refresh, columns })
  } catch (error) {
    const message = oneLine(error)
    refresh.onNotice?.({ resource: 'views', message: `views not refreshed: ${message}` })
    return refresh.views.map((v) => ({ name: v.name, status: 'failed', error: message }))
  }
  const outcomes: ViewOutcome[] = []
  for (const view of refresh.views) outcomes.push(await refreshView(refresh, view, stored, context))
  const declared = new Set(refresh.views.map((v) => v.name))
  for (const old of stored.values()) {
    if (declared.has(old.name)) continue
    outcomes.push(await dropUndeclared(refresh, old))
  }
  return outcomes
}

async function refreshView(
  refresh: ViewRefresh,
  view: ViewDeclaration,
  stored: ReadonlyMap<string, StoredView>,
  context: ViewContext,
): Promise<ViewOutcome> {
  const { session, pipeline, loadId } = refresh
  const before = stored.get(view.name)
  // `builtAt` says when the view now in the warehouse was created: kept when a rebuild fails.
  const record = (status: ViewStatus, sqlHash: string | null, error?: string): ViewRecord => {
    const kept = status !== 'skipped' && before?.exists ? before.builtAt : undefined
    const builtAt = status === 'built' ? new Date() : kept
    return {
      pipeline,
      name: view.name,
      status,
      sqlHash,
      ...(error !== undefined && { error }),
      ...(builtAt && { builtAt }),
      updatedAt: new Date(),
      loadId,
    }
  }
  const missing = (view.requires ?? []).filter((r) => !context.hasTable(r.table))
  if (missing.length > 0) {
    const error = missing
      .map((r) => `needs table ${r.table}${r.hint ? ` (${r.hint})` : ''}`)
      .join('; ')
    if (before?.status === 'skipped' && before.error === error && !before.exists)
      return { name: view.name, status: 'skipped', error }
    refresh.onNotice?.({ resource: view.name, message: `view not built: ${error}` })
    // A view of ours over a table that is gone would fail every query: it goes too.
    const drop = before?.exists === true
    const outcome = await write(session, async (tx) => {
      if (drop) await tx.dropView(view.name)
      await tx.writeView(record('skipped', null, error))
    })
    return { name: view.name, status: outcome ?? 'skipped', error }
  }
  let sql: string
  try {
    sql = (await view.sql(context)).trim()
  } catch (error) {
    return failed(refresh, view.name, record('failed', null, oneLine(error)))
  }
  const hash = sqlHash(sql)
  if (before?.status === 'built' && before.sqlHash === hash && before.exists)
    return { name: view.name, status: 'unchanged' }
  try {
    await retryTransient(() =>
      session.transaction(async (tx) => {
        await tx.replaceView(view.name, sql)
        await tx.writeView(record('built', hash))
      }),
    )
    return { name: view.name, status: 'built' }
  } catch (error) {
    return failed(refresh, view.name, record('failed', hash, oneLine(error)))
  }
}

/** Records a view that could not be built, with one line; the run goes on. */
async function failed(
  refresh: ViewRefresh,
  name: string,
  record: ViewRecord,
): Promise<ViewOutcome> {
  refresh.onNotice?.({ resource: name, message: `view not built: ${record.error}` })
  await write(refresh.session, (tx) => tx.writeView(record))
  return { name, status: 'failed', ...(record.error !== undefined && { error: record.error }) }
}

/** A view this pipeline built that its source no longer declares: dropped, and forgotten. */
async function dropUndeclared(refresh: ViewRefresh, old: StoredView): Promise<ViewOutcome> {
  const status = await write(refresh.session, async (tx) => {
    if (old.exists) await tx.dropView(old.name)
    await tx.forgetView(refresh.pipeline, old.name)
  })
  if (status === 'failed') {
    refresh.onNotice?.({ resource: old.name, message: 'view no longer declared, not dropped' })
    return {
      name: old.name,
      status: 'failed',
      error: 'no longer declared, and could not be dropped',
    }
  }
  return { name: old.name, status: 'dropped' }
}

/** One transaction, retried when transient; `failed` instead of a throw. */
async function write(
  session: DestinationSession,
  fn: Parameters<DestinationSession['transaction']>[0],
): Promise<'failed' | undefined> {
  try {
    await retryTransient(() => session.transaction(fn))
    return undefined
  } catch {
    return 'failed'
  }
}
