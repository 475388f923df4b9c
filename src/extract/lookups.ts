import type { Context } from '@opentelemetry/api'
import { TerminalError } from '../errors.js'
import type { HttpClient } from '../http/http-client.js'
import { valueAt } from '../core/json-path.js'
import type { DestinationSession } from '../load/destination.js'
import { Normalizer } from '../normalize/normalizer.js'
import type { NormalizedBatch } from '../normalize/normalizer.js'
import type { SchemaRegistry } from '../normalize/schema-registry.js'
import type { ResolvedResource } from '../config/resolve-pipeline.js'
import type { ResourceDefinition } from '../source/define-source.js'

/** What lookups need of the run. */
export interface LookupContext {
  readonly http: HttpClient
  readonly session: DestinationSession
  readonly registry: SchemaRegistry
  readonly loadId: string
  /** Every resource of the source, enabled or not: a lookup may fill a disabled one. */
  readonly sourceResources: readonly ResourceDefinition[]
  /** The resources this run loads (their contracts apply to records lookups fill). */
  readonly resources: readonly ResolvedResource[]
  readonly signal?: AbortSignal
  /** Called for each referenced id (a reconcile counts them as seen). */
  readonly onReference?: (resource: string, id: string) => void
}

/**
 * Records referenced by a field of another resource and fetched one by one when they are not
 * loaded yet (`dependents`: users assigned to requests but missing from `/users`). The keys
 * already loaded are read once per run from the destination, then kept up to date.
 */
export class Lookups {
  readonly #ctx: LookupContext
  /** Keys known to exist per resource (filled lazily). */
  readonly #known = new Map<string, Set<string>>()
  readonly #normalizers = new Map<string, Normalizer>()
  /** Referenced ids per resource, since the last `fetchMissing`. */
  readonly #refs = new Map<string, Set<string>>()

  constructor(context: LookupContext) {
    this.#ctx = context
  }

  /** Reads the keys a resource's lookups check against, before its walk begins. */
  async prepare(resource: ResolvedResource): Promise<void> {
    for (const dep of resource.dependents ?? []) await this.#knownKeys(dep.resource)
  }

  /**
   * The records the batch's references (`collect`ed page by page) point to that are not loaded
   * yet, fetched and normalized; the batch's own keys (`rows`) and theirs are known from then on.
   * `trace` is the parent of the requests' spans (default the active context).
   */
  async load(
    resource: ResolvedResource,
    rows: NormalizedBatch,
    trace?: Context,
  ): Promise<NormalizedBatch[]> {
    const extra = await this.fetchMissing(resource, trace)
    for (const batch of [rows, ...extra]) this.remember(batch)
    return extra
  }

  /** Notes the references of records about to be loaded. */
  collect(resource: ResolvedResource, records: readonly unknown[]): void {
    const deps = resource.dependents ?? []
    if (deps.length === 0) return
    for (const record of records)
      for (const dep of deps) {
        const ref = valueAt(record, [dep.field])
        if (typeof ref !== 'string' || ref === '') continue
        let set = this.#refs.get(dep.resource)
        if (!set) this.#refs.set(dep.resource, (set = new Set()))
        set.add(ref)
        this.#ctx.onReference?.(dep.resource, ref)
      }
  }

  /**
   * Fetches the referenced records not loaded yet, normalized, one batch per resource; `trace`
   * is the parent of the requests' spans (default the active context).
   */
  async fetchMissing(resource: ResolvedResource, trace?: Context): Promise<NormalizedBatch[]> {
    const batches: NormalizedBatch[] = []
    try {
      for (const dep of resource.dependents ?? []) {
        const ids = this.#refs.get(dep.resource)
        if (!ids || ids.size === 0) continue
        const known = await this.#knownKeys(dep.resource)
        const missing = [...ids].filter((id) => !known.has(id))
        if (missing.length === 0) continue
        const normalizer = this.#normalizer(dep.resource)
        const responses = await Promise.all(
          missing.map((id) =>
            this.#ctx.http.get(
              dep.path.replace('{id}', encodeURIComponent(id)),
              {},
              this.#ctx.signal,
              { allowNotFound: true, route: dep.path, ...(trace && { trace }) },
            ),
          ),
        )
        for (let i = 0; i < missing.length; i++) {
          const res = responses[i]!
          const record = res.status === 404 ? null : valueAt(res.body, dep.recordPath)
          // Not found: remembered as known so it is not asked for again in this run.
          if (record === null || record === undefined) known.add(missing[i]!)
          else normalizer.add(record)
        }
        batches.push(normalizer.take())
      }
    } finally {
      this.#refs.clear()
    }
    return batches
  }

  /** Records the keys of a batch about to be committed as known. */
  remember(batch: NormalizedBatch): void {
    const known = this.#known.get(batch.resource)
    if (known) for (const id of batch.rootIds) known.add(id)
  }

  #normalizer(name: string): Normalizer {
    let normalizer = this.#normalizers.get(name)
    if (normalizer) return normalizer
    const target = this.#ctx.sourceResources.find((r) => r.name === name)
    if (!target)
      throw new TerminalError('config_invalid', `dependent resource \`${name}\` is not defined`)
    const resolved = this.#ctx.resources.find((r) => r.name === name)
    // The pipeline's settings of the resource apply to the records lookups fill too.
    const history = resolved?.history ?? target.history
    normalizer = new Normalizer(
      this.#ctx.registry,
      { ...target, history },
      this.#ctx.loadId,
      resolved?.contract,
    )
    this.#normalizers.set(name, normalizer)
    return normalizer
  }

  async #knownKeys(resource: string): Promise<Set<string>> {
    let known = this.#known.get(resource)
    if (known) return known
    const table = this.#ctx.registry.table(resource)?.schema
    known = table ? await this.#ctx.session.readKeys(table) : new Set<string>()
    this.#known.set(resource, known)
    return known
  }
}
