import type { NormalizedBatch } from '../normalize/normalizer.js'
import type { SchemaRegistry } from '../normalize/schema-registry.js'
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
  const changes = registry.takeChanges()
  await session.transaction(async (tx) => {
    await tx.applySchema(changes, commit.loadId)
    for (const batch of commit.batches) {
      const root = registry.table(batch.resource)!.schema
      await tx.merge(root, batch.rows.get(root.name) ?? [])
      // Every child table of the resource, including ones this batch has no rows for: a
      // record whose array became empty must lose its old child rows.
      for (const table of registry.tables) {
        if (table.resource !== batch.resource || !table.parent) continue
        await tx.replaceChildren(table, batch.rootIds, batch.rows.get(table.name) ?? [])
      }
      if (batch.rejects.length > 0) await tx.writeRejects(commit.loadId, batch.rejects)
    }
    for (const [resource, state] of commit.states)
      await tx.writeState(commit.pipeline, resource, state, commit.loadId)
    await tx.writeLoad(commit.load)
  })
}
