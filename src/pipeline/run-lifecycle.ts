import { randomBytes } from 'node:crypto'
import type { Context } from '@opentelemetry/api'
import { httpClientOptions } from '../config/resolve-pipeline.js'
import type { ResolvedPipeline, ResolvedResource } from '../config/resolve-pipeline.js'
import { TerminalError, ThenaSyncError, TransientError } from '../errors.js'
import { fetchPageAt, walkTargetOf } from '../extract/walk-resource.js'
import { HttpClient, HttpRefusedError, InvalidBodyError } from '../http/http-client.js'
import type { JsonResponse } from '../http/http-client.js'
import { formatSeconds, LOGGED_WAIT_MS, MAX_WAIT_SETTING } from '../http/wait-policy.js'
import type { WaitEvent, WaitPolicy } from '../http/wait-policy.js'
import { retryTransient } from '../load/commit-batch.js'
import type { DestinationSession, LoadStatus } from '../load/destination.js'
import { SchemaRegistry } from '../normalize/schema-registry.js'
import type { PagePosition } from '../source/paginators/paginator.js'
import { positionKey } from '../source/incremental/strategy.js'
import type { ResourcePlan, RunMode } from '../source/incremental/strategy.js'
import type { ResourceState } from '../state/resource-state.js'
import { RunStats } from './run-stats.js'
import type { NoticeEvent, ProgressEvent, RunResult, SchemaChangeNote } from './run-stats.js'

/** How a run is started and what it reports while it goes. */
export interface RunOptions {
  /** Stops the run after the batch being committed; the run ends `interrupted`. */
  readonly signal?: AbortSignal
  readonly onProgress?: (event: ProgressEvent) => void
  /** Something the run chose or skipped that the user should know (a detected paginator). */
  readonly onNotice?: (event: NoticeEvent) => void
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

/** Load ids sort by time: `20261123T184211Z-3f9a1c`. */
export const newLoadId = (now = new Date()): string =>
  `${now.toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`

/** A run that began: the warehouse open and locked, its `running` row written. */
export class OpenRun {
  readonly mode: RunMode
  readonly registry: SchemaRegistry
  /** Committed state per resource, kept up to date as batches commit. */
  readonly states: Map<string, ResourceState>
  readonly #preflight: { resource: string; response: JsonResponse } | undefined
  readonly #refusal: { resource: string; error: unknown } | undefined

  constructor(
    readonly pipeline: ResolvedPipeline,
    readonly options: RunOptions,
    readonly session: DestinationSession,
    readonly http: HttpClient,
    readonly stats: RunStats,
    registry: SchemaRegistry,
    states: Map<string, ResourceState>,
    preflight: { resource: string; response: JsonResponse } | undefined,
    refusal?: { resource: string; error: unknown },
  ) {
    this.mode = options.mode ?? 'run'
    this.registry = registry
    this.states = states
    this.#preflight = preflight
    this.#refusal = refusal
  }

  /** The refusal of the preflight request, when it was this resource's (a tier 403): used once. */
  refusedAtPreflight(resource: ResolvedResource): unknown {
    return this.#refusal?.resource === resource.name ? this.#refusal.error : undefined
  }

  get loadId(): string {
    return this.stats.loadId
  }

  /** The resources this run walks, in order. */
  resources(): ResolvedResource[] {
    const only = this.options.resources
    return this.pipeline.resources.filter((r) => !only || only.includes(r.name))
  }

  /**
   * The preflight response, as the first page of its resource when the walk starts there with
   * no extra parameters: used once.
   */
  prefetched(resource: ResolvedResource, plan: ResourcePlan): Map<string, JsonResponse> {
    const pages = new Map<string, JsonResponse>()
    const first = this.#preflight
    if (first?.resource === resource.name && Object.keys(plan.query).length === 0)
      pages.set(positionKey(undefined), first.response)
    return pages
  }

  /**
   * What a resource's failure means for the run: a page that never parses is quarantined and
   * stops that resource only; a saved position the API refuses names the resource to reset.
   * Any other error ends the run.
   */
  async resourceFailed(
    resource: ResolvedResource,
    error: unknown,
    start: PagePosition | undefined,
    pages: number,
  ): Promise<ResourceFailure> {
    // Nothing is dropped silently: a page that never parsed is kept in the rejects table.
    if (error instanceof InvalidBodyError) {
      const reject = {
        resource: resource.name,
        recordId: null,
        reason: error.message,
        raw: error.body,
      }
      await retryTransient(() =>
        this.session.transaction((tx) =>
          tx.writeRejects(this.pipeline.name, this.loadId, [reject]),
        ),
      ).then(
        () => this.stats.rejected(),
        () => undefined,
      )
    }
    // Before the first page arrived, the request that failed carried the saved position.
    const refused =
      pages === 0 &&
      start !== undefined &&
      error instanceof ThenaSyncError &&
      error.code === 'http_client_error'
    if (refused)
      return {
        refused: new ResumeRejectedError(
          this.pipeline.name,
          [resource.name],
          savedKind(start),
          error.message,
          error,
        ),
      }
    if (error instanceof InvalidBodyError) return { unreadable: error }
    throw error
  }

  /** Writes the final load row and returns the run's result. */
  async finish(status: 'success' | 'failed' | 'interrupted', error?: unknown): Promise<RunResult> {
    const failure = status === 'failed' ? asThenaSyncError(error) : undefined
    const write = () =>
      retryTransient(() =>
        this.session.transaction((tx) => tx.writeLoad(this.stats.load(status, failure?.message))),
      )
    // A failed run's row is best effort: the error it reports matters more.
    if (status === 'success') await write()
    else await write().catch(() => undefined)
    await this.#noteSchemaChanges()
    return this.stats.result(status, failure)
  }

  /** What the run's commits added to the schema, for notifications; best effort. */
  async #noteSchemaChanges(): Promise<void> {
    const history = await this.session.readSchemaHistory().catch(() => [])
    const resourceOf = new Map(this.registry.tables.map((t) => [t.name, t.resource]))
    const notes = new Map<string, SchemaChangeNote & { columns: string[] }>()
    for (const entry of history) {
      if (entry.loadId !== this.loadId) continue
      const key = `${entry.table}\u0000${entry.event}`
      let note = notes.get(key)
      if (!note) {
        const resource = resourceOf.get(entry.table) ?? entry.table
        notes.set(key, (note = { resource, table: entry.table, event: entry.event, columns: [] }))
      }
      note.columns.push(entry.column)
    }
    this.stats.schemaChanged([...notes.values()])
  }

  async close(): Promise<void> {
    await this.http.close()
    await this.session.unlock(this.pipeline.name).catch(() => undefined)
    await this.session.close()
  }
}

/** How a resource's walk failed without ending the run. */
export type ResourceFailure =
  | { readonly refused: ResumeRejectedError; readonly unreadable?: undefined }
  | { readonly unreadable: InvalidBodyError; readonly refused?: undefined }

/**
 * The resources whose walk failed without ending the run: a page that never parses, or a saved
 * position the API refuses, stops its own resource only. Once the others loaded, the run
 * fails with one error naming every resource to reset, else with the unreadable page.
 */
export class ResourceFailures {
  readonly #refused: ResumeRejectedError[] = []
  #unreadable: InvalidBodyError | undefined

  add(failure: ResourceFailure): void {
    if (failure.refused) this.#refused.push(failure.refused)
    else this.#unreadable ??= failure.unreadable
  }

  throwIfAny(): void {
    if (this.#refused.length > 0) throw ResumeRejectedError.combine(this.#refused)
    if (this.#unreadable) throw this.#unreadable
  }
}

/** A run that could not begin: its result, and a load row when the warehouse was there. */
export interface RefusedRun {
  readonly result: RunResult
}

/**
 * Begins a run: opens the warehouse and takes the pipeline's lock, makes one request before
 * anything is written (a refused token writes nothing; its response is the first page of the
 * first resource), then aborts stale `running` rows and writes this run's. `trace` is the
 * parent of the preflight request's span (default the active context).
 */
export async function openRun(
  pipeline: ResolvedPipeline,
  options: RunOptions,
  trace?: Context,
): Promise<OpenRun | RefusedRun> {
  const http = new HttpClient(
    httpClientOptions(pipeline),
    options.onWait ? { onWait: options.onWait } : {},
  )
  const stats = new RunStats(
    newLoadId(),
    pipeline.name,
    options.command ?? options.mode ?? 'run',
    http.stats,
  )
  let preflight: { resource: string; response: JsonResponse } | undefined
  let refusal: { resource: string; error: unknown } | undefined
  const request = async () => {
    // The first resource whose first page is one plain request (no placeholder to fill).
    const first = pipeline.resources.find((r) => !r.parent && !r.forEach)
    if (!first) return
    try {
      preflight = {
        resource: first.name,
        response: await fetchPageAt(
          http,
          { ...walkTargetOf(first), ...(trace && { trace }) },
          undefined,
          options.signal,
        ),
      }
    } catch (error) {
      // The API knows the key but not this endpoint for this account: the run skips it.
      if (skipReason(first, error) === undefined) throw error
      refusal = { resource: first.name, error }
    }
  }
  let session: DestinationSession | undefined
  let locked = false
  try {
    // An existing warehouse is opened and the pipeline's lock taken before any request, so a
    // second process finds it busy without touching the API; a new one is created only after
    // the preflight request succeeded.
    session = await connectInTurn(pipeline, http.waits, options.signal, false).catch(
      (error: unknown) => {
        if (error instanceof ThenaSyncError && error.code === 'warehouse_missing') return undefined
        throw error
      },
    )
    if (session) {
      await lockPipeline(session, pipeline)
      stats.locked()
      locked = true
      await request()
    } else {
      await request()
      session = await connectInTurn(pipeline, http.waits, options.signal)
      await lockPipeline(session, pipeline)
      stats.locked()
      locked = true
    }
  } catch (error) {
    return { result: await refuse(pipeline, options, stats, http, session, locked, error) }
  }
  try {
    await retryTransient(() => session.prepare())
    const registry = new SchemaRegistry(
      pipeline.destination.capabilities,
      await retryTransient(() => session.readTables()),
    )
    const states = await retryTransient(() => session.readState(pipeline.name))
    await retryTransient(() =>
      session.transaction(async (tx) => {
        await tx.abortStaleLoads(pipeline.name, stats.loadId)
        await tx.writeLoad(stats.load('running'))
      }),
    )
    return new OpenRun(
      pipeline,
      options,
      session,
      http,
      stats,
      registry,
      states,
      preflight,
      refusal,
    )
  } catch (error) {
    const interrupted = options.signal?.aborted === true
    const failure = interrupted ? undefined : asThenaSyncError(error)
    await retryTransient(() =>
      session.transaction((tx) =>
        tx.writeLoad(stats.load(interrupted ? 'interrupted' : 'failed', failure?.message)),
      ),
    ).catch(() => undefined)
    await http.close()
    await session.unlock(pipeline.name).catch(() => undefined)
    await session.close()
    return { result: stats.result(interrupted ? 'interrupted' : 'failed', failure) }
  }
}

/**
 * The first request failed (API down, token refused) or was stopped. On an existing warehouse
 * with the lock held the run is on record, so that the loads show outages; on a new warehouse
 * nothing is written, and a refused token leaves no file.
 */
async function refuse(
  pipeline: ResolvedPipeline,
  options: RunOptions,
  stats: RunStats,
  http: HttpClient,
  session: DestinationSession | undefined,
  locked: boolean,
  error: unknown,
): Promise<RunResult> {
  const aborted = options.signal?.aborted === true
  let recorded = false
  if (session && locked && (http.stats.requests > 0 || !aborted)) {
    const failure = aborted ? undefined : asThenaSyncError(error)
    const status: LoadStatus = failure ? 'failed' : 'interrupted'
    await retryTransient(() => session.prepare())
      .then(() =>
        retryTransient(() =>
          session.transaction((tx) => tx.writeLoad(stats.load(status, failure?.message))),
        ),
      )
      .then(() => (recorded = true))
      .catch(() => undefined)
    await session.unlock(pipeline.name).catch(() => undefined)
  }
  await http.close()
  await session?.close()
  const { deleted: _, ...result } = stats.result(aborted ? 'interrupted' : 'failed')
  return {
    ...result,
    loadId: recorded ? stats.loadId : '',
    // Stopped by SIGTERM/SIGINT before anything started: an interruption, not an error.
    ...(!aborted && { error: asThenaSyncError(error) }),
  }
}

/**
 * Opens the destination, waiting for this process's turn on it (a DuckDB file another pipeline
 * of this process has open) at most `http.maxWaitSeconds`: a wait of more than a few seconds is
 * reported, and the run's signal ends it at once.
 */
export async function connectInTurn(
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

/**
 * Why a resource is skipped after `error`: a refusal its `skipOn` names (a tier 403), as one
 * line with what the API said; undefined when the error is not one.
 */
export function skipReason(
  resource: Pick<ResolvedResource, 'skipOn'>,
  error: unknown,
): string | undefined {
  if (!(error instanceof HttpRefusedError)) return undefined
  const body = error.body.toLowerCase()
  const rule = resource.skipOn?.find(
    (r) =>
      r.status === error.status &&
      (r.bodyIncludes === undefined || body.includes(r.bodyIncludes.toLowerCase())),
  )
  if (!rule) return undefined
  let said = error.body
  try {
    const message = (JSON.parse(error.body) as { message?: unknown }).message
    if (typeof message === 'string') said = message
  } catch {
    // Cut short or not JSON: the excerpt as it came.
  }
  return `skipped: the API does not let this account read it (HTTP ${error.status}${said ? `: ${said}` : ''})`
}

/** What kind of saved position a resource resumed from, for messages (`cursor`, `page`). */
const savedKind = (start: PagePosition): string => Object.keys(start)[0] ?? 'position'

/**
 * The API refused, with a client error, the saved position (cursor or page) a resource resumed
 * from: it is stale or foreign, and every run would fail alike until the resource starts over.
 */
export class ResumeRejectedError extends TerminalError {
  constructor(
    readonly pipeline: string,
    readonly resources: readonly string[],
    readonly saved: string,
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

/** Any error as a `ThenaSyncError` (unknown ones are `internal`). */
export function asThenaSyncError(error: unknown): ThenaSyncError {
  if (error instanceof ThenaSyncError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new TerminalError('internal', message, { cause: error })
}
