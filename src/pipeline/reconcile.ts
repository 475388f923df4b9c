import { TerminalError } from '../errors.js'
import { retryTransient } from '../load/commit-batch.js'
import type { DestinationSession } from '../load/destination.js'
import type { NormalizedBatch } from '../normalize/normalizer.js'
import type { SchemaRegistry } from '../normalize/schema-registry.js'
import type { TableSchema } from '../normalize/table-schema.js'
import { STATE_VERSION } from '../state/resource-state.js'
import type { ResourceState } from '../state/resource-state.js'

/** The keys a reconcile scan saw, per resource: loaded, rejected, or referenced. */
export class SeenKeys {
  readonly #seen = new Map<string, Set<string>>()

  /** A key of `resource` exists in the source. */
  add(resource: string, key: string): void {
    let seen = this.#seen.get(resource)
    if (!seen) this.#seen.set(resource, (seen = new Set()))
    seen.add(key)
  }

  /** Every root record of a batch, and every reject with a key, exists in the source. */
  addBatch(resource: string, batch: NormalizedBatch): void {
    for (const id of batch.rootIds) this.add(resource, id)
    for (const r of batch.rejects) if (r.recordId !== null) this.add(resource, r.recordId)
  }

  /** A resource whose scan began (it has an entry even if it saw nothing). */
  scanned(resource: string): void {
    if (!this.#seen.has(resource)) this.#seen.set(resource, new Set())
  }

  /** A resource not scanned after all (skipped): nothing of it is marked deleted. */
  forget(resource: string): void {
    this.#seen.delete(resource)
  }

  entries(): IterableIterator<[string, Set<string>]> {
    return this.#seen.entries()
  }
}

/** What a reconcile needs once every resource was scanned completely. */
export interface ReconcileRun {
  readonly session: DestinationSession
  readonly registry: SchemaRegistry
  readonly pipeline: string
  readonly loadId: string
  /** Resources of the run, in order: each gets `reconciledAt`. */
  readonly resources: readonly string[]
  /** Their committed states, updated in place once the reconcile commits. */
  readonly states: Map<string, ResourceState>
  /** Largest share of a table one reconcile may mark deleted. */
  readonly maxDeleteShare: number
  /** The deletions are real: mark them even beyond the guard. */
  readonly allowMassDelete: boolean
}

/**
 * Rows no longer in the source get `_thena_deleted_at`, in one transaction with each
 * resource's `reconciledAt` (decisions #18). A scan that would mark all of a table, or more
 * than `maxDeleteShare` of it, is taken for an API that lied (an empty or cut-short list): the
 * transaction rolls back and nothing is marked, unless the deletions are declared real.
 * Resolves to the rows newly marked.
 */
export async function reconcile(run: ReconcileRun, seen: SeenKeys): Promise<number> {
  const now = new Date()
  const marks: [TableSchema, string[], TableSchema | undefined][] = []
  for (const [resource, ids] of seen.entries()) {
    const state = run.registry.table(resource)
    if (!state) continue
    const history = state.history?.schema
    marks.push([
      { ...state.schema, columns: [...state.schema.columns] },
      [...ids],
      history && { ...history, columns: [...history.columns] },
    ])
  }
  const share = run.maxDeleteShare
  const reconciled = new Map<string, ResourceState>()
  let deleted = 0
  await retryTransient(() =>
    run.session.transaction(async (tx) => {
      deleted = 0
      for (const [table, ids, history] of marks) {
        const live = await tx.countLive(table)
        const marked = await tx.markDeleted(table, ids, now)
        if (!run.allowMassDelete && marked > 0 && (marked === live || marked > share * live))
          throw new TerminalError(
            'reconcile_guard',
            `reconcile would soft-delete ${marked} of the ${live} rows of ${table.name} (${Math.round((100 * marked) / live)}%; the guard allows ${marked === live ? 'never all of them' : `at most ${Math.round(share * 100)}%`}): the API may have returned an empty or cut-short list, so nothing was marked. If the deletions are real, run \`thena-sync reconcile --allow-mass-delete\` (or raise reconcile.maxDeleteShare)`,
          )
        // A deletion closes the record's current version, in the same transaction.
        if (history) await tx.writeHistory(table, history)
        deleted += marked
      }
      for (const resource of run.resources) {
        const state = run.states.get(resource) ?? { version: STATE_VERSION, records: 0 }
        const next = { ...state, reconciledAt: now.toISOString() }
        await tx.writeState(run.pipeline, resource, next, run.loadId)
        reconciled.set(resource, next)
      }
    }),
  )
  for (const [resource, state] of reconciled) run.states.set(resource, state)
  return deleted
}
