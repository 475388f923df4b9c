import type { ResolvedPipeline } from '../config/resolve-pipeline.js'
import { ConfigError } from '../errors.js'
import { retryTransient } from '../load/commit-batch.js'
import type { LoadRecord } from '../load/destination.js'
import type { TableSchema } from '../normalize/table-schema.js'
import { lockPipeline, newLoadId } from './run-pipeline.js'

/** What `resetPipeline` makes start over. */
export interface ResetOptions {
  /** Names of the pipeline's resources to reset; at least one, each one configured. */
  readonly resources: readonly string[]
  /** Also drop their tables and child tables and forget their schema history. Default false. */
  readonly dropTables?: boolean
}

/** What a reset did; it is also recorded in `_thena_loads.details`. */
export interface ResetResult {
  readonly loadId: string
  readonly pipeline: string
  /** The resources reset, in the order asked. */
  readonly resources: readonly string[]
  /** Those of them that had a committed state (a cursor, a page, a lookback window). */
  readonly cleared: readonly string[]
  /** Tables dropped, children before their parents (empty without `dropTables`). */
  readonly droppedTables: readonly string[]
}

/**
 * Makes resources start over: their committed state is deleted, so the next run walks them from
 * the first page, and with `dropTables` their tables go too (and are created again). It takes
 * the pipeline's lock like a run, so it never races one, and changes everything, including its
 * `_thena_loads` row (`command = 'reset'`), in one transaction.
 */
export async function resetPipeline(
  pipeline: ResolvedPipeline,
  options: ResetOptions,
): Promise<ResetResult> {
  const known = pipeline.resources.map((r) => r.name)
  const unknown = options.resources.filter((name) => !known.includes(name))
  if (options.resources.length === 0 || unknown.length > 0)
    throw new ConfigError(
      `reset of ${pipeline.name}: ${unknown.length > 0 ? `no resource ${unknown.map((n) => `\`${n}\``).join(', ')}` : 'no resource named'}; known: ${known.join(', ')}`,
    )
  const resources = [...new Set(options.resources)]
  // A reset of a warehouse that does not exist is a mistake (a wrong THENA_DESTINATION, say).
  const session = await pipeline.destination.connect({ create: false })
  try {
    await lockPipeline(session, pipeline)
    try {
      await retryTransient(() => session.prepare())
      const states = await retryTransient(() => session.readState(pipeline.name))
      const dropped = options.dropTables
        ? tablesOf(await retryTransient(() => session.readTables()), resources)
        : []
      // The pipeline's views read its tables (Postgres refuses to drop a table a view reads):
      // they go first, and the next successful run builds them again.
      const views =
        dropped.length > 0
          ? (await retryTransient(() => session.readViews(pipeline.name))).map((v) => v.name)
          : []
      const startedAt = new Date()
      const result: ResetResult = {
        loadId: newLoadId(startedAt),
        pipeline: pipeline.name,
        resources,
        cleared: resources.filter((name) => states.has(name)),
        droppedTables: dropped,
      }
      const load: LoadRecord = {
        loadId: result.loadId,
        pipeline: pipeline.name,
        command: 'reset',
        status: 'success',
        startedAt,
        finishedAt: new Date(),
        records: 0,
        rejects: 0,
        requests: 0,
        retries: 0,
        rateLimited: 0,
        unchanged: 0,
        details: {
          resources,
          cleared: result.cleared,
          droppedTables: dropped,
        },
      }
      await retryTransient(() =>
        session.transaction(async (tx) => {
          // The lock is held: a `running` row of this pipeline is a dead process's.
          await tx.abortStaleLoads(pipeline.name, result.loadId)
          for (const view of views) {
            await tx.dropView(view)
            await tx.forgetView(pipeline.name, view)
          }
          await tx.dropTables(dropped)
          for (const name of resources) await tx.clearState(pipeline.name, name)
          await tx.writeLoad(load)
        }),
      )
      return result
    } finally {
      await session.unlock(pipeline.name).catch(() => undefined)
    }
  } finally {
    await session.close()
  }
}

/** The tables of `resources` (roots and child tables at any depth), deepest first. */
function tablesOf(tables: readonly TableSchema[], resources: readonly string[]): string[] {
  const byName = new Map(tables.map((t) => [t.name, t]))
  const depth = (table: TableSchema): number => {
    let n = 0
    // Bounded: a history edited by hand could name a table its own ancestor.
    for (let t = table; t.parent && byName.has(t.parent) && n < byName.size; n++)
      t = byName.get(t.parent)!
    return n
  }
  return tables
    .filter((t) => resources.includes(t.resource))
    .map((t) => ({ name: t.name, depth: depth(t) }))
    .sort((a, b) => b.depth - a.depth || a.name.localeCompare(b.name))
    .map((t) => t.name)
}
