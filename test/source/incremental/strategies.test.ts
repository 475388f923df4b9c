/**
 * The incremental strategies as units: where each starts, what it keeps of a page, and what it
 * commits, for every mode and state that decides it.
 */
import { describe, expect, it } from 'vitest'
import { createPaginator } from '../../../src/source/paginators/index.js'
import { pageDigest } from '../../../src/normalize/normalization-fingerprint.js'
import { resolveStrategy } from '../../../src/source/incremental/index.js'
import { windowStart } from '../../../src/source/incremental/page-digest.js'
import type {
  FetchedPage,
  PlanContext,
  PlannedResource,
  RunMode,
} from '../../../src/source/incremental/index.js'
import type { PagePosition } from '../../../src/source/paginators/paginator.js'
import type { ResourceState } from '../../../src/state/resource-state.js'

const DAY = 86_400_000
const NOW = Date.parse('2026-06-30T00:00:00Z')
const iso = (daysAgo: number) => new Date(NOW - daysAgo * DAY).toISOString()

const cursor = createPaginator({ type: 'cursor' }, 'paginator')
const pageNumbers = createPaginator({ type: 'page', limit: 2 }, 'paginator')

const resource = (over: Partial<PlannedResource> = {}): PlannedResource => ({
  name: 'requests',
  primaryKey: 'id',
  paginator: cursor,
  createdAtField: 'created_at',
  lookbackDays: 14,
  backfillParams: {},
  fingerprint: () => 'fp',
  ...over,
})

const ctx = (
  mode: RunMode,
  state?: ResourceState,
  over: Partial<PlanContext> = {},
): PlanContext => ({
  mode,
  state,
  now: NOW,
  ...over,
})

const record = (id: string, daysAgo: number, extra: Record<string, unknown> = {}) => ({
  id,
  created_at: iso(daysAgo),
  ...extra,
})

const page = (
  records: unknown[],
  position?: PagePosition,
  next?: PagePosition,
  text = JSON.stringify(records),
): FetchedPage => ({ records, position, next, text })

const state = (over: Partial<ResourceState> = {}): ResourceState => ({
  version: 1,
  records: 10,
  ...over,
})

const plan = (type: unknown, r: PlannedResource, c: PlanContext) =>
  resolveStrategy(type, 'resources.requests.incremental').plan(r, c)

describe('where each strategy starts', () => {
  const saved = state({ position: { cursor: 'c9' } })
  const window = state({
    position: { cursor: 'c9' },
    lookback: [
      { position: { cursor: 'c7' }, lastCreatedAt: iso(10), digest: 'd7' },
      { position: { cursor: 'c8' }, lastCreatedAt: iso(2), digest: 'd8' },
    ],
  })
  const stale = state({
    position: { cursor: 'c9' },
    lookback: [{ position: { cursor: 'c1' }, lastCreatedAt: iso(40), digest: 'd1' }],
  })
  const cases: [string, unknown, RunMode, ResourceState | undefined, PagePosition | undefined][] = [
    ['full_refresh ignores a saved position', 'full_refresh', 'run', saved, undefined],
    ['resume: never loaded starts at the first page', 'resume', 'run', undefined, undefined],
    ['resume: resumes at the committed position', 'resume', 'run', saved, { cursor: 'c9' }],
    ['resume: reconcile walks from the start', 'resume', 'reconcile', saved, undefined],
    [
      'page_lookback: re-reads from the oldest page of the window',
      'page_lookback',
      'run',
      window,
      { cursor: 'c7' },
    ],
    [
      'page_lookback: pages older than the window are forgotten',
      'page_lookback',
      'run',
      stale,
      { cursor: 'c9' },
    ],
    [
      'page_lookback: reconcile walks from the start',
      'page_lookback',
      'reconcile',
      window,
      undefined,
    ],
    [
      'created_range: backfill walks from the start',
      'created_range',
      'backfill',
      window,
      undefined,
    ],
    [
      'updated_since: always from the first page',
      { type: 'updated_since', field: 'updated_at', param: 'since' },
      'run',
      saved,
      undefined,
    ],
  ]
  it.each(cases)('%s', (_name, type, mode, s, start) => {
    expect(plan(type, resource(), ctx(mode, s)).start).toEqual(start)
  })

  it('page_lookback with lookbackDays 0 resumes at the position (no window)', () => {
    const p = plan('page_lookback', resource({ lookbackDays: 0 }), ctx('run', window))
    expect(p.start).toEqual({ cursor: 'c9' })
  })

  it('page_lookback needs a created-at field', () => {
    const { createdAtField: _, ...noField } = resource()
    expect(() => plan('page_lookback', noField, ctx('run'))).toThrow(/needs `createdAtField`/)
  })
})

describe('page digests (run only)', () => {
  const unchangedText = '{"page":"seven"}'
  const s = state({
    position: { cursor: 'c9' },
    lookback: [
      {
        position: { cursor: 'c7' },
        lastCreatedAt: iso(10),
        digest: pageDigest('fp', unchangedText),
      },
    ],
  })

  it('a page read back with its committed digest is not merged again; a changed one is', () => {
    const p = plan('page_lookback', resource(), ctx('run', s))
    const same = p.observe(
      page([record('a', 10), record('b', 9)], { cursor: 'c7' }, { cursor: 'c8' }, unchangedText),
    )
    expect(same).toEqual({ records: [], unchanged: 2, stop: false })
    const changed = p.observe(
      page(
        [record('a', 10), record('b', 9)],
        { cursor: 'c7' },
        { cursor: 'c8' },
        '{"page":"changed"}',
      ),
    )
    expect(changed.records).toHaveLength(2)
    expect(changed.unchanged).toBe(0)
  })

  it('the window is remembered with fresh digests, pages before the cutoff are not', () => {
    const p = plan('page_lookback', resource(), ctx('run'))
    const old = page([record('a', 30), record('b', 20)], undefined, { cursor: 'c2' }, 'old')
    const recent = page([record('c', 15), record('d', 3)], { cursor: 'c2' }, undefined, 'recent')
    p.observe(old)
    p.observe(recent)
    const committed = p.checkpoint(recent, 4, true)!
    expect(committed.lookback).toEqual([
      { position: { cursor: 'c2' }, lastCreatedAt: iso(3), digest: pageDigest('fp', 'recent') },
    ])
    expect(committed.position).toEqual({ cursor: 'c2' })
    expect(committed.records).toBe(4)
    expect(committed.completedAt).toBeDefined()
  })

  it('reconcile merges every page, even one whose digest matches', () => {
    const p = plan('page_lookback', resource(), ctx('reconcile', s))
    const seen = p.observe(page([record('a', 10)], { cursor: 'c7' }, undefined, unchangedText))
    expect(seen.records).toHaveLength(1)
  })
})

describe('checkpoints', () => {
  it('a cursor position is the next page (or the last page when the walk ended)', () => {
    const p = plan('resume', resource(), ctx('run', state()))
    const mid = page([record('a', 1)], { cursor: 'c1' }, { cursor: 'c2' })
    p.observe(mid)
    expect(p.checkpoint(mid, 1, false)).toMatchObject({ position: { cursor: 'c2' }, records: 11 })
    const end = page([record('b', 1)], { cursor: 'c2' }, undefined)
    p.observe(end)
    const last = p.checkpoint(end, 1, true)!
    expect(last).toMatchObject({ position: { cursor: 'c2' }, records: 12 })
    expect(last.completedAt).toBe(last.updatedAt)
  })

  it('page numbers resume at the last page that held records, anchored to it', () => {
    const r = resource({ paginator: pageNumbers })
    const p = plan('resume', r, ctx('run', state()))
    const full = page([record('a', 5), record('b', 4)], { page: 3 }, { page: 4 })
    const empty = page([], { page: 4 }, undefined)
    p.observe(full)
    p.observe(empty)
    expect(p.checkpoint(empty, 2, true)).toMatchObject({
      position: { page: 3 },
      anchor: { ids: ['a', 'b'], createdAt: iso(4) },
    })
  })

  it('a resumed page-number walk checks that the saved page still covers the anchor', () => {
    const r = resource({ paginator: pageNumbers })
    const anchor = { ids: ['x', 'y'], createdAt: iso(4) }
    const p = plan('resume', r, ctx('run', state({ position: { page: 3 }, anchor })))
    expect(p.covers?.([record('y', 4)])).toBe(true)
    expect(p.covers?.([record('q', 5)])).toBe(true) // created before the anchor's last record
    expect(p.covers?.([record('z', 1)])).toBe(false) // deletions moved the page past it
  })

  it('full_refresh keeps no position; backfill writes no state at all', () => {
    const full = plan('full_refresh', resource(), ctx('run', state()))
    const p1 = page([record('a', 1)], undefined, undefined)
    full.observe(p1)
    expect(full.checkpoint(p1, 1, true)).not.toHaveProperty('position')
    const backfill = plan('created_range', resource(), ctx('backfill', state()))
    backfill.observe(p1)
    expect(backfill.checkpoint(p1, 1, true)).toBeUndefined()
  })
})

describe('created_range (backfill)', () => {
  const range = { from: new Date(iso(20)), to: new Date(iso(10)) }

  it.each([
    ['before the range', 25, false, false],
    ['at its start (inclusive)', 20, true, false],
    ['inside', 15, true, false],
    ['at its end (exclusive): the walk stops', 10, false, true],
    ['past its end: the walk stops', 5, false, true],
  ])('a record created %s', (_name, daysAgo, kept, stop) => {
    const p = plan('created_range', resource(), ctx('backfill', undefined, { range }))
    const seen = p.observe(page([record('a', daysAgo)]))
    expect(seen.records.length === 1).toBe(kept)
    expect(seen.stop).toBe(stop)
  })

  it.each([
    [
      'newest_first: a record past the end is skipped, the walk goes on',
      'newest_first',
      5,
      false,
      false,
    ],
    ['newest_first: a record before the start stops the walk', 'newest_first', 25, false, true],
    ['newest_first: inside is kept', 'newest_first', 15, true, false],
    ['unordered: past the end, skipped, never a stop', 'unordered', 5, false, false],
    ['unordered: before the start, skipped, never a stop', 'unordered', 25, false, false],
  ] as const)('%s', (_name, order, daysAgo, kept, stop) => {
    const p = plan('created_range', resource({ order }), ctx('backfill', undefined, { range }))
    const seen = p.observe(page([record('a', daysAgo)]))
    expect(seen.records.length === 1).toBe(kept)
    expect(seen.stop).toBe(stop)
  })

  it('sends the range where the resource names parameters for it', () => {
    const r = resource({ backfillParams: { from: 'created_after', to: 'created_before' } })
    expect(plan('created_range', r, ctx('backfill', undefined, { range })).query).toEqual({
      created_after: range.from.toISOString(),
      created_before: range.to.toISOString(),
    })
    expect(plan('created_range', resource(), ctx('backfill', undefined, { range })).query).toEqual(
      {},
    )
  })

  it('forgets committed digests first: the rows they vouched for may be rewritten', () => {
    const s = state({ lookback: [{ position: null, lastCreatedAt: iso(3), digest: 'd' }] })
    const p = plan('created_range', resource(), ctx('backfill', s, { range }))
    expect(p.before?.lookback).toEqual([{ position: null, lastCreatedAt: iso(3) }])
    expect(
      plan('created_range', resource(), ctx('backfill', state(), { range })).before,
    ).toBeUndefined()
  })

  it('estimates the time left from how fast creation times advance', () => {
    const p = plan('created_range', resource(), ctx('backfill', undefined, { range: {} }))
    expect(p.eta()).toBeUndefined()
    p.observe(page([record('a', 60), record('b', 50)]))
    expect(p.eta()).toBeGreaterThanOrEqual(0)
  })
})

describe('page_digest', () => {
  const p0 = page([record('a', 9), record('b', 8)], undefined, { page: 2 })
  const p1 = page([record('c', 7)], { page: 2 })
  const walk = (type: string, mode: RunMode, s?: ResourceState) => {
    const p = plan(type, resource({ paginator: pageNumbers }), ctx(mode, s))
    const seen = [p.observe(p0), p.observe(p1)]
    return { p, seen, state: p.checkpoint(p1, 3, true) }
  }

  it('walks from the start every run, and keeps a digest of every page by position', () => {
    const first = walk('page_digest', 'run')
    expect(first.p.start).toBeUndefined()
    expect(first.seen.map((o) => o.records.length)).toEqual([2, 1])
    const pages = first.state?.incremental?.pages as Record<string, string>
    expect(Object.keys(pages).sort()).toEqual(['null', '{"page":2}'])
    expect(first.state?.position).toBeUndefined()
  })

  it('merges only pages whose records changed since their digest was committed', () => {
    const { state: committed } = walk('page_digest', 'run')
    const p = plan('page_digest', resource({ paginator: pageNumbers }), ctx('run', committed))
    expect(p.observe(p0)).toEqual({ records: [], unchanged: 2, stop: false })
    const changed = page([record('c', 7, { status: 'closed' })], { page: 2 })
    expect(p.observe(changed).records).toHaveLength(1)
  })

  it('digests the records, not the envelope: a new timestamp or request id is no change', () => {
    const { state: committed } = walk('page_digest', 'run')
    const p = plan('page_digest', resource({ paginator: pageNumbers }), ctx('run', committed))
    const again = { ...p0, text: JSON.stringify({ timestamp: 'now', data: p0.records }) }
    expect(p.observe(again).unchanged).toBe(2)
  })

  it('reconcile merges every page and records their digests', () => {
    const { state: committed } = walk('page_digest', 'run')
    const again = walk('page_digest', 'reconcile', committed)
    expect(again.seen.map((o) => o.records.length)).toEqual([2, 1])
    expect(again.state?.incremental?.pages).toEqual(committed?.incremental?.pages)
  })

  it('a walk cut short keeps the digests it did not reach; a complete one only what it saw', () => {
    const { state: committed } = walk('page_digest', 'run')
    const p = plan('page_digest', resource({ paginator: pageNumbers }), ctx('run', committed))
    const shorter = page([record('z', 1)], undefined)
    p.observe(shorter)
    const partial = p.checkpoint(shorter, 1, false)?.incremental?.pages as Record<string, string>
    expect(Object.keys(partial).sort()).toEqual(['null', '{"page":2}'])
    const complete = p.checkpoint(shorter, 1, true)?.incremental?.pages as Record<string, string>
    expect(Object.keys(complete)).toEqual(['null'])
  })
})

describe('page_digest with a window (a coarse "since" filter such as dateRange)', () => {
  const window = { param: 'dateRange', choices: ['1d', '2d', '1w', '3m'], fullEveryHours: 24 }
  const declared = { type: 'page_digest', window }
  const p0 = page([record('a', 1)])
  const stateOf = (over: Record<string, unknown>) => state({ incremental: { pages: {}, ...over } })
  const planAt = (mode: RunMode, s?: ResourceState, now = NOW) =>
    plan(declared, resource({ paginator: pageNumbers }), ctx(mode, s, { now }))

  it('the first run, and every `fullEveryHours`, reads the whole list', () => {
    expect(planAt('run').query).toEqual({})
    const old = stateOf({ fullAt: new Date(NOW - 25 * 3_600_000).toISOString(), walkedAt: iso(0) })
    expect(planAt('run', old).query).toEqual({})
  })

  it('between them, the smallest window that covers the time since the last complete walk', () => {
    const fullAt = new Date(NOW - 3_600_000).toISOString()
    const recent = stateOf({ fullAt, walkedAt: fullAt })
    expect(planAt('run', recent).query).toEqual({ dateRange: '1d' })
    const p = planAt('run', recent)
    expect(p.partial).toBe(true)
    // Walked 3 days ago (a gap): `1w` is the smallest window reaching back that far.
    const gap = stateOf({ fullAt, walkedAt: iso(3) })
    expect(planAt('run', gap).query).toEqual({ dateRange: '1w' })
    // Beyond every window: the whole list.
    expect(planAt('run', stateOf({ fullAt, walkedAt: iso(200) })).query).toEqual({})
  })

  it('reconcile and backfill never use it', () => {
    const fullAt = new Date(NOW - 3_600_000).toISOString()
    const recent = stateOf({ fullAt, walkedAt: fullAt })
    expect(planAt('reconcile', recent).query).toEqual({})
    expect(planAt('reconcile', recent).partial).toBeUndefined()
  })

  it('a complete walk records when it started; a window keeps its digests apart', () => {
    const first = planAt('run')
    first.observe(p0)
    const full = first.checkpoint(p0, 1, true)!
    expect(full.incremental).toMatchObject({ fullAt: iso(0), walkedAt: iso(0) })
    const later = NOW + 3_600_000
    const windowed = planAt('run', full, later)
    windowed.observe(p0)
    const after = windowed.checkpoint(p0, 1, true)!
    expect(after.incremental?.fullAt).toBe(iso(0))
    expect(after.incremental?.walkedAt).toBe(new Date(later).toISOString())
    expect(Object.keys(after.incremental?.pages as object).sort()).toEqual([
      'null',
      'window:dateRange=1d null',
    ])
  })

  it.each([
    ['1d', '2026-06-29T00:00:00.000Z'],
    ['1w', '2026-06-23T00:00:00.000Z'],
    ['3m', '2026-03-30T00:00:00.000Z'],
  ])('window %s starts at %s (calendar, UTC)', (choice, start) => {
    expect(new Date(windowStart(choice, NOW + 5 * 3_600_000)).toISOString()).toBe(start)
  })

  it('refuses a malformed window in one line', () => {
    expect(() =>
      resolveStrategy({ type: 'page_digest', window: { param: 'd', choices: ['x'] } }, 'f'),
    ).toThrow('f.window.choices.0: expected a window such as `1d`, `2w` or `3m`')
  })
})

describe('updated_since', () => {
  const decl = {
    type: 'updated_since',
    field: 'updated_at',
    param: 'updated_after',
    lagSeconds: 60,
  }
  const upd = (id: string, at: string) => ({ id, updated_at: at })

  it('sends nothing on the first run, then the newest update committed minus the lag', () => {
    const first = plan(decl, resource(), ctx('run'))
    expect(first.query).toEqual({})
    const p1 = page(
      [upd('a', '2026-06-01T10:00:00Z'), upd('b', '2026-06-02T10:00:00Z')],
      undefined,
      { cursor: 'x' },
    )
    first.observe(p1)
    // Mid-walk the filter does not move: a run stopped here re-reads from the same point.
    const mid = first.checkpoint(p1, 2, false)!
    expect(mid.incremental).toEqual({ seen: '2026-06-02T10:00:00.000Z' })
    const p2 = page([upd('c', '2026-06-03T10:00:00Z')], { cursor: 'x' })
    first.observe(p2)
    const done = first.checkpoint(p2, 1, true)!
    expect(done.incremental).toEqual({
      since: '2026-06-03T10:00:00.000Z',
      seen: '2026-06-03T10:00:00.000Z',
    })
    const next = plan(decl, resource(), ctx('run', done))
    expect(next.query).toEqual({ updated_after: '2026-06-03T09:59:00.000Z' })
    expect(next.start).toBeUndefined()
  })

  it.each([
    [
      'unix seconds',
      { format: 'unix' },
      { updated_after: String(Date.parse('2026-06-03T09:59:00Z') / 1000) },
    ],
    [
      'an initial value on the first run',
      { initial: '2026-01-01T00:00:00Z' },
      { updated_after: '2025-12-31T23:59:00.000Z' },
    ],
  ])('%s', (_name, extra, query) => {
    const s =
      'initial' in extra ? undefined : state({ incremental: { since: '2026-06-03T10:00:00.000Z' } })
    expect(plan({ ...decl, ...extra }, resource(), ctx('run', s)).query).toEqual(query)
  })

  it('reconcile sends no filter: it must see every record', () => {
    const s = state({ incremental: { since: '2026-06-03T10:00:00.000Z' } })
    expect(plan(decl, resource(), ctx('reconcile', s)).query).toEqual({})
  })

  it('reads epoch-second update times too', () => {
    const p = plan(decl, resource(), ctx('run'))
    const only = page([{ id: 'a', updated_at: 1780000000 }])
    p.observe(only)
    expect(p.checkpoint(only, 1, true)!.incremental).toMatchObject({
      since: new Date(1780000000 * 1000).toISOString(),
    })
  })

  it.each([
    [{ type: 'updated_since', param: 'p' }, /incremental\.field: /],
    [{ type: 'updated_since', field: 'f', param: 'p', format: 'ms' }, /incremental\.format: /],
    [{ type: 'updated_since', field: 'f', param: 'p', lag: 5 }, /incremental: .*lag/],
  ])('a bad declaration is one line naming the field: %j', (bad, message) => {
    expect(() => resolveStrategy(bad, 'resources.requests.incremental')).toThrow(message)
  })
})

describe('the strategy registry', () => {
  it.each([
    ['page_lookbak', /did you mean `page_lookback`/],
    [{ type: 'nope' }, /expected one of `full_refresh`, `resume`, `page_lookback`/],
    [42, /got 42/],
  ])('refuses %j with one line', (bad, message) => {
    expect(() => resolveStrategy(bad, 'resources.x.incremental')).toThrow(message)
  })

  it('a strategy without settings refuses one', () => {
    expect(() => resolveStrategy({ type: 'resume', days: 3 }, 'resources.x.incremental')).toThrow(
      'resources.x.incremental.days: is not a setting of this strategy (it takes none)',
    )
  })
})
