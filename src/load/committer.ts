import type { NormalizedBatch, Reject } from '../normalize/normalizer.js'
import type { SchemaRegistry } from '../normalize/schema-registry.js'
import type { CommitTrace } from '../observe/run-trace.js'
import type { ResourceState } from '../state/resource-state.js'
import { commitBatch } from './commit-batch.js'
import type { DestinationSession, LoadRecord } from './destination.js'

/** One commit: rows of a resource (and of the records its lookups filled), and its state. */
export interface CommitRequest {
  readonly resource: string
  readonly batches: readonly NormalizedBatch[]
  /** The resource's state as of this batch; undefined writes none (backfill). */
  readonly state: ResourceState | undefined
  /** The load row, given the records the destination refused in this commit. */
  readonly load: (quarantined: readonly Reject[]) => LoadRecord
  /** Runs once the commit succeeded, with the records the destination refused. */
  readonly onCommitted: (quarantined: readonly Reject[]) => void
  /** The commit's span, started when its transaction begins. Default none. */
  readonly trace?: CommitTrace
}

/**
 * Commits batches strictly in order with at most one in flight (decisions #11): while one
 * commits, the next is fetched and normalized, and the destination works in its own threads.
 * Each commit is one transaction (`commitBatch`): rows, state and the load row together.
 */
export class Committer {
  readonly #session: DestinationSession
  readonly #registry: SchemaRegistry
  readonly #pipeline: string
  readonly #loadId: string
  #inFlight: Promise<void> | undefined

  constructor(
    session: DestinationSession,
    registry: SchemaRegistry,
    pipeline: string,
    loadId: string,
  ) {
    this.#session = session
    this.#registry = registry
    this.#pipeline = pipeline
    this.#loadId = loadId
  }

  /**
   * Waits for the commit in flight (rethrowing its failure), then starts this one; resolves
   * once it has started, not once it has committed.
   */
  async commit(request: CommitRequest): Promise<void> {
    await this.#inFlight
    request.trace?.start()
    // Taken now, synchronously: the registry's changes belong to the rows of this batch.
    const commit = commitBatch(this.#session, this.#registry, {
      pipeline: this.#pipeline,
      loadId: this.#loadId,
      batches: request.batches,
      states: request.state ? new Map([[request.resource, request.state]]) : new Map(),
      load: request.load,
    })
    this.#inFlight = commit.then(
      (quarantined) => {
        request.trace?.committed(quarantined)
        request.onCommitted(quarantined)
      },
      (error: unknown) => {
        request.trace?.failed(error)
        throw error
      },
    )
    // Awaited by the next commit or by `drain`; never an unhandled rejection meanwhile.
    this.#inFlight.catch(() => undefined)
  }

  /** Waits for the commit in flight; rethrows its failure. */
  async drain(): Promise<void> {
    await this.#inFlight
  }

  /** Waits for the commit in flight to settle, ignoring its failure (after another error). */
  async settle(): Promise<void> {
    await this.#inFlight?.catch(() => undefined)
  }
}
