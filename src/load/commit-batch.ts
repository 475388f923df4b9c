import { isTransient } from '../errors.js'
import type { NormalizedBatch } from '../normalize/normalizer.js'
import type { SchemaRegistry } from '../normalize/schema-registry.js'
import type { SchemaChange, TableSchema } from '../normalize/table-schema.js'
import type { ResourceState } from '../state/pipeline-state.js'
import type { DestinationSession, LoadRecord } from './destination.js'

/** Everything one commit writes: rows of one or more resources, their state, the load row. */
export interface BatchCommit {
  readonly pipeline: string
  readonly loadId: string
  readonly batches: readonly NormalizedBatch[]
  /** New state per resource, written with the rows it covers. */
  readonly states: ReadonlyMap<string, ResourceState>
  readonly load: LoadRecord
}

/**
 * Commits a batch in one destination transaction: schema changes, root rows merged on their
 * key, child rows of those roots replaced whole, rejects, state, and the load record. A crash
 * at any instant leaves the warehouse at the previous commit.
 */
export async function commitBatch(
  session: DestinationSession,
  registry: SchemaRegistry,
  commit: BatchCommit,
): Promise<void> {
  // Everything the commit needs from the registry is copied now, synchronously: while the
  // commit runs, the next batch is normalized and may add tables and columns that this
  // transaction has not created.
  const changes = registry.takeChanges().map(snapshotChange)
  const plans = commit.batches.map((batch) => ({
    batch,
    root: snapshot(registry.table(batch.resource)!.schema),
    children: registry.tables
      .filter((t) => t.resource === batch.resource && t.parent)
      .map(snapshot),
  }))
  await retryTransient(() =>
    session.transaction(async (tx) => {
      await tx.applySchema(changes, commit.loadId)
      for (const { batch, root, children } of plans) {
        await tx.merge(root, batch.rows.get(root.name) ?? [])
        // Every child table of the resource, including ones this batch has no rows for: a
        // record whose array became empty must lose its old child rows.
        for (const table of children) {
          await tx.replaceChildren(table, batch.rootIds, batch.rows.get(table.name) ?? [])
        }
        if (batch.rejects.length > 0) await tx.writeRejects(commit.loadId, batch.rejects)
      }
      for (const [resource, state] of commit.states)
        await tx.writeState(commit.pipeline, resource, state, commit.loadId)
      await tx.writeLoad(commit.load)
    }),
  )
}

/** Attempts of a commit whose failure is transient (a dropped connection, a lock wait). */
const COMMIT_ATTEMPTS = 3

/**
 * Runs a destination transaction again when it fails transiently. Safe because every commit is
 * idempotent: rows merge on their key, child rows are replaced, state and load rows are
 * upserted, and schema changes are applied with IF NOT EXISTS.
 */
export async function retryTransient<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction()
    } catch (error) {
      if (!isTransient(error) || attempt >= COMMIT_ATTEMPTS) throw error
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt))
    }
  }
}

const snapshot = (table: TableSchema): TableSchema => ({ ...table, columns: [...table.columns] })

const snapshotChange = (change: SchemaChange): SchemaChange =>
  change.kind === 'create_table' ? { kind: 'create_table', table: snapshot(change.table) } : change
