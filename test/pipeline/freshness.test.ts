/**
 * Freshness across runs, on every destination: the lookback re-scan of `run`, `reconcile` with
 * soft deletes, and `backfill` of a date range, with the simulator changing between runs.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import type { ProgressEvent, RunResult } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { ResourceState } from '../../src/state/resource-state.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS } from '../helpers/destinations.js'
import { startStandInApi } from '../helpers/http.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { expectWarehouseEqualsTruth, rowsOf, stateOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const DAY = 86_400_000
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString()

/** 1000 requests over 100 days: about 10 a day, so a 14-day window is about 2 pages. */
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({
    rateLimit: false,
    records: 1000,
    spanDays: 100,
    users: 20,
    hiddenUsers: 3,
    ...options,
  })
  return sim
}

const requestsOnly: Partial<PipelineConfig> = { resources: { requests_v3: { enabled: false } } }

for (const kind of DESTINATION_KINDS) {
  describe(`freshness into ${kind.name}`, () => {
    const pipelineOn = async (s: Simulator, overrides: Partial<PipelineConfig> = {}) =>
      simulatorPipeline(s, overrides, await kind.freshUrl())

    it('run: new records and updates inside the lookback window; reconcile: every update, deletes soft-deleted', async () => {
      const s = await start()
      const pipeline = await pipelineOn(s)
      expect((await runPipeline(pipeline)).status).toBe('success')
      await expectWarehouseEqualsTruth(pipeline, s)
      const inserted = s.mutate({ op: 'insertRequests', count: 30 }).ids
      const recent = s.mutate({
        op: 'updateRequests',
        count: 5,
        createdAfter: daysAgo(7),
        set: { status: 'updated-recently' },
      }).ids
      const old = s.mutate({
        op: 'updateRequests',
        count: 5,
        createdBefore: daysAgo(40),
        set: { status: 'updated-long-after' },
      }).ids
      const deleted = s.mutate({ op: 'deleteRequests', count: 4, salt: 9 }).ids
      const run = await runPipeline(pipeline)
      expect(run.status).toBe('success')
      const statusOf = async (ids: readonly string[]) =>
        (
          await rowsOf(
            pipeline,
            `SELECT status FROM thena.requests WHERE id IN (${ids.map((id) => `'${id}'`).join(', ')})`,
          )
        ).map((r) => r.status)
      expect(await statusOf(inserted)).toHaveLength(30)
      expect(await statusOf(recent)).toEqual(Array(5).fill('updated-recently'))
      // Outside the window: not picked up by `run` (documented), only by `reconcile`.
      expect(await statusOf(old)).not.toContain('updated-long-after')
      const reconcile = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(reconcile.status).toBe('success')
      // Each deleted request is gone from both lists: 4 rows in requests, 4 in requests_v3.
      expect(reconcile.deleted).toBe(8)
      await expectWarehouseEqualsTruth(pipeline, s)
      await expectWarehouseEqualsTruth(pipeline, s, 'requests_v3')
      expect(await statusOf(old)).toEqual(Array(5).fill('updated-long-after'))
      const marked = await rowsOf(
        pipeline,
        'SELECT id FROM thena.requests WHERE _thena_deleted_at IS NOT NULL ORDER BY id',
      )
      expect(marked.map((r) => r.id)).toEqual([...deleted].sort())
      const [loads] = await rowsOf(
        pipeline,
        `SELECT command FROM thena._thena_loads WHERE load_id = '${reconcile.loadId}'`,
      )
      expect(loads!.command).toBe('reconcile')
      // Hidden users (only served by /users/{id}) are referenced by requests: never deleted.
      const users = await rowsOf(
        pipeline,
        'SELECT count(*) AS n FROM thena.users WHERE _thena_deleted_at IS NOT NULL',
      )
      expect(users[0]!.n).toBe('0')
    })

    it('a run with no change makes at most (lookback pages + 1) list requests', async () => {
      const s = await start()
      const pipeline = await pipelineOn(s, requestsOnly)
      await runPipeline(pipeline)
      const state = (await stateOf(pipeline)).get('requests')!
      expect(state.lookback!.length).toBeGreaterThanOrEqual(2)
      s.resetCounters()
      const again = await runPipeline(pipeline)
      expect(again.status).toBe('success')
      expect(s.counters.byRoute.requests).toBeLessThanOrEqual(state.lookback!.length + 1)
      // The small lists are read once each: the preflight request is the first page of the first.
      expect(s.counters.byRoute['sub-status']).toBe(1)
      expect(s.counters.byRoute['custom-fields']).toBe(1)
      // And a window of 0 days re-reads only the last page.
      const narrow = await pipelineOn(s, {
        resources: { requests_v3: { enabled: false }, requests: { lookbackDays: 0 } },
      })
      await runPipeline(narrow)
      s.resetCounters()
      await runPipeline(narrow)
      expect(s.counters.byRoute.requests).toBe(1)
    })

    it('a run merges only the re-read pages that changed since they were loaded', async () => {
      const s = await start()
      const config = {
        resources: { requests_v3: { enabled: false }, requests: { lookbackDays: 30 } },
      }
      const url = await kind.freshUrl()
      const pipeline = simulatorPipeline(s, config, url)
      expect((await runPipeline(pipeline)).status).toBe('success')
      const lookback = (await stateOf(pipeline)).get('requests')!.lookback!
      expect(lookback.length).toBeGreaterThanOrEqual(3)
      expect(lookback.every((p) => typeof p.digest === 'string')).toBe(true)
      const requestsOf = (r: RunResult) => r.resources.find((x) => x.resource === 'requests')!
      const rowsOfLoad = async (loadId: string) =>
        Number(
          (
            await rowsOf(
              pipeline,
              `SELECT count(*) AS n FROM thena.requests WHERE _thena_load_id = '${loadId}'`,
            )
          )[0]!.n,
        )

      // Nothing changed: every re-read page is skipped, no row is rewritten.
      const same = await runPipeline(pipeline)
      expect(same.status).toBe('success')
      expect(requestsOf(same).records).toBe(0)
      expect(requestsOf(same).unchanged).toBeGreaterThanOrEqual(lookback.length * 5)
      expect(await rowsOfLoad(same.loadId)).toBe(0)
      const [load] = await rowsOf(
        pipeline,
        `SELECT records, unchanged FROM thena._thena_loads WHERE load_id = '${same.loadId}'`,
      )
      // Users, custom fields and sub-statuses are re-read whole: they are the records merged.
      expect(load).toEqual({ records: String(same.records), unchanged: String(same.unchanged) })
      expect(same.unchanged).toBe(requestsOf(same).unchanged)

      // One update: only the page that holds it is merged again.
      const [updated] = s.mutate({
        op: 'updateRequests',
        count: 1,
        createdAfter: daysAgo(20),
        createdBefore: daysAgo(10),
        set: { status: 'changed-in-window' },
      }).ids
      const one = await runPipeline(pipeline)
      expect(requestsOf(one).records).toBeGreaterThanOrEqual(1)
      // Pages hold 100 records: one page merged, the other re-read pages skipped.
      expect(requestsOf(one).records).toBeLessThanOrEqual(100)
      expect(requestsOf(one).unchanged).toBeGreaterThanOrEqual(100)
      const [row] = await rowsOf(
        pipeline,
        `SELECT status, _thena_load_id AS load FROM thena.requests WHERE id = '${updated}'`,
      )
      expect(row).toEqual({ status: 'changed-in-window', load: one.loadId })
      await expectWarehouseEqualsTruth(pipeline, s)

      // New records land on the last page and after it.
      s.mutate({ op: 'insertRequests', count: 15 })
      const grown = await runPipeline(pipeline)
      expect(requestsOf(grown).records).toBeGreaterThanOrEqual(15)
      await expectWarehouseEqualsTruth(pipeline, s)

      // Another way of normalizing (here another contract) reads every page again, once.
      const strict = simulatorPipeline(
        s,
        { ...config, contract: { newColumns: 'discard_value' } },
        url,
      )
      expect(requestsOf(await runPipeline(strict)).records).toBeGreaterThan(0)
      expect(requestsOf(await runPipeline(strict)).records).toBe(0)

      // A backfill writes rows without state: the digests are dropped, the next run merges.
      const backfill = await runPipeline(strict, {
        mode: 'backfill',
        range: { from: new Date(Date.now() - 5 * DAY) },
      })
      expect(backfill.status).toBe('success')
      const afterBackfill = (await stateOf(pipeline)).get('requests')!.lookback!
      expect(afterBackfill.some((p) => p.digest !== undefined)).toBe(false)
      expect(requestsOf(await runPipeline(strict)).records).toBeGreaterThan(0)

      // A reconcile merges everything and leaves fresh digests: the next run skips again.
      expect((await runPipeline(strict, { mode: 'reconcile' })).status).toBe('success')
      expect(requestsOf(await runPipeline(strict)).records).toBe(0)
      await expectWarehouseEqualsTruth(pipeline, s)
    })

    it('records inserted while paging and repeated across pages: run, then reconcile, are exact', async () => {
      const s = await start({
        faults: { duplicate: 0.3, insertWhilePaging: { rate: 0.2, count: 2 } },
      })
      const pipeline = await pipelineOn(s, { batchPages: 2, ...requestsOnly })
      expect((await runPipeline(pipeline)).status).toBe('success')
      await expectWarehouseEqualsTruth(pipeline, s)
      expect((await runPipeline(pipeline)).status).toBe('success')
      const reconcile = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(reconcile.deleted).toBe(0)
      await expectWarehouseEqualsTruth(pipeline, s)
      expect(s.counters.faults.duplicate).toBeGreaterThan(0)
      expect(s.counters.faults.insertWhilePaging).toBeGreaterThan(0)
    })

    it('a reconcile that fails part-way soft-deletes nothing', async () => {
      const s = await start()
      const url = await kind.freshUrl()
      const good = simulatorPipeline(s, {}, url)
      await runPipeline(good)
      s.mutate({ op: 'deleteRequests', count: 6 })
      // Same warehouse; requests_v3 now fails on its second page (the cursor is never sent back).
      const failing = simulatorPipeline(
        s,
        {
          resources: {
            requests_v3: { paginator: { type: 'cursor', cursorParam: 'not_read_by_the_api' } },
          },
        },
        url,
      )
      const result = await runPipeline(failing, { mode: 'reconcile' })
      expect(result.status).toBe('failed')
      const marked = await rowsOf(
        good,
        'SELECT count(*) AS n FROM thena.requests WHERE _thena_deleted_at IS NOT NULL',
      )
      expect(marked[0]!.n).toBe('0')
    })

    for (const lookbackDays of [0, 14]) {
      it(`page numbers (lookback ${lookbackDays} days): after any mix of deletes and inserts, a run loads every new record`, async () => {
        const s = await start({ paging: { mode: 'page' } })
        const pipeline = await pipelineOn(s, {
          resources: {
            requests: { paginator: { type: 'page', limit: 100 }, lookbackDays },
            requests_v3: { enabled: false },
          },
        })
        const holdsTruth = async () => {
          const rows = await rowsOf(pipeline, 'SELECT id, status, updated_at FROM thena.requests')
          const byId = new Map(rows.map((r) => [r.id, r]))
          for (const record of s.truth.requests()) {
            const row = byId.get(record.id)
            expect(row, `request ${String(record.id)} is missing`).toBeDefined()
            expect(row!.status).toBe(record.status)
          }
        }
        expect((await runPipeline(pipeline)).status).toBe('success')
        const ids = () => [...s.truth.requests()].map((r) => r.id as string)
        // 300 old requests deleted, 30 new: the stored page number is now past the end.
        s.mutate({ op: 'deleteRequests', ids: ids().slice(0, 300) })
        s.mutate({ op: 'insertRequests', count: 30 })
        const first = await runPipeline(pipeline)
        expect(first.error?.message).toBeUndefined()
        expect(
          first.resources.find((r) => r.resource === 'requests')!.records,
        ).toBeGreaterThanOrEqual(30)
        await holdsTruth()
        // Then more inserts, deletes near the end (the anchored page itself), updates in the window.
        for (const round of [1, 2, 3]) {
          const now = ids()
          s.mutate({
            op: 'deleteRequests',
            ids: [...now.slice(0, 40 * round), ...now.slice(-5 * round)],
          })
          s.mutate({ op: 'insertRequests', count: 25 * round })
          if (lookbackDays > 0)
            s.mutate({
              op: 'updateRequests',
              count: 4,
              salt: round,
              createdAfter: daysAgo(10),
              set: { status: `updated-${round}` },
            })
          const result = await runPipeline(pipeline)
          expect(result.error?.message).toBeUndefined()
          await holdsTruth()
        }
        // A run with no change still costs only the pages it must re-read.
        s.resetCounters()
        const quiet = await runPipeline(pipeline)
        expect(quiet.resources.find((r) => r.resource === 'requests')!.records).toBeLessThanOrEqual(
          lookbackDays > 0 ? 300 : 100,
        )
        // And a reconcile then agrees exactly with the source.
        expect(
          (await runPipeline(pipeline, { mode: 'reconcile', allowMassDelete: true })).status,
        ).toBe('success')
        await expectWarehouseEqualsTruth(pipeline, s)
      })
    }

    it('a reconcile never mass-deletes on thin evidence: an empty or cut-short list marks nothing', async () => {
      const s = await start({ records: 300 })
      const url = await kind.freshUrl()
      const pipeline = simulatorPipeline(s, requestsOnly, url)
      expect((await runPipeline(pipeline)).status).toBe('success')
      const softDeleted = async () =>
        Number(
          (
            await rowsOf(
              pipeline,
              'SELECT count(*) AS n FROM thena.requests WHERE _thena_deleted_at IS NOT NULL',
            )
          )[0]!.n,
        )
      // A list far shorter than the table: two thirds gone, more than the default 50 %.
      const ids = [...s.truth.requests()].map((r) => r.id as string)
      s.mutate({ op: 'deleteRequests', ids: ids.slice(0, 200) })
      const short = await runPipeline(pipeline, { mode: 'reconcile' })
      expect(short.status).toBe('failed')
      expect(short.error?.code).toBe('reconcile_guard')
      expect(short.error?.message).toBe(
        'reconcile would soft-delete 200 of the 300 rows of requests (67%; the guard allows at most 50%): the API may have returned an empty or cut-short list, so nothing was marked. If the deletions are real, run `thena-sync reconcile --allow-mass-delete` (or raise reconcile.maxDeleteShare)',
      )
      expect(await softDeleted()).toBe(0)
      expect((await stateOf(pipeline)).get('requests')!.reconciledAt).toBeUndefined()
      // An empty list: never all of a table, whatever the share allows.
      s.mutate({ op: 'deleteRequests', ids: ids.slice(200) })
      const lenient = simulatorPipeline(
        s,
        { ...requestsOnly, reconcile: { maxDeleteShare: 1 } },
        url,
      )
      const empty = await runPipeline(lenient, { mode: 'reconcile' })
      expect(empty.error?.message).toContain(
        '300 of the 300 rows of requests (100%; the guard allows never all of them)',
      )
      expect(await softDeleted()).toBe(0)
      // The deletions are real: confirmed, they are marked.
      const confirmed = await runPipeline(pipeline, { mode: 'reconcile', allowMassDelete: true })
      expect(confirmed.status).toBe('success')
      // The requests, and the hidden users only they referenced.
      expect(confirmed.deleted).toBe(300 + s.truth.hiddenUserIds.length)
      expect(await softDeleted()).toBe(300)
    })

    it('backfill reloads a created-at range, stops after it, and leaves the cursor alone', async () => {
      const s = await start()
      const pipeline = await pipelineOn(s, { ...requestsOnly, batchPages: 1 })
      await runPipeline(pipeline)
      const before = await stateOf(pipeline)
      const from = new Date(Date.now() - 80 * DAY)
      const to = new Date(Date.now() - 60 * DAY)
      const inside = s.mutate({
        op: 'updateRequests',
        count: 8,
        createdAfter: from.toISOString(),
        createdBefore: to.toISOString(),
        set: { status: 'backfilled' },
      }).ids
      const outside = s.mutate({
        op: 'updateRequests',
        count: 3,
        createdBefore: daysAgo(85),
        set: { status: 'not-backfilled' },
      }).ids
      s.resetCounters()
      const progress: ProgressEvent[] = []
      const result = await runPipeline(pipeline, {
        mode: 'backfill',
        range: { from, to },
        onProgress: (e) => progress.push(e),
      })
      expect(result.status).toBe('success')
      // Progress shows records, pages and an ETA computed from the creation times seen.
      const requestsProgress = progress.filter((e) => e.resource === 'requests')
      expect(requestsProgress.at(-1)).toMatchObject({ done: true, pages: expect.any(Number) })
      expect(requestsProgress.some((e) => typeof e.etaSeconds === 'number')).toBe(true)
      // Oldest first: the walk ends at the first page past `to` (5 pages of 10; one more may
      // have been prefetched).
      expect(s.counters.byRoute.requests).toBeLessThanOrEqual(6)
      const rows = await rowsOf(
        pipeline,
        `SELECT id, status FROM thena.requests WHERE status IN ('backfilled', 'not-backfilled') ORDER BY id`,
      )
      expect(rows.map((r) => r.id)).toEqual([...inside].sort())
      expect(outside.every((id) => !rows.some((r) => r.id === id))).toBe(true)
      // The cursor and the lookback pages stay; only their digests are dropped (the backfill
      // rewrote rows those digests vouched for).
      const dropDigests = (states: Map<string, ResourceState>) =>
        new Map(
          [...states].map(([name, state]) => [
            name,
            { ...state, lookback: state.lookback?.map(({ digest: _, ...p }) => p) },
          ]),
        )
      expect(await stateOf(pipeline)).toEqual(dropDigests(before))
      const [load] = await rowsOf(
        pipeline,
        `SELECT command, records FROM thena._thena_loads WHERE load_id = '${result.loadId}'`,
      )
      expect(load!.command).toBe('backfill')
      expect(Number(load!.records)).toBeGreaterThan(150)
      expect(Number(load!.records)).toBeLessThan(260)
    })
  })
}

describe('backfill date parameters', () => {
  it('are sent where the resource config names them, and records are still filtered client-side', async () => {
    const queries: URLSearchParams[] = []
    const record = (id: string, created: string) => ({
      id,
      created_at: created,
      updated_at: created,
      sla_metrics: {},
      custom_fields: [],
    })
    // This stand-in ignores the filter: the client must still keep only the range.
    const api = await startStandInApi(
      {
        '/rest/v2/requests/sub-status': '[]',
        '/rest/v2/requests': {
          data: {
            results: [
              record('a', '2026-01-01T00:00:00Z'),
              record('b', '2026-02-10T00:00:00Z'),
              record('c', '2026-03-20T00:00:00Z'),
            ],
          },
        },
      },
      (url) => {
        if (url.pathname === '/rest/v2/requests') queries.push(url.searchParams)
      },
    )
    try {
      const pipeline = simulatorPipeline(
        api,
        {
          resources: {
            requests_v3: { enabled: false },
            requests: { backfillParams: { from: 'created_after', to: 'created_before' } },
          },
        },
        `duckdb:${join(tempDir(), 'w.duckdb')}`,
      )
      const from = new Date('2026-02-01T00:00:00Z')
      const to = new Date('2026-03-01T00:00:00Z')
      const result = await runPipeline(pipeline, {
        mode: 'backfill',
        resources: ['requests'],
        range: { from, to },
      })
      expect(result.error?.message).toBeUndefined()
      expect(queries[0]!.get('created_after')).toBe(from.toISOString())
      expect(queries[0]!.get('created_before')).toBe(to.toISOString())
      const rows = await rowsOf(pipeline, 'SELECT id FROM thena.requests')
      expect(rows).toEqual([{ id: 'b' }])
    } finally {
      api.close()
    }
  })
})
