import type { ResolvedPipeline, ResolvedResource } from '../config/resolve-pipeline.js'
import { Lookups } from '../extract/lookups.js'
import { ParentKeys } from '../extract/parent-keys.js'
import { locateStart, walkResource, walkTargetOf } from '../extract/walk-resource.js'
import type { WalkTarget } from '../extract/walk-resource.js'
import { retryTransient } from '../load/commit-batch.js'
import { Committer } from '../load/committer.js'
import type { CommitRequest } from '../load/committer.js'
import { normalizationFingerprint } from '../normalize/normalization-fingerprint.js'
import { Normalizer } from '../normalize/normalizer.js'
import type { NormalizedBatch } from '../normalize/normalizer.js'
import { resolveStrategy } from '../source/incremental/index.js'
import type { FetchedPage, PlannedResource, ResourcePlan } from '../source/incremental/index.js'
import { openRun, ResourceFailures } from './run-lifecycle.js'
import type { OpenRun, RunOptions } from './run-lifecycle.js'
import { reconcile, SeenKeys } from './reconcile.js'
import { withQuarantined } from './run-stats.js'
import type { CommitCounts, RunResult } from './run-stats.js'

export { RUN_MODES } from '../source/incremental/strategy.js'
export type { RunMode } from '../source/incremental/strategy.js'
export { connectInTurn, lockPipeline, newLoadId } from './run-lifecycle.js'
export type { RunOptions } from './run-lifecycle.js'
export type { NoticeEvent, ProgressEvent, ResourceResult, RunResult } from './run-stats.js'

/**
 * One run of a pipeline: every resource walked as its incremental strategy plans, oldest page
 * first; each batch of pages normalized, its referenced records looked up, and committed with
 * the resource's state in one transaction, with one commit in flight.
 */
export async function runPipeline(
  pipeline: ResolvedPipeline,
  options: RunOptions = {},
): Promise<RunResult> {
  const run = await openRun(pipeline, options) // lock → preflight → 'running' row
  if (!('session' in run)) return run.result // nothing began; a refused token wrote nothing
  const stopped = () => options.signal?.aborted === true
  const seen = run.mode === 'reconcile' ? new SeenKeys() : undefined
  const lookups = lookupsOf(run, seen)
  const parents = new ParentKeys(pipeline.resources)
  const failures = new ResourceFailures()
  try {
    for (const resource of run.resources()) {
      if (stopped()) break
      seen?.scanned(resource.name)
      const plan = planOf(run, resource)
      const committer = new Committer(run.session, run.registry, pipeline.name, run.loadId)
      const normalizer = new Normalizer(run.registry, resource, run.loadId, resource.contract)
      const walked = { pages: 0 }
      try {
        await beforeWalk(run, resource, plan)
        await lookups.prepare(resource)
        for await (const page of pages(run, resource, plan, walked, parents)) {
          for (const record of page.records) normalizer.add(record) // normalize, page by page
          lookups.collect(resource, page.records)
          parents.collect(resource.name, page.records)
          if (!page.batch) continue // a batch is `batchPages` pages, or the last ones
          const rows = normalizer.take()
          const extra = await lookups.load(resource, rows) // referenced records
          seen?.addBatch(resource.name, rows)
          await committer.commit(commitOf(run, resource, plan, page, [rows, ...extra], walked)) // load
          if (stopped() || page.batch.last) break
        }
        await committer.drain()
        run.stats.finish(resource.name)
      } catch (error) {
        await committer.settle() // the commit in flight settles before the connection is reused
        failures.add(await run.resourceFailed(resource, error, plan.start, walked.pages))
      }
    }
    failures.throwIfAny() // after the other resources loaded; a reconcile then deletes nothing
    if (seen && !stopped()) run.stats.deleted(await reconcile(reconcileRun(run), seen))
    return await run.finish(stopped() ? 'interrupted' : 'success')
  } catch (error) {
    return await run.finish(stopped() ? 'interrupted' : 'failed', error)
  } finally {
    await run.close()
  }
}

/** A batch of pages as the plan kept them, cut every `batchPages` pages and at the end. */
interface ObservedPage {
  /** The page's records the plan keeps, with what the engine adds (a parent's key). */
  readonly records: readonly unknown[]
  /** The page as fetched: where a checkpoint after it stands. */
  readonly page: FetchedPage
  /** Set on the page that ends a batch: what the batch skipped, and whether the walk ends. */
  readonly batch?: { readonly unchanged: number; readonly last: boolean }
}

/** One walk of a resource's endpoint: a child resource has one per parent. */
interface Walk {
  readonly target: WalkTarget
  /** What the engine adds to each record: the parent's key, a snapshot's time. */
  readonly stamp?: (record: unknown) => unknown
}

/** The walks of a resource this run: one, or one per parent its parent's walk loaded. */
function walksOf(
  run: OpenRun,
  resource: ResolvedResource,
  plan: ResourcePlan,
  parents: ParentKeys,
): Walk[] {
  const target = walkTargetOf(resource, plan.query)
  if (resource.single) {
    const key = resource.primaryKey
    const at = run.stats.startedAt.toISOString()
    return [{ target, stamp: (record) => ({ ...(record as object), [key]: at }) }]
  }
  const parent = resource.parent
  if (!parent) return [{ target }]
  const placeholder = `{${parent.placeholder ?? 'id'}}`
  return parents.valuesFor(resource, run.pipeline.resources).map((value) => ({
    target: { ...target, path: target.path.replaceAll(placeholder, encodeURIComponent(value)) },
    stamp: (record) => {
      const own = (record as Record<string, unknown>)[resource.childKey!.field]
      // A child without its own key keeps none: the normalizer rejects it as for any record.
      const key =
        own === undefined || own === null
          ? {}
          : { [resource.childKey!.composite]: JSON.stringify([value, String(own)]) }
      return { ...(record as object), [parent.key]: value, ...key }
    },
  }))
}

/** The resource's pages from where the plan starts, observed by the plan, cut in batches. */
async function* pages(
  run: OpenRun,
  resource: ResolvedResource,
  plan: ResourcePlan,
  walked: { pages: number },
  parents: ParentKeys,
): AsyncGenerator<ObservedPage> {
  const { http, options, pipeline } = run
  const walks = walksOf(run, resource, plan, parents)
  let pages = 0
  let unchanged = 0
  for (const [i, { target, stamp }] of walks.entries()) {
    const prefetched = i === 0 && !resource.parent ? run.prefetched(resource, plan) : new Map()
    const start = resource.parent
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
      const records = stamp ? seen.records.map(stamp) : seen.records
      unchanged += seen.unchanged
      pages++
      walked.pages++
      const last = (page.next === undefined && i === walks.length - 1) || seen.stop
      if (!last && pages < pipeline.batchPages) {
        yield { records, page }
        continue
      }
      yield { records, page, batch: { unchanged, last } }
      pages = 0
      unchanged = 0
      if (last) return
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
): CommitRequest {
  const { unchanged, last } = batch!
  const counts = countsOf(resource.name, rows, unchanged)
  const state = plan.checkpoint(page, rows[0]!.rootIds.length, last)
  const eta = plan.eta()
  const pages = walked.pages
  return {
    resource: resource.name,
    batches: rows,
    state,
    load: (quarantined) =>
      run.stats.load('running', undefined, withQuarantined(counts, quarantined)),
    onCommitted: (quarantined) => {
      if (state) run.states.set(resource.name, state)
      run.stats.committed(withQuarantined(counts, quarantined), pages)
      run.options.onProgress?.(run.stats.progress(resource.name, last, eta))
    },
  }
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
    backfillParams: resource.backfillParams,
    fingerprint: () => normalizationFingerprint(resource),
  }
}

/** How the resource is walked this run: `backfill` reads a created-at range of any resource. */
function planOf(run: OpenRun, resource: ResolvedResource): ResourcePlan {
  const context = {
    mode: run.mode,
    state: run.states.get(resource.name),
    ...(run.options.range && { range: run.options.range }),
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
