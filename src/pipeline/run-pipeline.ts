import type { Context } from '@opentelemetry/api'
import type { ResolvedPipeline, ResolvedResource } from '../config/resolve-pipeline.js'
import { Lookups } from '../extract/lookups.js'
import { ParentKeys, withParentProgress } from '../extract/parent-keys.js'
import type { ParentProgress, ParentRef } from '../extract/parent-keys.js'
import { fillPlaceholders } from '../source/resolve-resource.js'
import { locateStart, walkResource, walkTargetOf } from '../extract/walk-resource.js'
import type { WalkTarget } from '../extract/walk-resource.js'
import { retryTransient } from '../load/commit-batch.js'
import { Committer } from '../load/committer.js'
import type { CommitRequest } from '../load/committer.js'
import { normalizationFingerprint } from '../normalize/normalization-fingerprint.js'
import { Normalizer } from '../normalize/normalizer.js'
import { RunTrace } from '../observe/run-trace.js'
import type { ResourceTrace } from '../observe/run-trace.js'
import type { NormalizedBatch } from '../normalize/normalizer.js'
import { resolveStrategy } from '../source/incremental/index.js'
import type { FetchedPage, PlannedResource, ResourcePlan } from '../source/incremental/index.js'
import { openRun, ResourceFailures, skipReason } from './run-lifecycle.js'
import type { OpenRun, RunOptions } from './run-lifecycle.js'
import { reconcile, SeenKeys } from './reconcile.js'
import { withQuarantined } from './run-stats.js'
import { TerminalError } from '../errors.js'
import type { CommitCounts, RunResult } from './run-stats.js'
import { STATE_VERSION } from '../state/resource-state.js'
import { refreshViews } from '../views/refresh-views.js'
import type { ViewRefresh } from '../views/refresh-views.js'

export { RUN_MODES } from '../source/incremental/strategy.js'
export type { RunMode } from '../source/incremental/strategy.js'
export { connectInTurn, lockPipeline, newLoadId } from './run-lifecycle.js'
export type { RunOptions } from './run-lifecycle.js'
export type { NoticeEvent, ProgressEvent, ResourceResult, RunResult } from './run-stats.js'

/**
 * One run of a pipeline: every resource walked as its incremental strategy plans, oldest page
 * first; each batch of pages normalized, its referenced records looked up, and committed with
 * the resource's state in one transaction, with one commit in flight. Traced (a span per run,
 * resource, commit and request) when a tracer provider is registered (src/observe/).
 */
export async function runPipeline(
  pipeline: ResolvedPipeline,
  options: RunOptions = {},
): Promise<RunResult> {
  const trace = new RunTrace(pipeline.name, options.mode ?? 'run')
  try {
    return trace.end(await tracedRun(pipeline, options, trace))
  } catch (error) {
    trace.fail(error) // a configuration error
    throw error
  }
}

async function tracedRun(
  pipeline: ResolvedPipeline,
  options: RunOptions,
  trace: RunTrace,
): Promise<RunResult> {
  // What paginators learn of the server holds for one run: it may serve otherwise by the next.
  pipeline.paginators?.shared.clear()
  const run = await openRun(pipeline, options, trace.context) // lock → preflight → 'running' row
  if (!('session' in run)) return run.result // nothing began; a refused token wrote nothing
  const stopped = () => options.signal?.aborted === true
  const seen = run.mode === 'reconcile' ? new SeenKeys() : undefined
  const lookups = lookupsOf(run, seen)
  const parents = new ParentKeys(pipeline.resources, run.mode, run.stats.startedAt.getTime())
  const failures = new ResourceFailures()
  const skips = new Skips(run, seen)
  try {
    for (const resource of run.resources()) {
      if (stopped()) break
      const traced = trace.resource(pipeline.name, resource.name)
      if (
        skips.parentSkipped(resource) ||
        skips.skipped(resource, run.refusedAtPreflight(resource))
      ) {
        traced.end(0, { skipped: true })
        continue
      }
      seen?.scanned(resource.name)
      if (parentLeftOut(run, resource)) seen?.forget(resource.name) // nothing to reconcile by
      const plan = planOf(run, resource)
      const committer = new Committer(run.session, run.registry, pipeline.name, run.loadId)
      const normalizer = new Normalizer(run.registry, resource, run.loadId, resource.contract)
      const walked = { pages: 0 }
      try {
        await beforeWalk(run, resource, plan)
        await lookups.prepare(resource)
        const walks = walksOf(run, resource, plan, parents, traced.context)
        const progress = childProgress(run, resource, parents, walks)
        for await (const page of pages(run, resource, plan, walked, walks)) {
          for (const record of page.records) normalizer.add(record) // normalize, page by page
          lookups.collect(resource, page.records)
          parents.collect(resource.name, page.records, page.all, plan.partial)
          if (!page.batch) continue // a batch is `batchPages` pages, or the last ones
          const rows = normalizer.take()
          const extra = await lookups.load(resource, rows, traced.context) // referenced records
          seen?.addBatch(resource.name, rows)
          const batches = [rows, ...extra]
          const commit = commitOf(run, resource, plan, page, batches, walked, progress, traced)
          await committer.commit(commit) // load
          if (stopped() || page.batch.last) break
        }
        await committer.drain()
        if (!stopped()) parents.ended(resource.name) // every page read: children may move marks
        if (walks.length === 0) await settleChildProgress(run, resource, progress)
        run.stats.finish(resource.name)
        traced.end(walked.pages)
      } catch (error) {
        await committer.settle() // the commit in flight settles before the connection is reused
        const skipped = skips.skipped(resource, error) // a tier 403: the others load
        traced.end(walked.pages, skipped ? { skipped } : { error })
        if (skipped) continue
        failures.add(await run.resourceFailed(resource, error, plan.start, walked.pages))
      }
    }
    skips.throwIfAll()
    failures.throwIfAny() // after the other resources loaded; a reconcile then deletes nothing
    if (seen && !stopped()) run.stats.deleted(await reconcile(reconcileRun(run), seen))
    // Views never fail a run: one that cannot be built is recorded, and retried by the next.
    if (!stopped()) run.stats.views(await refreshViews(viewRefreshOf(run)))
    return await run.finish(stopped() ? 'interrupted' : 'success')
  } catch (error) {
    return await run.finish(stopped() ? 'interrupted' : 'failed', error)
  } finally {
    await run.close()
  }
}

/**
 * Resources the account may not read (`skipOn`: a tier 403), and their children: each is
 * listed with one line and left out of a reconcile; the others load. A run that could read
 * none of its resources fails with the refusal.
 */
class Skips {
  #refusal: unknown
  #walked = 0

  constructor(
    readonly run: OpenRun,
    readonly seen: SeenKeys | undefined,
  ) {}

  /** Whether `resource` is skipped for `error`; if so, it is noted. */
  skipped(resource: ResolvedResource, error: unknown): boolean {
    const why = skipReason(resource, error)
    if (why === undefined) return false
    this.#refusal = error
    this.#note(resource, why)
    return true
  }

  /** A child of a skipped resource is skipped too (it has no parents to read). */
  parentSkipped(resource: ResolvedResource): boolean {
    this.#walked++
    const parent = resource.resolvedParent?.resource
    if (parent === undefined || !this.run.stats.skippedResources.has(parent)) return false
    this.#note(resource, `skipped: its parent ${parent} was skipped`)
    return true
  }

  throwIfAll(): void {
    if (this.#walked === 0 || this.run.stats.skippedResources.size < this.#walked) return
    const said = [...this.run.stats.skippedResources.values()][0]!
    throw new TerminalError(
      'http_unauthorized',
      `the API accepted the key but refused every resource of ${this.run.pipeline.name} (first: ${said.replace(/^skipped: /, '')}): check the plan or the scopes of the credentials`,
      { cause: this.#refusal },
    )
  }

  #note(resource: ResolvedResource, why: string): void {
    this.seen?.forget(resource.name)
    this.run.registry.forgetPending(resource.name)
    this.run.stats.skipped(resource.name, why)
    this.run.options.onNotice?.({ resource: resource.name, message: why })
  }
}

/**
 * A child whose parent this run does not walk (`--resource comments` alone, or the parent
 * disabled): it has no parent to be read for, so it reads nothing, moves no mark, and a
 * reconcile leaves its rows as they are; one line says so.
 */
function parentLeftOut(run: OpenRun, resource: ResolvedResource): boolean {
  const parent = resource.resolvedParent?.resource
  if (parent === undefined || run.resources().some((r) => r.name === parent)) return false
  const reconciled = run.mode === 'reconcile' ? ', and none of its rows is marked deleted' : ''
  run.options.onNotice?.({
    resource: resource.name,
    message: `read once per ${parent} record, and ${parent} is not read by this run (left out by --resource, or disabled): nothing read${reconciled}`,
  })
  return true
}

/** Records of a page at the default page size: a batch of `batchPages` pages holds about so many times as many. */
const RECORDS_PER_PAGE = 100

/** A resource read in many walks cuts its batches at this many times `batchPages` pages at most. */
const CHILD_PAGES_FACTOR = 4

/** A batch of pages as the plan kept them, cut every `batchPages` pages and at the end. */
interface ObservedPage {
  /** The page's records the plan keeps, with what the engine adds (a parent's key). */
  readonly records: readonly unknown[]
  /** Every record of the page, with what the engine adds: what children's parents come from. */
  readonly all: readonly unknown[]
  /** The page as fetched: where a checkpoint after it stands. */
  readonly page: FetchedPage
  /** Set on the page that ends a batch: what the batch skipped, and whether the walk ends. */
  readonly batch?: {
    readonly unchanged: number
    readonly last: boolean
    /** A child resource: the parents whose walks ended at or before this page, in order. */
    readonly parentsRead?: readonly ParentRef[]
  }
}

/** One walk of a resource's endpoint: a child resource has one per parent. */
interface Walk {
  readonly target: WalkTarget
  /** What the engine adds to each record: the parent's key, a snapshot's time. */
  readonly stamp?: (record: unknown) => unknown
  /** The parent this walk reads the children of. */
  readonly parent?: ParentRef
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `target` with `{name}` placeholders filled: URL-encoded in the path, as they are in parameters. */
const filled = (target: WalkTarget, values: Readonly<Record<string, string>>): WalkTarget => ({
  ...target,
  route: target.route ?? target.path, // a request's span shows the path as declared
  path: fillPlaceholders(target.path, values, true),
  query: Object.fromEntries(
    Object.entries(target.query ?? {}).map(([k, v]) => [k, fillPlaceholders(v, values, false)]),
  ),
})

/**
 * The walks of a resource this run: one, one per forEach value, or one per parent to read;
 * their requests' spans go under `trace`.
 */
function walksOf(
  run: OpenRun,
  resource: ResolvedResource,
  plan: ResourcePlan,
  parents: ParentKeys,
  trace: Context,
): Walk[] {
  const target = { ...walkTargetOf(resource, plan.query), trace }
  if (resource.single) {
    const key = resource.primaryKey
    const at = run.stats.startedAt.toISOString()
    return [{ target, stamp: (record) => ({ ...(record as object), [key]: at }) }]
  }
  const each = resource.forEach
  if (each) {
    const field = each.field ?? each.placeholder
    return each.values.map((value) => ({
      target: filled(target, { [each.placeholder]: value }),
      // The value is what tells the records of one walk from another's: kept when absent.
      stamp: (record) =>
        isRecord(record) && record[field] === undefined ? { ...record, [field]: value } : record,
    }))
  }
  const parent = resource.resolvedParent
  if (!parent) return [{ target }]
  const composite = resource.childKey?.composite
  const own = resource.childKey!.field
  return parents.parentsFor(resource, run.states.get(resource.name)).map((ref) => {
    const values = Object.fromEntries(
      parent.bindings.map((b, i) => [b.placeholder, ref.values[i]!]),
    )
    const fields = Object.fromEntries(parent.bindings.map((b, i) => [b.field, ref.values[i]!]))
    return {
      // A parent deleted since its walk has no children left, rather than failing the run.
      target: { ...filled(target, values), notFoundIsEmpty: true },
      parent: ref,
      stamp: (record) => {
        const ownKey = (record as Record<string, unknown>)[own]
        // A child without its own key keeps none: the normalizer rejects it as for any record.
        const key =
          composite === undefined || ownKey === undefined || ownKey === null
            ? {}
            : { [composite]: JSON.stringify([...ref.values, String(ownKey)]) }
        return { ...(record as object), ...fields, ...key }
      },
    }
  })
}

/** The resource's pages from where the plan starts, observed by the plan, cut in batches. */
async function* pages(
  run: OpenRun,
  resource: ResolvedResource,
  plan: ResourcePlan,
  walked: { pages: number },
  walks: readonly Walk[],
): AsyncGenerator<ObservedPage> {
  const { http, options, pipeline } = run
  let pages = 0
  let records = 0
  let unchanged = 0
  // A child's pages are small (a ticket's comments): its batches are cut by records too, so
  // that a commit is not one per 25 tickets, with a bound on the requests a kill makes redo.
  const many = walks.length > 1
  const full = () =>
    many
      ? records >= pipeline.batchPages * RECORDS_PER_PAGE ||
        pages >= pipeline.batchPages * CHILD_PAGES_FACTOR
      : pages >= pipeline.batchPages
  // Parents whose walks ended: their children are in the batches cut so far.
  const read: ParentRef[] = []
  // Walks answered 404 (a parent deleted since its walk), and whether any one was not.
  let missing = 0
  let found = false
  const single = !resource.resolvedParent && !resource.forEach
  for (const [i, { target, stamp, parent }] of walks.entries()) {
    const prefetched = i === 0 && single ? run.prefetched(resource, plan) : new Map()
    const start = !single
      ? undefined
      : await locateStart(
          http,
          target,
          plan.start,
          plan.covers,
          prefetched,
          pipeline.batchPages,
          options.signal,
        )
    for await (const page of walkResource(http, target, start, options.signal, prefetched)) {
      const detected = target.paginator.detected
      if (walked.pages === 0 && detected)
        options.onNotice?.({ resource: resource.name, message: detected })
      const seen = plan.observe(page)
      const kept = stamp ? seen.records.map(stamp) : seen.records
      const all = stamp ? page.records.map(stamp) : page.records
      unchanged += seen.unchanged
      pages++
      records += page.records.length
      walked.pages++
      const walkEnds = page.next === undefined || seen.stop
      if (walkEnds && parent) read.push(parent)
      if (page.notFound) missing++
      else found = true
      // A walk that stops early (a backfill past its range) ends itself, not the next ones.
      const last = walkEnds && i === walks.length - 1
      if (!last && !full()) {
        yield { records: kept, all, page }
        if (walkEnds) break
        continue
      }
      // Before anything is committed: 404s for every parent are a path the API does not have
      // (a typo, an inferred path that is wrong), not parents deleted since their walk.
      if (!found && missing >= 2) throw everyWalkNotFound(resource, missing, target.path)
      yield {
        records: kept,
        all,
        page,
        batch: { unchanged, last, ...(parent && { parentsRead: [...read] }) },
      }
      pages = 0
      records = 0
      unchanged = 0
      if (last) return
      if (walkEnds) break
    }
  }
}

/** The commit of a batch: its rows, the resource's state as of its last page, the load row. */
function commitOf(
  run: OpenRun,
  resource: ResolvedResource,
  plan: ResourcePlan,
  { page, batch }: ObservedPage,
  rows: readonly NormalizedBatch[],
  walked: { readonly pages: number },
  progress: ChildProgress | undefined,
  traced: ResourceTrace,
): CommitRequest {
  const { unchanged, last, parentsRead } = batch!
  const counts = countsOf(resource.name, rows, unchanged)
  const total = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  const checkpoint = plan.checkpoint(page, rows[0]!.rootIds.length, last)
  // A child's state also says which parents' children are in: they are not read again.
  const state =
    checkpoint && progress
      ? withParentProgress(checkpoint, progress(parentsRead ?? [], last))
      : checkpoint
  const eta = plan.eta()
  const pages = walked.pages
  return {
    resource: resource.name,
    batches: rows,
    state,
    trace: traced.commit(resource.name, {
      records: total(counts.records),
      rejects: total(counts.rejects),
      unchanged,
    }),
    load: (quarantined) =>
      run.stats.load('running', undefined, withQuarantined(counts, quarantined)),
    onCommitted: (quarantined) => {
      if (state) run.states.set(resource.name, state)
      run.stats.committed(withQuarantined(counts, quarantined), pages)
      run.options.onProgress?.(run.stats.progress(resource.name, last, eta))
    },
  }
}

/** A child's progress once the parents `read` (in order) had their children committed. */
type ChildProgress = (read: readonly ParentRef[], last: boolean) => ParentProgress

/**
 * For a child keeping a watermark of its parents' update times: its progress after each batch;
 * `last` when the batch ends the last walk.
 */
function childProgress(
  run: OpenRun,
  resource: ResolvedResource,
  parents: ParentKeys,
  walks: readonly Walk[],
): ChildProgress | undefined {
  if (!parents.tracksProgress(resource)) return undefined
  const all = walks.filter((w) => w.parent).length
  return (read, last) =>
    parents.progressAfter(
      resource,
      run.states.get(resource.name),
      read,
      last && read.length === all,
    )
}

/**
 * A child with no parent to read this run: a pass an earlier run left part way is complete
 * now (every parent past its mark was read), so its watermark moves up.
 */
async function settleChildProgress(
  run: OpenRun,
  resource: ResolvedResource,
  progress: ChildProgress | undefined,
): Promise<void> {
  if (!progress) return
  const before = run.states.get(resource.name)
  const state = withParentProgress(
    before ?? { version: STATE_VERSION, records: 0 },
    progress([], true),
  )
  if (JSON.stringify(state.incremental) === JSON.stringify(before?.incremental)) return
  await retryTransient(() =>
    run.session.transaction((tx) =>
      tx.writeState(run.pipeline.name, resource.name, state, run.loadId),
    ),
  )
  run.states.set(resource.name, state)
}

/** Every walk of a child so far answered 404: its path is wrong, the run stops. */
function everyWalkNotFound(resource: ResolvedResource, walks: number, path: string) {
  const parent = resource.resolvedParent?.resource ?? 'parent'
  return new TerminalError(
    'unexpected_response',
    `${resource.name}: GET ${path} answered 404 for every one of the ${walks} ${parent} records read so far: the path is likely not the API's (check \`resources.${resource.name}.path\`); nothing of ${resource.name} was committed`,
  )
}

/** What a commit of these batches adds to the counters. */
function countsOf(
  resource: string,
  batches: readonly NormalizedBatch[],
  unchanged: number,
): CommitCounts {
  const records = new Map<string, number>([[resource, 0]])
  const rejects = new Map<string, number>([[resource, 0]])
  for (const b of batches) {
    records.set(b.resource, (records.get(b.resource) ?? 0) + b.rootIds.length)
    rejects.set(b.resource, (rejects.get(b.resource) ?? 0) + b.rejects.length)
  }
  return { resource, records, rejects, unchanged }
}

/** The resource as its strategy sees it. */
function planned(resource: ResolvedResource): PlannedResource {
  return {
    name: resource.name,
    primaryKey: resource.primaryKey,
    paginator: resource.resolvedPaginator,
    ...(resource.createdAtField && { createdAtField: resource.createdAtField }),
    lookbackDays: resource.lookbackDays,
    ...(resource.order && { order: resource.order }),
    backfillParams: resource.backfillParams,
    fingerprint: () => normalizationFingerprint(resource),
  }
}

/** How the resource is walked this run: `backfill` reads a created-at range of any resource. */
function planOf(run: OpenRun, resource: ResolvedResource): ResourcePlan {
  // A backfill's range selects parents: each one's children are read whole.
  const ranged = run.options.range && !(run.mode === 'backfill' && resource.resolvedParent)
  const context = {
    mode: run.mode,
    state: run.states.get(resource.name),
    ...(ranged && { range: run.options.range }),
    now: Date.now(),
  }
  const strategy = run.mode === 'backfill' ? BACKFILL : resource.strategy
  return strategy.plan(planned(resource), context)
}

const BACKFILL = resolveStrategy('created_range', 'backfill')

/** Commits the state a plan needs written before its walk (a backfill forgetting digests). */
async function beforeWalk(run: OpenRun, resource: ResolvedResource, plan: ResourcePlan) {
  const state = plan.before
  if (!state) return
  await retryTransient(() =>
    run.session.transaction((tx) =>
      tx.writeState(run.pipeline.name, resource.name, state, run.loadId),
    ),
  )
  run.states.set(resource.name, state)
}

function lookupsOf(run: OpenRun, seen: SeenKeys | undefined): Lookups {
  return new Lookups({
    http: run.http,
    session: run.session,
    registry: run.registry,
    loadId: run.loadId,
    sourceResources: run.pipeline.source.resources,
    resources: run.pipeline.resources,
    ...(run.options.signal && { signal: run.options.signal }),
    ...(seen && { onReference: (resource: string, id: string) => seen.add(resource, id) }),
  })
}

function viewRefreshOf(run: OpenRun): ViewRefresh {
  return {
    session: run.session,
    pipeline: run.pipeline.name,
    dataset: run.pipeline.dataset,
    capabilities: run.pipeline.destination.capabilities,
    loadId: run.loadId,
    views: run.pipeline.source.views ?? [],
    ...(run.options.onNotice && { onNotice: run.options.onNotice }),
  }
}

function reconcileRun(run: OpenRun) {
  return {
    session: run.session,
    registry: run.registry,
    pipeline: run.pipeline.name,
    loadId: run.loadId,
    resources: run.pipeline.resources.map((r) => r.name),
    states: run.states,
    maxDeleteShare: run.pipeline.reconcile.maxDeleteShare,
    allowMassDelete: run.options.allowMassDelete === true,
  }
}
