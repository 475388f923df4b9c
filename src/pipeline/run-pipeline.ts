import { randomBytes } from 'node:crypto'
import type { ResolvedPipeline, ResolvedResource } from '../config/resolve-pipeline.js'
import { TerminalError, ThenaSyncError, TransientError } from '../errors.js'
import { fetchPageAt, recordsOf, walkResource } from '../extract/walk-resource.js'
import type { WalkTarget } from '../extract/walk-resource.js'
import { HttpClient, InvalidBodyError } from '../http/http-client.js'
import type { JsonResponse } from '../http/http-client.js'
import type { PagePosition } from '../http/paginator.js'
import { pageQuery, paginatorTraits, positionKey, valueAt } from '../http/paginator.js'
import { formatSeconds, LOGGED_WAIT_MS, MAX_WAIT_SETTING } from '../http/wait-policy.js'
import type { WaitEvent, WaitPolicy } from '../http/wait-policy.js'
import { commitBatch, retryTransient } from '../load/commit-batch.js'
import type { DestinationSession, LoadRecord, LoadStatus } from '../load/destination.js'
import { normalizationFingerprint, pageDigest } from '../normalize/normalization-fingerprint.js'
import { Normalizer } from '../normalize/normalizer.js'
import type { NormalizedBatch, Reject } from '../normalize/normalizer.js'
import { SchemaRegistry } from '../normalize/schema-registry.js'
import { STATE_VERSION } from '../state/pipeline-state.js'
import type { LookbackPage, PageAnchor, ResourceState } from '../state/pipeline-state.js'
import type { TableSchema } from '../normalize/table-schema.js'

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

/** What a run does: `run` (incremental), `backfill` (a created-at range), `reconcile`. */
export const RUN_MODES = ['run', 'backfill', 'reconcile'] as const
export type RunMode = (typeof RUN_MODES)[number]

export interface RunOptions {
  /** Stops the run after the batch being committed; the run ends `interrupted`. */
  readonly signal?: AbortSignal
  readonly onProgress?: (event: ProgressEvent) => void
  /** A wait of 5 s or more begins (a rate-limit reset, a retry backoff, a lock): for the log. */
  readonly onWait?: (event: WaitEvent) => void
  /** Recorded in `_thena_loads.command`. Default: the mode. */
  readonly command?: string
  /** Default `run`. */
  readonly mode?: RunMode
  /** Only these resources (default all). */
  readonly resources?: readonly string[]
  /** Backfill: created-at range, `from` inclusive, `to` exclusive; open ends when absent. */
  readonly range?: { readonly from?: Date; readonly to?: Date }
  /** Reconcile: the deletions are real, mark them even beyond the mass-delete guard. Default false. */
  readonly allowMassDelete?: boolean
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
}

/** Load ids sort by time: `20261123T184211Z-3f9a1c`. */
export const newLoadId = (now = new Date()): string =>
  `${now.toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`

/**
 * One incremental run: every resource, oldest page first, each batch of pages committed with
 * its state in one transaction. Incremental resources resume from their committed position;
 * full resources are re-read whole and merged.
 */
export async function runPipeline(
  pipeline: ResolvedPipeline,
  options: RunOptions = {},
): Promise<RunResult> {
  const started = Date.now()
  const client = new HttpClient(
    { ...pipeline.http, ...pipeline.client, ...pipeline.client.rateLimit },
    options.onWait ? { onWait: options.onWait } : {},
  )
  const refused = (error: unknown): RunResult => ({
    loadId: '',
    pipeline: pipeline.name,
    status: options.signal?.aborted ? 'interrupted' : 'failed',
    resources: [],
    records: 0,
    unchanged: 0,
    rejects: 0,
    requests: client.stats.requests,
    retries: client.stats.retries,
    rateLimited: client.stats.rateLimited,
    seconds: (Date.now() - started) / 1000,
    // Stopped by SIGTERM/SIGINT before anything started: an interruption, not an error.
    ...(!options.signal?.aborted && { error: asThenaSyncError(error) }),
  })
  // One request before the warehouse is written: a refused token writes nothing at all. Its
  // response is the first page of the first resource, and is used as such.
  let firstPage: PrefetchedPage | undefined
  const preflight = async () => {
    const first = pipeline.resources[0]
    if (!first) return
    const response = await client.get(
      first.path,
      pageQuery(first.resolvedPaginator, undefined),
      options.signal,
    )
    firstPage = { resource: first.name, response }
  }
  let session: DestinationSession | undefined
  let locked = false
  try {
    // An existing warehouse is opened and the pipeline's lock taken before any request, so a
    // second process finds it busy without touching the API; a new one is created only after
    // the preflight request succeeded.
    // Pipelines of this process that share a DuckDB file take turns on it.
    session = await connectInTurn(pipeline, client.waits, options.signal, false).catch(
      (error: unknown) => {
        if (error instanceof ThenaSyncError && error.code === 'warehouse_missing') return undefined
        throw error
      },
    )
    if (session) {
      await lockPipeline(session, pipeline)
      locked = true
      await preflight()
    } else {
      await preflight()
      session = await connectInTurn(pipeline, client.waits, options.signal)
      await lockPipeline(session, pipeline)
      locked = true
    }
  } catch (error) {
    // The first request failed (API down, token refused) or was stopped, on an existing
    // warehouse with the lock held: the run is on record, so that the loads show outages. On a
    // new warehouse (no session yet) nothing is written, and a refused token leaves no file.
    let loadId = ''
    if (session && locked && (client.stats.requests > 0 || !options.signal?.aborted)) {
      const run = new PipelineRun(pipeline, session, client, options)
      const failure = options.signal?.aborted ? undefined : asThenaSyncError(error)
      await run
        .recordEnded(failure ? 'failed' : 'interrupted', failure?.message)
        .then(() => (loadId = run.loadId))
        .catch(() => undefined)
      await session.unlock(pipeline.name).catch(() => undefined)
    }
    await client.close()
    await session?.close()
    return { ...refused(error), loadId }
  }
  const run = new PipelineRun(pipeline, session, client, options, firstPage)
  try {
    return await run.execute()
  } finally {
    await client.close()
    await session.unlock(pipeline.name).catch(() => undefined)
    await session.close()
  }
}

/**
 * Opens the destination, waiting for this process's turn on it (a DuckDB file another pipeline
 * of this process has open) at most `http.maxWaitSeconds`: a wait of more than a few seconds is
 * reported, and the run's signal ends it at once.
 */
async function connectInTurn(
  pipeline: ResolvedPipeline,
  waits: WaitPolicy,
  signal: AbortSignal | undefined,
  create?: false,
): Promise<DestinationSession> {
  const turn = new AbortController()
  const stop = () => turn.abort(signal?.reason)
  if (signal?.aborted) stop()
  signal?.addEventListener('abort', stop, { once: true })
  const timers: NodeJS.Timeout[] = []
  const what = `waiting for the turn on ${pipeline.destination.description} (another run of this process has it open)`
  const max = waits.maxWaitMs
  const onQueued = () => {
    if (max === 0 || max > LOGGED_WAIT_MS)
      timers.push(
        setTimeout(
          () => waits.report(what, max > 0 ? max - LOGGED_WAIT_MS : undefined),
          LOGGED_WAIT_MS,
        ),
      )
    if (max > 0)
      timers.push(
        setTimeout(
          () =>
            turn.abort(
              // Busy, not failed: `schedule` skips this tick as it does for a held lock.
              new TransientError(
                'destination_busy',
                `${what}: still waiting after ${MAX_WAIT_SETTING} (${formatSeconds(max)}), so this run stopped before writing anything; the next one tries again`,
              ),
            ),
          max,
        ),
      )
  }
  try {
    return await pipeline.destination.connect({
      ...(create === false && { create }),
      wait: true,
      signal: turn.signal,
      ...(signal && { stop: signal }),
      maxLockWaitMs: max,
      onQueued,
    })
  } finally {
    for (const timer of timers) clearTimeout(timer)
    signal?.removeEventListener('abort', stop)
  }
}

/** Takes the pipeline's run lock, or fails with `pipeline_busy` when another process has it. */
export async function lockPipeline(
  session: DestinationSession,
  pipeline: ResolvedPipeline,
): Promise<void> {
  if (!(await session.tryLock(pipeline.name)))
    throw new TransientError(
      'pipeline_busy',
      `pipeline ${pipeline.name} is running in another process (it holds the lock on ${pipeline.destination.description}); retry when it has finished`,
    )
}

class PipelineRun {
  readonly loadId = newLoadId()
  readonly #p: ResolvedPipeline
  readonly #session: DestinationSession
  readonly #client: HttpClient
  readonly #options: RunOptions
  readonly #startedAt = new Date()
  readonly #results: ResourceResult[] = []
  #registry!: SchemaRegistry
  #states = new Map<string, ResourceState>()
  #records = 0
  #unchanged = 0
  #rejects = 0
  /** Ids known to exist per resource, for dependent lookups (filled lazily). */
  readonly #known = new Map<string, Set<string>>()
  /** Normalizers of resources that receive dependent records. */
  readonly #dependentNormalizers = new Map<string, Normalizer>()
  /** Ids each resource's reconcile scan saw (reconcile only). */
  readonly #seen = new Map<string, Set<string>>()
  #deleted = 0

  /** The preflight response, used as the first page of its resource if the walk starts there. */
  #firstPage: PrefetchedPage | undefined

  constructor(
    p: ResolvedPipeline,
    session: DestinationSession,
    client: HttpClient,
    options: RunOptions,
    firstPage?: PrefetchedPage,
  ) {
    this.#firstPage = firstPage
    this.#p = p
    this.#session = session
    this.#client = client
    this.#options = options
  }

  /** The run's load row; `pending` adds what the commit that writes it also commits. */
  #load(status: LoadStatus, error?: string, pending?: Counts): LoadRecord {
    const s = this.#client.stats
    return {
      loadId: this.loadId,
      pipeline: this.#p.name,
      command: this.#options.command ?? this.#options.mode ?? 'run',
      status,
      startedAt: this.#startedAt,
      ...(status !== 'running' && { finishedAt: new Date() }),
      records: this.#records + (pending?.records ?? 0),
      rejects: this.#rejects + (pending?.rejects ?? 0),
      requests: s.requests,
      retries: s.retries,
      rateLimited: s.rateLimited,
      unchanged: this.#unchanged + (pending?.unchanged ?? 0),
      ...(error !== undefined && { error }),
    }
  }

  #result(status: RunResult['status'], error?: ThenaSyncError): RunResult {
    const s = this.#client.stats
    return {
      loadId: this.loadId,
      pipeline: this.#p.name,
      status,
      resources: this.#results,
      records: this.#records,
      unchanged: this.#unchanged,
      rejects: this.#rejects,
      requests: s.requests,
      retries: s.retries,
      rateLimited: s.rateLimited,
      seconds: (Date.now() - this.#startedAt.getTime()) / 1000,
      deleted: this.#deleted,
      ...(error && { error }),
    }
  }

  /**
   * Records a run that ended before it began loading (its first request failed, or it was
   * stopped meanwhile), with the requests it made: a warehouse's loads show every outage.
   */
  async recordEnded(status: 'failed' | 'interrupted', error?: string): Promise<void> {
    await retryTransient(() => this.#session.prepare())
    await retryTransient(() =>
      this.#session.transaction((tx) => tx.writeLoad(this.#load(status, error))),
    )
  }

  /** Counts of a commit, added to the run's once it has committed. */
  #committed(result: MutableResult, counts: Counts): void {
    this.#records += counts.records
    this.#rejects += counts.rejects
    this.#unchanged += counts.unchanged
    result.records += counts.resourceRecords
    result.rejects += counts.resourceRejects
    result.unchanged += counts.unchanged
  }

  async execute(): Promise<RunResult> {
    const session = this.#session
    try {
      await retryTransient(() => session.prepare())
      this.#registry = new SchemaRegistry(
        this.#p.destination.capabilities,
        await retryTransient(() => session.readTables()),
      )
      this.#states = await retryTransient(() => session.readState(this.#p.name))
      await retryTransient(() =>
        session.transaction(async (tx) => {
          await tx.abortStaleLoads(this.#p.name, this.loadId)
          await tx.writeLoad(this.#load('running'))
        }),
      )
      // A page that never parses stops its own resource only (it is quarantined, and the walk
      // cannot go past a cursor it cannot read); the other resources still load, then the run
      // reports the failure and a reconcile deletes nothing.
      // So does a saved position the API refuses: one error then names every resource to reset.
      let unreadable: InvalidBodyError | undefined
      const refused: ResumeRejectedError[] = []
      for (const resource of this.#p.resources) {
        if (this.#options.signal?.aborted) break
        if (this.#options.resources && !this.#options.resources.includes(resource.name)) continue
        try {
          await this.#syncResource(resource)
        } catch (error) {
          if (error instanceof ResumeRejectedError) refused.push(error)
          else if (error instanceof InvalidBodyError) unreadable ??= error
          else throw error
        }
      }
      if (refused.length > 0) throw ResumeRejectedError.combine(refused)
      if (unreadable) throw unreadable
      if (this.#options.mode === 'reconcile' && !this.#options.signal?.aborted)
        await this.#markDeleted()
    } catch (error) {
      const interrupted = this.#options.signal?.aborted === true
      const failure = interrupted ? undefined : asThenaSyncError(error)
      await retryTransient(() =>
        session.transaction((tx) =>
          tx.writeLoad(this.#load(interrupted ? 'interrupted' : 'failed', failure?.message)),
        ),
      ).catch(() => undefined)
      return this.#result(interrupted ? 'interrupted' : 'failed', failure)
    }
    const status = this.#options.signal?.aborted ? 'interrupted' : 'success'
    await retryTransient(() => session.transaction((tx) => tx.writeLoad(this.#load(status))))
    return this.#result(status)
  }

  /** Where a resource's walk starts, which records it keeps, and what it remembers. */
  #plan(resource: ResolvedResource): WalkPlan {
    const previous = this.#states.get(resource.name)
    const mode = this.#options.mode ?? 'run'
    const field = resource.createdAtField
    const cutoff =
      field && resource.lookbackDays > 0 ? Date.now() - resource.lookbackDays * DAY_MS : undefined
    if (mode === 'backfill') {
      const { from, to } = this.#options.range ?? {}
      const query: Record<string, string> = {}
      if (field && from && resource.backfillParams.from)
        query[resource.backfillParams.from] = from.toISOString()
      if (field && to && resource.backfillParams.to)
        query[resource.backfillParams.to] = to.toISOString()
      return {
        start: undefined,
        query,
        ...(field && { range: { field, from: from?.getTime(), to: to?.getTime() } }),
        lookback: undefined,
        writeState: false,
      }
    }
    const base = { query: {}, writeState: true }
    if (mode === 'reconcile' || resource.sync === 'full')
      return {
        ...base,
        start: undefined,
        lookback: field && cutoff ? { field, cutoff, pages: [] } : undefined,
      }
    // An incremental run re-reads from the oldest page holding records of the lookback window
    // (to pick up their updates), else resumes where the last commit left off.
    const pages = cutoff
      ? (previous?.lookback ?? []).filter((p) => Date.parse(p.lastCreatedAt) >= cutoff)
      : []
    const lookback = field && cutoff ? { field, cutoff, pages: [] as LookbackPage[] } : undefined
    if (pages.length === 0) {
      const anchor = previous?.anchor
      return {
        ...base,
        start: previous?.position ?? undefined,
        lookback,
        ...(anchor && { covers: (records) => coversAnchor(records, resource, anchor) }),
      }
    }
    const unchanged = new Map<string, string>()
    for (const page of pages)
      if (page.digest !== undefined) unchanged.set(positionKey(page.position), page.digest)
    return {
      ...base,
      start: pages[0]!.position ?? undefined,
      lookback,
      unchanged,
      // The page must start before the window, or some of the window's records are skipped.
      covers: (records) => (createdAtOf(records[0], field!) ?? Infinity) < cutoff!,
    }
  }

  /**
   * Where a walk that resumes at `start` must begin so that it skips nothing, for positions
   * that shift when the source deletes records: the page at `start` is read, and while it does
   * not `cover` what the last run committed (an empty page, or one that starts after it), the
   * walk steps back a page. The pages read on the way are kept in `pages` for the walk.
   */
  async #locateStart(
    resource: ResolvedResource,
    target: WalkTarget,
    start: PagePosition | undefined,
    covers: (records: readonly unknown[]) => boolean,
    pages: Map<string, JsonResponse>,
  ): Promise<PagePosition | undefined> {
    const traits = paginatorTraits(resource.resolvedPaginator)
    let position = start
    for (;;) {
      const key = positionKey(position)
      const response =
        pages.get(key) ?? (await fetchPageAt(this.#client, target, position, this.#options.signal))
      if (pages.size < this.#p.batchPages) pages.set(key, response)
      const records = recordsOf(target, response.body)
      // A page that does not parse is the walk's to report.
      if (!Array.isArray(records) || (records.length > 0 && covers(records))) return position
      const previous = traits.previous(resource.resolvedPaginator, position)
      if (!previous) return position
      position = previous.position
    }
  }

  async #syncResource(resource: ResolvedResource): Promise<void> {
    const normalizer = new Normalizer(this.#registry, resource, this.loadId, resource.contract)
    const plan = this.#plan(resource)
    const previous = this.#states.get(resource.name)
    let state: ResourceState = previous ?? { version: STATE_VERSION, records: 0 }
    if (!plan.writeState && state.lookback?.some((p) => p.digest !== undefined)) {
      // A backfill writes rows without moving the state, so digests of pages as an earlier run
      // loaded them no longer prove the warehouse holds those pages: they are dropped first.
      const forgotten = { ...state, lookback: state.lookback.map(({ digest: _, ...p }) => p) }
      await retryTransient(() =>
        this.#session.transaction((tx) =>
          tx.writeState(this.#p.name, resource.name, forgotten, this.loadId),
        ),
      )
      this.#states.set(resource.name, (state = forgotten))
    }
    const refs = new Map<string, Set<string>>()
    const result: MutableResult = {
      resource: resource.name,
      pages: 0,
      records: 0,
      unchanged: 0,
      rejects: 0,
    }
    const seen = this.#seenIds(resource.name)
    let pagesInBatch = 0
    let unchangedInBatch = 0
    const signal = this.#options.signal
    const eta = new EtaEstimate(plan.range)
    const fingerprint = plan.lookback ? normalizationFingerprint(resource) : undefined
    for (const dep of resource.dependents ?? []) await this.#knownIds(dep.resource)
    // One commit may be in flight while the next batch is fetched and normalized: the
    // destination works in its own threads meanwhile. Commits still happen strictly in order.
    let inFlight: Promise<void> | undefined
    const target: WalkTarget = {
      path: resource.path,
      recordsPath: resource.recordsPath,
      paginator: resource.resolvedPaginator,
      query: plan.query,
    }
    const prefetched = new Map<string, JsonResponse>()
    if (this.#firstPage?.resource === resource.name && Object.keys(plan.query).length === 0)
      prefetched.set(positionKey(undefined), this.#firstPage.response)
    this.#firstPage = undefined
    const shifts = paginatorTraits(resource.resolvedPaginator).positionsShift
    const start =
      shifts && plan.covers && plan.start !== undefined
        ? await this.#locateStart(resource, target, plan.start, plan.covers, prefetched).catch(
            (error: unknown) => {
              throw this.#resumeRefused(error, resource, plan.start)
            },
          )
        : plan.start
    // Page numbers: the walk resumes at the last page that held records (re-read), anchored to
    // them, so that the next run can tell whether deletions moved them.
    let resumeAt: { position: PagePosition | undefined; anchor: PageAnchor } | undefined
    const pages = walkResource(this.#client, target, start, signal, prefetched)
    try {
      for await (const page of pages) {
        let pastRange = false
        let newest: number | undefined
        // Hashed only for pages of the window: hashing every page of a full walk would cost
        // about as much as validating it.
        const stored = plan.unchanged?.get(positionKey(page.position))
        let digest = stored === undefined ? undefined : pageDigest(fingerprint!, page.text)
        const unchanged = stored !== undefined && digest === stored
        if (unchanged) unchangedInBatch += page.records.length
        for (const record of page.records) {
          if (plan.range || plan.lookback) {
            const created = createdAtOf(record, (plan.range ?? plan.lookback)!.field)
            if (created !== undefined) {
              newest = newest === undefined || created > newest ? created : newest
              eta.observe(created)
              if (plan.range) {
                if (plan.range.to !== undefined && created >= plan.range.to) {
                  pastRange = true
                  continue
                }
                if (plan.range.from !== undefined && created < plan.range.from) continue
              }
            }
          }
          // Its records and their references were merged when this digest was committed.
          if (unchanged) continue
          normalizer.add(record)
          for (const dep of resource.dependents ?? []) {
            const ref = valueAt(record, [dep.field])
            if (typeof ref === 'string' && ref !== '') {
              let set = refs.get(dep.resource)
              if (!set) refs.set(dep.resource, (set = new Set()))
              set.add(ref)
              this.#seenIds(dep.resource)?.add(ref)
            }
          }
        }
        if (plan.lookback && newest !== undefined && newest >= plan.lookback.cutoff) {
          const at = positionKey(page.position)
          const pages = plan.lookback.pages.filter((p) => positionKey(p.position) !== at)
          pages.push({
            position: page.position ?? null,
            lastCreatedAt: new Date(newest).toISOString(),
            digest: (digest ??= pageDigest(fingerprint!, page.text)),
          })
          plan.lookback.pages = pages
        }
        if (shifts && page.records.length > 0)
          resumeAt = { position: page.position, anchor: anchorOf(page.records, resource) }
        result.pages++
        pagesInBatch++
        // Oldest first: once a record is past the range, every later page is too.
        const last = page.next === undefined || pastRange
        if (!last && pagesInBatch < this.#p.batchPages) continue
        // After the last page the walk resumes by re-reading that page: new records land there.
        const position: PagePosition | undefined = shifts
          ? resumeAt
            ? resumeAt.position
            : (state.position ?? undefined)
          : (page.next ?? page.position)
        const batch = normalizer.take()
        const dependents = await this.#fetchDependents(resource, refs)
        refs.clear()
        if (seen) {
          for (const id of batch.rootIds) seen.add(id)
          for (const r of batch.rejects) if (r.recordId !== null) seen.add(r.recordId)
        }
        const now = new Date().toISOString()
        const committed: ResourceState = {
          ...state,
          version: STATE_VERSION,
          ...(resource.sync === 'incremental' && position && { position }),
          anchor: shifts ? (resumeAt?.anchor ?? state.anchor) : undefined,
          ...(plan.lookback && { lookback: [...plan.lookback.pages] }),
          records: state.records + batch.rootIds.length,
          updatedAt: now,
          ...(last && { completedAt: now }),
        }
        if (plan.writeState) state = committed
        // Counted once committed: a failed run's row says what the warehouse holds.
        const counts: Counts = {
          records: batch.rootIds.length + dependents.reduce((n, b) => n + b.rootIds.length, 0),
          rejects: batch.rejects.length + dependents.reduce((n, b) => n + b.rejects.length, 0),
          unchanged: unchangedInBatch,
          resourceRecords: batch.rootIds.length,
          resourceRejects: batch.rejects.length,
        }
        unchangedInBatch = 0
        this.#remember(resource.name, batch)
        for (const b of dependents) this.#remember(b.resource, b)
        const etaSeconds = eta.seconds()
        const pages = result.pages
        await inFlight
        inFlight = commitBatch(this.#session, this.#registry, {
          pipeline: this.#p.name,
          loadId: this.loadId,
          batches: [batch, ...dependents],
          states: plan.writeState ? new Map([[resource.name, committed]]) : new Map(),
          load: (quarantined) =>
            this.#load('running', undefined, withQuarantined(counts, quarantined, resource.name)),
        }).then((quarantined) => {
          if (plan.writeState) this.#states.set(resource.name, committed)
          this.#committed(result, withQuarantined(counts, quarantined, resource.name))
          this.#options.onProgress?.({
            resource: resource.name,
            pages,
            records: result.records,
            unchanged: result.unchanged,
            done: last,
            ...(etaSeconds !== undefined && { etaSeconds }),
          })
        })
        // Awaited before the next commit or after the loop; never an unhandled rejection.
        inFlight.catch(() => undefined)
        pagesInBatch = 0
        if (signal?.aborted || last) break
      }
      await inFlight
    } catch (error) {
      // The commit in flight must settle before anything else uses the connection.
      await inFlight?.catch(() => undefined)
      // Nothing is dropped silently: a page that never parsed is kept in the rejects table.
      if (error instanceof InvalidBodyError) await this.#quarantinePage(resource, error)
      // Before the first page arrived, the request that failed carried the saved position.
      throw result.pages === 0 ? this.#resumeRefused(error, resource, start) : error
    }
    this.#results.push(result)
  }

  /**
   * A request for the position a walk resumed from (saved by an earlier run) that the API
   * refused with a client error: the position is stale or foreign (another account, another
   * API), and every later run would fail the same way until the resource starts over.
   */
  #resumeRefused(error: unknown, resource: ResolvedResource, start: PagePosition | undefined) {
    if (start === undefined || !(error instanceof ThenaSyncError)) return error
    if (error.code !== 'http_client_error') return error
    const saved = start.cursor != null ? 'cursor' : 'page'
    return new ResumeRejectedError(this.#p.name, [resource.name], saved, error.message, error)
  }

  async #quarantinePage(resource: ResolvedResource, error: InvalidBodyError): Promise<void> {
    const reject = {
      resource: resource.name,
      recordId: null,
      reason: error.message,
      raw: error.body,
    }
    await retryTransient(() =>
      this.#session.transaction((tx) => tx.writeRejects(this.#p.name, this.loadId, [reject])),
    ).then(
      () => void this.#rejects++,
      () => undefined,
    )
  }

  /** Ids seen by a reconcile scan, per resource (undefined when not reconciling). */
  #seenIds(resource: string): Set<string> | undefined {
    if (this.#options.mode !== 'reconcile') return undefined
    let seen = this.#seen.get(resource)
    if (!seen) this.#seen.set(resource, (seen = new Set()))
    return seen
  }

  /**
   * After every resource was scanned completely: rows no longer in the source get
   * `_thena_deleted_at`, in one transaction with each resource's `reconciledAt`. A scan that
   * would mark all of a table, or more than `reconcile.maxDeleteShare` of it, is taken for an
   * API that lied (an empty or cut-short list): the transaction rolls back and nothing is
   * marked, unless the run was told the deletions are real (`allowMassDelete`).
   */
  async #markDeleted(): Promise<void> {
    const now = new Date()
    const marks: [TableSchema, string[]][] = []
    for (const [resource, ids] of this.#seen) {
      const table = this.#registry.table(resource)?.schema
      if (table) marks.push([{ ...table, columns: [...table.columns] }, [...ids]])
    }
    const share = this.#p.reconcile.maxDeleteShare
    const reconciled = new Map<string, ResourceState>()
    await retryTransient(() =>
      this.#session.transaction(async (tx) => {
        let deleted = 0
        for (const [table, ids] of marks) {
          const live = await tx.countLive(table)
          const marked = await tx.markDeleted(table, ids, now)
          if (
            !this.#options.allowMassDelete &&
            marked > 0 &&
            (marked === live || marked > share * live)
          )
            throw new TerminalError(
              'reconcile_guard',
              `reconcile would soft-delete ${marked} of the ${live} rows of ${table.name} (${Math.round((100 * marked) / live)}%; the guard allows ${marked === live ? 'never all of them' : `at most ${Math.round(share * 100)}%`}): the API may have returned an empty or cut-short list, so nothing was marked. If the deletions are real, run \`thena-sync reconcile --allow-mass-delete\` (or raise reconcile.maxDeleteShare)`,
            )
          deleted += marked
        }
        for (const resource of this.#p.resources) {
          const state = this.#states.get(resource.name) ?? { version: STATE_VERSION, records: 0 }
          const next = { ...state, reconciledAt: now.toISOString() }
          await tx.writeState(this.#p.name, resource.name, next, this.loadId)
          reconciled.set(resource.name, next)
        }
        this.#deleted = deleted
      }),
    )
    for (const [resource, state] of reconciled) this.#states.set(resource, state)
  }

  #remember(resource: string, batch: NormalizedBatch): void {
    const known = this.#known.get(resource)
    if (known) for (const id of batch.rootIds) known.add(id)
  }

  async #knownIds(resource: string): Promise<Set<string>> {
    let known = this.#known.get(resource)
    if (known) return known
    known = new Set()
    const table = this.#registry.table(resource)?.schema
    if (table) {
      const res = await this.#session.query(
        `SELECT ${quote(table.primaryKey)} AS id FROM ${quote(this.#p.dataset)}.${quote(table.name)}`,
      )
      for (const row of res.rows) known.add(String(row.id))
    }
    this.#known.set(resource, known)
    return known
  }

  /** Fetches referenced records that are not loaded yet (e.g. users missing from `/users`). */
  async #fetchDependents(
    resource: ResolvedResource,
    refs: Map<string, Set<string>>,
  ): Promise<NormalizedBatch[]> {
    const batches: NormalizedBatch[] = []
    for (const dep of resource.dependents ?? []) {
      const ids = refs.get(dep.resource)
      if (!ids || ids.size === 0) continue
      const known = await this.#knownIds(dep.resource)
      const missing = [...ids].filter((id) => !known.has(id))
      if (missing.length === 0) continue
      const target = this.#p.source.resources.find((r) => r.name === dep.resource)
      if (!target)
        throw new TerminalError(
          'config_invalid',
          `dependent resource \`${dep.resource}\` is not defined`,
        )
      let normalizer = this.#dependentNormalizers.get(dep.resource)
      if (!normalizer)
        this.#dependentNormalizers.set(
          dep.resource,
          (normalizer = new Normalizer(
            this.#registry,
            target,
            this.loadId,
            this.#p.resources.find((r) => r.name === dep.resource)?.contract,
          )),
        )
      const responses = await Promise.all(
        missing.map((id) =>
          this.#client.get(
            dep.path.replace('{id}', encodeURIComponent(id)),
            {},
            this.#options.signal,
            { allowNotFound: true },
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
    return batches
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

/**
 * The API refused, with a client error, the saved position (cursor or page) a resource resumed
 * from: it is stale or foreign, and every run would fail alike until the resource starts over.
 */
class ResumeRejectedError extends TerminalError {
  constructor(
    readonly pipeline: string,
    readonly resources: readonly string[],
    readonly saved: 'cursor' | 'page',
    readonly reason: string,
    cause: unknown,
  ) {
    const one = resources.length === 1
    super(
      'resume_rejected',
      `${one ? 'resource' : 'resources'} ${resources.join(', ')}: the API refused the saved ${saved} ${one ? 'this run' : 'each'} resumed from (${one ? '' : 'first: '}${reason}); if ${one ? 'it is' : 'they are'} stale or from another account, start ${one ? resources[0] : 'them'} over with \`thena-sync reset --pipeline ${pipeline} --resource ${resources.join(' ')}\``,
      { cause },
    )
  }

  /** One error for all the resources refused in a run, in their order. */
  static combine(errors: readonly ResumeRejectedError[]): ResumeRejectedError {
    const [first] = errors as [ResumeRejectedError]
    if (errors.length === 1) return first
    const resources = errors.flatMap((e) => e.resources)
    return new ResumeRejectedError(first.pipeline, resources, first.saved, first.reason, first)
  }
}

function asThenaSyncError(error: unknown): ThenaSyncError {
  if (error instanceof ThenaSyncError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new TerminalError('internal', message, { cause: error })
}

const DAY_MS = 86_400_000

/** What one commit adds to the run's counters (and to its resource's). */
interface Counts {
  readonly records: number
  readonly rejects: number
  readonly unchanged: number
  readonly resourceRecords: number
  readonly resourceRejects: number
}

/** `counts` once the destination refused `quarantined` (they became rejects). */
function withQuarantined(counts: Counts, quarantined: readonly Reject[], resource: string): Counts {
  if (quarantined.length === 0) return counts
  const own = quarantined.filter((r) => r.resource === resource).length
  return {
    ...counts,
    records: counts.records - quarantined.length,
    rejects: counts.rejects + quarantined.length,
    resourceRecords: counts.resourceRecords - own,
    resourceRejects: counts.resourceRejects + own,
  }
}

type MutableResult = { -readonly [K in keyof ResourceResult]: ResourceResult[K] }

/** A first page already fetched (by the preflight request). */
interface PrefetchedPage {
  readonly resource: string
  readonly response: JsonResponse
}

/** How one resource is walked in this run. */
interface WalkPlan {
  readonly start: PagePosition | undefined
  /** Extra query parameters (backfill date filters). */
  readonly query: Readonly<Record<string, string>>
  /** Backfill: only records created in [from, to); the walk stops at the first one past `to`. */
  readonly range?: { readonly field: string; readonly from?: number; readonly to?: number }
  /** Pages of the lookback window, collected as the walk goes. */
  readonly lookback:
    { readonly field: string; readonly cutoff: number; pages: LookbackPage[] } | undefined
  /**
   * Digests of the lookback pages as last committed, by position: a page read again with the
   * same digest holds what the warehouse already has, and is not merged again (`run` only).
   */
  readonly unchanged?: ReadonlyMap<string, string>
  /** False for backfill: it never moves the live cursor. */
  readonly writeState: boolean
  /**
   * Whether a page's records cover what the walk must not skip (the last committed record, or
   * the start of the lookback window): checked where the walk resumes, for positions that shift.
   */
  readonly covers?: (records: readonly unknown[]) => boolean
}

/** The first and last record ids of a page, and the creation time of its last record. */
function anchorOf(records: readonly unknown[], resource: ResolvedResource): PageAnchor {
  const idOf = (record: unknown) => String(valueAt(record, [resource.primaryKey]))
  const last = records.at(-1)
  const created = resource.createdAtField ? createdAtOf(last, resource.createdAtField) : undefined
  return {
    ids: [...new Set([idOf(records[0]), idOf(last)])],
    ...(created !== undefined && { createdAt: new Date(created).toISOString() }),
  }
}

/**
 * Whether a page starts at or before the anchored page: it holds one of its records, or its
 * first record was created before the anchor's last one (the list is oldest first).
 */
function coversAnchor(
  records: readonly unknown[],
  resource: ResolvedResource,
  anchor: PageAnchor,
): boolean {
  const ids = new Set(anchor.ids)
  if (records.some((r) => ids.has(String(valueAt(r, [resource.primaryKey]))))) return true
  if (anchor.createdAt === undefined || !resource.createdAtField) return false
  const first = createdAtOf(records[0], resource.createdAtField)
  return first !== undefined && first < Date.parse(anchor.createdAt)
}

const createdAtOf = (record: unknown, field: string): number | undefined => {
  const value = valueAt(record, [field])
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isNaN(ms) ? undefined : ms
}

/** Time left of a walk over a created-at range, from how fast creation times advance. */
class EtaEstimate {
  readonly #to: number | undefined
  readonly #started = Date.now()
  #first: number | undefined
  #latest: number | undefined

  constructor(range: WalkPlan['range']) {
    this.#to = range ? (range.to ?? Date.now()) : undefined
  }

  observe(created: number): void {
    this.#first ??= created
    this.#latest = created
  }

  seconds(): number | undefined {
    if (this.#to === undefined || this.#first === undefined || this.#latest === undefined)
      return undefined
    const covered = this.#latest - this.#first
    const left = this.#to - this.#latest
    if (covered <= 0) return undefined
    return Math.max(0, Math.round(((Date.now() - this.#started) / 1000) * (left / covered)))
  }
}
