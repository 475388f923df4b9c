import type { HttpStats } from '../http/http-client.js'
import type { LoadRecord, LoadStatus } from '../load/destination.js'
import type { Reject } from '../normalize/normalizer.js'
import type { ThenaSyncError } from '../errors.js'
import type { ViewOutcome } from '../views/refresh-views.js'

/** Progress of a run, for the CLI's progress display and logs. */
export interface ProgressEvent {
  readonly resource: string
  readonly pages: number
  readonly records: number
  /** Records on re-read pages that are unchanged since they were loaded, so not merged again. */
  readonly unchanged: number
  readonly done: boolean
  /** Estimated seconds left (backfill, from the creation times seen so far). */
  readonly etaSeconds?: number
}

/** Something a run chose or skipped that the user should know, e.g. a detected paginator. */
export interface NoticeEvent {
  readonly resource: string
  /** One line, no secret. */
  readonly message: string
}

/** What one resource did in a run. */
export interface ResourceResult {
  readonly resource: string
  readonly pages: number
  /** Records merged into the warehouse. */
  readonly records: number
  /** Records on re-read pages that are unchanged since they were loaded, so not merged again. */
  readonly unchanged: number
  readonly rejects: number
  /** Why the resource was skipped (a tier 403, or its parent skipped); absent when it was read. */
  readonly skipped?: string
}

/** Tables or columns a run added to the warehouse (its `_thena_schema_history` rows), per table. */
export interface SchemaChangeNote {
  /** The resource whose records brought the change. */
  readonly resource: string
  readonly table: string
  /** `create_table` or `add_column`. */
  readonly event: string
  /** The columns created or added, in order. */
  readonly columns: readonly string[]
}

/** Outcome of a run. `runPipeline` throws only for config errors; everything else is here. */
export interface RunResult {
  readonly loadId: string
  readonly pipeline: string
  readonly status: Exclude<LoadStatus, 'running' | 'aborted'>
  readonly resources: readonly ResourceResult[]
  readonly records: number
  /** Records re-read on pages unchanged since they were loaded, so not merged again. */
  readonly unchanged: number
  readonly rejects: number
  readonly requests: number
  readonly retries: number
  readonly rateLimited: number
  readonly seconds: number
  /** Rows newly marked `_thena_deleted_at` (reconcile). */
  readonly deleted?: number
  /** The error of a failed run (its message never contains the token). */
  readonly error?: ThenaSyncError
  /** What a successful run did with each of the source's views; absent when it has none. */
  readonly views?: readonly ViewOutcome[]
  /** Tables and columns the run's commits added; absent when none. */
  readonly schemaChanges?: readonly SchemaChangeNote[]
}

/**
 * What one commit adds: records and rejects per resource (the resource walked, plus those its
 * lookups filled), and the records it skipped as unchanged.
 */
export interface CommitCounts {
  /** The resource whose batch this is; its pages and unchanged records are its own. */
  readonly resource: string
  readonly records: ReadonlyMap<string, number>
  readonly rejects: ReadonlyMap<string, number>
  readonly unchanged: number
}

/** `counts` once the destination refused `quarantined` (they became rejects). */
export function withQuarantined(
  counts: CommitCounts,
  quarantined: readonly Reject[],
): CommitCounts {
  if (quarantined.length === 0) return counts
  const records = new Map(counts.records)
  const rejects = new Map(counts.rejects)
  for (const r of quarantined) {
    records.set(r.resource, (records.get(r.resource) ?? 0) - 1)
    rejects.set(r.resource, (rejects.get(r.resource) ?? 0) + 1)
  }
  return { ...counts, records, rejects }
}

const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)

type Tally = { -readonly [K in keyof ResourceResult]: ResourceResult[K] }

/**
 * The one counter set of a run. Only committed work is counted (a failed run's load row says
 * what the warehouse holds); the progress events, the run result and the load row are all
 * derived from it.
 */
export class RunStats {
  /** When the run took its lock: its load row's `started_at` (runs of a pipeline never overlap). */
  #started = new Date()
  /** When `runPipeline` was called: the run's `seconds`. */
  readonly #called = Date.now()
  readonly #http: HttpStats
  /** Per resource walked; lookups' records count in the totals only. */
  readonly #tallies = new Map<string, Tally>()
  /** Resources whose walk ended, in order: the run result lists these. */
  readonly #finished: Tally[] = []
  #records = 0
  #rejects = 0
  #unchanged = 0
  #deleted = 0
  readonly #skipped = new Map<string, string>()
  #views: readonly ViewOutcome[] = []
  #schemaChanges: readonly SchemaChangeNote[] = []

  constructor(
    readonly loadId: string,
    readonly pipeline: string,
    readonly command: string,
    http: HttpStats,
  ) {
    this.#http = http
  }

  /** When the run started (took the pipeline's lock). */
  get startedAt(): Date {
    return this.#started
  }

  /** The run holds the pipeline's lock from now on: its load row starts here. */
  locked(): void {
    this.#started = new Date()
  }

  /** A resource's walk ended (it appears in the run result from then on). */
  finish(resource: string): void {
    this.#finished.push(this.#tally(resource))
  }

  /** A committed batch of `pages` pages, with what it wrote. */
  committed(counts: CommitCounts, pages: number): void {
    this.#records += sum(counts.records)
    this.#rejects += sum(counts.rejects)
    this.#unchanged += counts.unchanged
    const own = this.#tally(counts.resource)
    own.pages = pages
    own.records += counts.records.get(counts.resource) ?? 0
    own.rejects += counts.rejects.get(counts.resource) ?? 0
    own.unchanged += counts.unchanged
  }

  /** A resource the account may not read (or whose parent it may not): listed, with why. */
  skipped(resource: string, why: string): void {
    const t = this.#tally(resource)
    t.skipped = why
    this.#skipped.set(resource, why)
    if (!this.#finished.includes(t)) this.#finished.push(t)
  }

  /** The resources skipped so far, by name, with why. */
  get skippedResources(): ReadonlyMap<string, string> {
    return this.#skipped
  }

  /** A reject written outside a batch (a page that never parsed). */
  rejected(): void {
    this.#rejects++
  }

  /** Rows a reconcile marked deleted. */
  deleted(rows: number): void {
    this.#deleted = rows
  }

  /** The progress event after a commit of `resource`. */
  progress(resource: string, done: boolean, etaSeconds?: number): ProgressEvent {
    const t = this.#tally(resource)
    return {
      resource,
      pages: t.pages,
      records: t.records,
      unchanged: t.unchanged,
      done,
      ...(etaSeconds !== undefined && { etaSeconds }),
    }
  }

  /** The run's load row; `pending` is what the commit that writes it also commits. */
  load(status: LoadStatus, error?: string, pending?: CommitCounts): LoadRecord {
    const s = this.#http
    return {
      loadId: this.loadId,
      pipeline: this.pipeline,
      command: this.command,
      status,
      startedAt: this.#started,
      ...(status !== 'running' && { finishedAt: new Date() }),
      records: this.#records + (pending ? sum(pending.records) : 0),
      rejects: this.#rejects + (pending ? sum(pending.rejects) : 0),
      requests: s.requests,
      retries: s.retries,
      rateLimited: s.rateLimited,
      unchanged: this.#unchanged + (pending?.unchanged ?? 0),
      ...(error !== undefined && { error }),
      ...((this.#skipped.size > 0 || this.#viewsNotBuilt().length > 0) && {
        details: {
          ...(this.#skipped.size > 0 && { skipped: Object.fromEntries(this.#skipped) }),
          ...(this.#viewsNotBuilt().length > 0 && {
            viewsNotBuilt: Object.fromEntries(this.#viewsNotBuilt().map((v) => [v.name, v.error])),
          }),
        },
      }),
    }
  }

  /** The run's outcome. */
  result(status: RunResult['status'], error?: ThenaSyncError): RunResult {
    const s = this.#http
    return {
      loadId: this.loadId,
      pipeline: this.pipeline,
      status,
      resources: this.#finished.map((t) => ({ ...t })),
      records: this.#records,
      unchanged: this.#unchanged,
      rejects: this.#rejects,
      requests: s.requests,
      retries: s.retries,
      rateLimited: s.rateLimited,
      seconds: (Date.now() - this.#called) / 1000,
      deleted: this.#deleted,
      ...(error && { error }),
      ...(this.#views.length > 0 && { views: this.#views }),
      ...(this.#schemaChanges.length > 0 && { schemaChanges: this.#schemaChanges }),
    }
  }

  /** The schema changes the run committed (read back from the schema history). */
  schemaChanged(changes: readonly SchemaChangeNote[]): void {
    this.#schemaChanges = changes
  }

  /** What the run did with the views (after its last commit). */
  views(outcomes: readonly ViewOutcome[]): void {
    this.#views = outcomes
  }

  #viewsNotBuilt(): readonly ViewOutcome[] {
    return this.#views.filter((v) => v.status === 'failed' || v.status === 'skipped')
  }

  #tally(resource: string): Tally {
    let t = this.#tallies.get(resource)
    if (!t)
      this.#tallies.set(
        resource,
        (t = { resource, pages: 0, records: 0, unchanged: 0, rejects: 0 }),
      )
    return t
  }
}
