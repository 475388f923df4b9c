import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { PipelineConfig } from '../../src/config/define-config.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { simulatorPipeline } from '../helpers/pipeline.js'
import { DESTINATION_KINDS, dumpWarehouse } from '../helpers/destinations.js'
import { expectWarehouseEqualsTruth, rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

async function start(options: SimulatorOptions): Promise<Simulator> {
  sim = await startSimulator({
    rateLimit: false,
    records: 450,
    users: 30,
    hiddenUsers: 5,
    ...options,
  })
  return sim
}

const pageMode: PipelineConfig['resources'] = {
  requests: { paginator: { type: 'page', limit: 100 } },
  requests_v3: { paginator: { type: 'page', limit: 100 } },
}

for (const kind of DESTINATION_KINDS) {
  describe(`into ${kind.name}`, () => {
    const pipelineOn = async (s: Simulator, overrides: Partial<PipelineConfig> = {}) =>
      simulatorPipeline(s, overrides, await kind.freshUrl())

    describe('run: every endpoint equals the simulator truth', () => {
      const modes: [string, SimulatorOptions, Partial<PipelineConfig>][] = [
        ['cursor at data.next_cursor', {}, {}],
        ['cursor at top-level next_cursor', { paging: { cursorLocation: 'top' } }, {}],
        [
          'cursor sent back as next_cursor',
          { paging: { cursorParam: 'next_cursor' } },
          {
            resources: {
              requests: { paginator: { type: 'cursor', cursorParam: 'next_cursor' } },
              requests_v3: { paginator: { type: 'cursor', cursorParam: 'next_cursor' } },
            },
          },
        ],
        ['lazy end (an empty page ends the walk)', { paging: { lazyEnd: true }, records: 400 }, {}],
        ['page/limit', { paging: { mode: 'page' } }, { resources: pageMode }],
        ['users paginated too', { paging: { paginateUsers: true, defaultLimit: 7 } }, {}],
      ]
      for (const [name, simOptions, config] of modes) {
        it(name, async () => {
          const s = await start(simOptions)
          const pipeline = await pipelineOn(s, { batchPages: 2, ...config })
          const result = await runPipeline(pipeline)
          expect(result.error?.message).toBeUndefined()
          expect(result.status).toBe('success')
          await expectWarehouseEqualsTruth(pipeline, s, 'requests')
          await expectWarehouseEqualsTruth(pipeline, s, 'requests_v3')
          const subs = await rowsOf(pipeline, 'SELECT id, name FROM thena.sub_statuses ORDER BY id')
          expect(subs).toEqual(s.truth.subStatuses().map((x) => ({ id: x.id, name: x.name })))
          const fields = await rowsOf(pipeline, 'SELECT id FROM thena.custom_fields ORDER BY id')
          expect(fields.map((f) => f.id)).toEqual(s.truth.customFields().map((f) => f.id))
        })
      }

      it('users missing from /users are fetched from /users/{id} and land in users', async () => {
        const s = await start({ records: 800 })
        const pipeline = await pipelineOn(s)
        await runPipeline(pipeline)
        const users = new Set(
          (await rowsOf(pipeline, 'SELECT id FROM thena.users')).map((u) => u.id),
        )
        for (const hidden of s.truth.hiddenUserIds) expect(users.has(hidden)).toBe(true)
        expect(s.counters.byRoute.user).toBe(s.truth.hiddenUserIds.length)
      })

      it('flattens with __, keeps arrays of scalars as JSON, adds metadata to every row', async () => {
        const s = await start({ records: 50 })
        const pipeline = await pipelineOn(s)
        const result = await runPipeline(pipeline)
        const [row] = await rowsOf(
          pipeline,
          `SELECT ai_metadata__tags AS tags, ai_metadata__user_defined_tags AS udt, _thena_load_id, _thena_synced_at
         FROM thena.requests LIMIT 1`,
        )
        const types = await rowsOf(
          pipeline,
          `SELECT column_name, lower(data_type) AS t FROM information_schema.columns
         WHERE table_schema = 'thena' AND table_name = 'requests' AND column_name IN ('ai_metadata__tags', 'created_at')
         ORDER BY 1`,
        )
        expect(types.map((c) => c.t)).toEqual([
          expect.stringMatching(/^jsonb?$/),
          'timestamp with time zone',
        ])
        expect(Array.isArray(JSON.parse(row!.tags as string))).toBe(true)
        expect(row!._thena_load_id).toBe(result.loadId)
        expect(row!._thena_synced_at).toBeTruthy()
        const child = await rowsOf(
          pipeline,
          'SELECT _thena_parent_id, _thena_list_idx, _thena_load_id FROM thena.requests__custom_fields LIMIT 1',
        )
        expect(child[0]!._thena_load_id).toBe(result.loadId)
      })

      it('fields the schema does not know land as new columns, recorded in the schema history', async () => {
        const s = await start({ records: 30 })
        s.mutate({ op: 'addField', path: 'escalation.level_name', type: 'string' })
        s.mutate({ op: 'addField', path: 'csat', type: 'integer' })
        const pipeline = await pipelineOn(s)
        const result = await runPipeline(pipeline)
        const rows = await rowsOf(
          pipeline,
          'SELECT escalation__level_name AS e, csat FROM thena.requests',
        )
        expect(rows.every((r) => typeof r.e === 'string' && r.csat !== null)).toBe(true)
        const history = await rowsOf(
          pipeline,
          `SELECT column_name, column_type, load_id FROM thena._thena_schema_history
         WHERE table_name = 'requests' AND column_name IN ('csat', 'escalation__level_name') ORDER BY 1`,
        )
        expect(history).toEqual([
          { column_name: 'csat', column_type: 'bigint', load_id: result.loadId },
          { column_name: 'escalation__level_name', column_type: 'text', load_id: result.loadId },
        ])
      })

      it('a second run with no change writes no duplicates; changed child rows are replaced whole', async () => {
        const s = await start({ records: 300 })
        const pipeline = await pipelineOn(s)
        await runPipeline(pipeline)
        const again = await runPipeline(pipeline)
        expect(again.status).toBe('success')
        const [counts] = await rowsOf(
          pipeline,
          'SELECT count(*) AS n, count(DISTINCT id) AS d FROM thena.requests',
        )
        expect(counts).toEqual({ n: '300', d: '300' })
        // The last page is read again (it is where new records appear); nothing else is.
        expect(again.requests).toBeLessThanOrEqual(1 + 3 + 2 * 1 + 1)
        const last = [...s.truth.requests()].at(-1)!
        s.mutate({ op: 'updateRequests', ids: [last.id as string], set: { custom_fields: [] } })
        await runPipeline(pipeline)
        const children = await rowsOf(
          pipeline,
          `SELECT count(*) AS n FROM thena.requests__custom_fields WHERE _thena_root_id = '${last.id}'`,
        )
        expect(children[0]!.n).toBe('0')
        await expectWarehouseEqualsTruth(pipeline, s)
      })

      it('new records are picked up by the next run from the committed cursor', async () => {
        const s = await start({ records: 250 })
        const pipeline = await pipelineOn(s)
        await runPipeline(pipeline)
        s.mutate({ op: 'insertRequests', count: 130 })
        const next = await runPipeline(pipeline)
        expect(next.resources.find((r) => r.resource === 'requests')!.records).toBe(180)
        await expectWarehouseEqualsTruth(pipeline, s)
      })

      it('a record without an id is quarantined with the reason; a declared field of another type lands in a variant', async () => {
        const s = await start({ records: 40 })
        s.mutate({ op: 'changeFieldType', path: 'created_at', type: 'integer', fromIndex: 38 })
        s.mutate({ op: 'removeField', path: 'id', fromIndex: 39 })
        const pipeline = await pipelineOn(s)
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('success')
        expect(result.rejects).toBe(2)
        const rejects = await rowsOf(
          pipeline,
          'SELECT resource, record_id, reason, raw_json FROM thena._thena_rejects ORDER BY resource',
        )
        expect(rejects.map((r) => r.resource)).toEqual(['requests', 'requests_v3'])
        expect(rejects[0]!.reason).toContain('id:')
        expect(rejects[0]!.record_id).toBeNull()
        expect(JSON.parse(rejects[0]!.raw_json as string).id).toBeUndefined()
        const rows = await rowsOf(
          pipeline,
          'SELECT created_at, created_at__v_bigint AS n FROM thena.requests WHERE created_at IS NULL',
        )
        expect(rows).toHaveLength(1)
        expect(typeof Number(rows[0]!.n)).toBe('number')
        const [n] = await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')
        expect(n!.n).toBe('39')
      })
    })

    describe('run: faults and rate limits are survived with an exact result', () => {
      it('a 429 storm under a small window, with rate-limit headers: nothing refused is sent blindly', async () => {
        const s = await start({ records: 1500, rateLimit: { limit: 15, windowMs: 1000 } })
        const pipeline = await pipelineOn(s, { http: { concurrency: 4, backoffMs: 5 } })
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('success')
        await expectWarehouseEqualsTruth(pipeline, s)
        expect(s.counters.rateLimited).toBe(0)
      }, 120_000)

      it('429s without headers (Retry-After only) are waited out', async () => {
        // About 40 requests sent blindly (no headers to pace by): more than the 20 that two
        // windows allow, so 429s are certain however the run falls across windows.
        const s = await start({
          records: 1500,
          rateLimit: { limit: 10, windowMs: 1000, headers: false, retryAfter: true },
        })
        const pipeline = await pipelineOn(s)
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('success')
        expect(s.counters.rateLimited).toBeGreaterThan(0)
        expect(result.rateLimited).toBe(s.counters.rateLimited)
        await expectWarehouseEqualsTruth(pipeline, s)
      }, 120_000)

      it('429s with no headers at all fall back to exponential backoff', async () => {
        const s = await start({
          records: 300,
          rateLimit: { limit: 8, windowMs: 1000, headers: false },
        })
        const pipeline = await pipelineOn(s, { http: { backoffMs: 100 } })
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('success')
        await expectWarehouseEqualsTruth(pipeline, s)
      }, 120_000)

      it('every fault switch at once: 5xx, latency, truncated bodies, drops, repeats, inserts while paging', async () => {
        const s = await start({
          records: 2000,
          faults: {
            serverError: 0.15,
            latency: { rate: 0.1, ms: 30 },
            truncate: 0.1,
            drop: 0.1,
            duplicate: 0.3,
            insertWhilePaging: { rate: 0.2, count: 3 },
          },
        })
        // One request list only: records inserted while a second list is walked would (rightly)
        // reach the first table only on the next run.
        const pipeline = await pipelineOn(s, {
          batchPages: 3,
          resources: { requests_v3: { enabled: false } },
        })
        const result = await runPipeline(pipeline)
        expect(result.error?.message).toBeUndefined()
        expect(Object.values(s.counters.faults).every((n) => n > 0)).toBe(true)
        expect(result.retries).toBeGreaterThan(0)
        await expectWarehouseEqualsTruth(pipeline, s)
      }, 120_000)

      it('a repeating cursor stops the run with a clear error instead of looping', async () => {
        const s = await start({ records: 300 })
        // A paginator that never sends the cursor back sees the same next cursor twice.
        const pipeline = await pipelineOn(s, {
          resources: {
            requests: { paginator: { type: 'cursor', cursorParam: 'ignored_by_the_api' } },
          },
        })
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('failed')
        expect(result.error?.code).toBe('pagination_loop')
      })

      it('an API that ignores the page parameter (the same page forever) stops the run instead of looping', async () => {
        const s = await start({ records: 300 })
        const pipeline = await pipelineOn(s, {
          resources: {
            requests: { paginator: { type: 'page', pageParam: 'ignored_by_the_api', limit: 100 } },
          },
        })
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('failed')
        expect(result.error?.code).toBe('pagination_loop')
        expect(result.error?.message).toContain('the same page twice in a row')
      })

      it('a run stopped (SIGTERM) before it started is interrupted, not failed, and writes nothing', async () => {
        const s = await start({})
        const pipeline = await pipelineOn(s)
        const stop = new AbortController()
        stop.abort()
        const result = await runPipeline(pipeline, { signal: stop.signal })
        expect(result.status).toBe('interrupted')
        expect(result.error).toBeUndefined()
        await expect(pipeline.destination.connect({ readOnly: true })).rejects.toMatchObject({
          code: 'warehouse_missing',
        })
      })

      it('a run stopped while its first request is in flight is on record as interrupted', async () => {
        const s = await start({})
        const destination = await kind.freshUrl()
        expect((await runPipeline(simulatorPipeline(s, {}, destination))).status).toBe('success')
        // An API that never answers: the stop arrives while the preflight request is pending.
        const stop = new AbortController()
        const hanging = createServer(() => stop.abort())
        await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
        try {
          const { port } = hanging.address() as AddressInfo
          const pipeline = simulatorPipeline(
            { url: `http://127.0.0.1:${port}`, token: 't' },
            {},
            destination,
          )
          const result = await runPipeline(pipeline, { signal: stop.signal })
          expect(result.status).toBe('interrupted')
          expect(result.error).toBeUndefined()
          const loads = await rowsOf(
            pipeline,
            'SELECT status, requests FROM thena._thena_loads ORDER BY started_at',
          )
          expect(loads.map((l) => [l.status, Number(l.requests)])).toEqual([
            ['success', expect.any(Number)],
            ['interrupted', 1],
          ])
        } finally {
          hanging.closeAllConnections()
          hanging.close()
        }
      })

      it('a refused token fails before anything is written', async () => {
        const s = await start({})
        const pipeline = await pipelineOn(s, { token: 'wrong-token' })
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('failed')
        expect(result.error?.code).toBe('http_unauthorized')
        expect(result.error?.message).not.toContain('wrong-token')
        expect(s.counters.unauthorized).toBe(1)
      })
    })

    describe('the loads table tells the truth', () => {
      it('every run that got past the lock is on record: an API outage, a refused token', async () => {
        const s = await start({ records: 200 })
        const destination = await kind.freshUrl()
        expect((await runPipeline(simulatorPipeline(s, {}, destination))).status).toBe('success')
        // The API is down: it answers 503 to everything.
        const down = createServer((_, res) => {
          res.statusCode = 503
          res.end('down')
        })
        await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve))
        try {
          const { port } = down.address() as AddressInfo
          const api = { url: `http://127.0.0.1:${port}`, token: s.token }
          const outage = simulatorPipeline(
            api,
            { http: { maxRetries: 1, backoffMs: 1 } },
            destination,
          )
          const failed = []
          for (let tick = 0; tick < 3; tick++) failed.push(await runPipeline(outage))
          expect(failed.map((r) => r.status)).toEqual(['failed', 'failed', 'failed'])
          const refused = await runPipeline(simulatorPipeline(s, { token: 'wrong' }, destination))
          expect(refused.error?.code).toBe('http_unauthorized')
          const loads = await rowsOf(
            outage,
            'SELECT load_id, status, records, requests, error FROM thena._thena_loads ORDER BY started_at',
          )
          expect(loads.map((l) => [l.status, Number(l.requests)])).toEqual([
            ['success', expect.any(Number)],
            ['failed', 2],
            ['failed', 2],
            ['failed', 2],
            ['failed', 1],
          ])
          expect(loads.slice(1).map((l) => l.load_id)).toEqual(
            [...failed, refused].map((r) => r.loadId),
          )
          expect(String(loads[1]!.error)).toContain('HTTP 503')
          expect(String(loads[4]!.error)).toContain('refused the token')
          expect(loads.slice(1).every((l) => Number(l.records) === 0)).toBe(true)
        } finally {
          down.close()
        }
      })

      it('a failed run counts the records it committed, not those it normalized', async () => {
        const s = await start({ records: 450 })
        const pipeline = await pipelineOn(s, { batchPages: 2 })
        // requests_v3 exists already with a shape no row fits: its first commit fails.
        const session = await pipeline.destination.connect()
        try {
          await session.prepare()
          await session.query('CREATE TABLE thena.requests_v3 (id INTEGER)')
        } finally {
          await session.close()
        }
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('failed')
        const counts = await rowsOf(
          pipeline,
          `SELECT (SELECT count(*) FROM thena.requests) + (SELECT count(*) FROM thena.users)
                + (SELECT count(*) FROM thena.custom_fields) + (SELECT count(*) FROM thena.sub_statuses) AS n`,
        )
        const [load] = await rowsOf(
          pipeline,
          `SELECT records FROM thena._thena_loads WHERE load_id = '${result.loadId}'`,
        )
        expect(Number(load!.records)).toBe(Number(counts[0]!.n))
        expect(result.records).toBe(Number(counts[0]!.n))
        expect(result.resources.find((r) => r.resource === 'requests')!.records).toBe(450)
      })
    })

    describe('run: a failure mid-run', () => {
      it('keeps the last committed batch, records the error, and stores no secret', async () => {
        const s = await startSimulator({
          rateLimit: false,
          records: 500,
          token: 'tok-secret-midrun-991',
        })
        sim = s
        // requests load fully; requests_v3 then fails on its second page (the cursor is never sent back).
        const pipeline = await pipelineOn(s, {
          batchPages: 1,
          resources: {
            requests_v3: { paginator: { type: 'cursor', cursorParam: 'not_read_by_the_api' } },
          },
        })
        const result = await runPipeline(pipeline)
        expect(result.status).toBe('failed')
        expect(result.error?.code).toBe('pagination_loop')
        await expectWarehouseEqualsTruth(pipeline, s)
        const [v3] = await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests_v3')
        expect(v3!.n).toBe('100')
        const [load] = await rowsOf(
          pipeline,
          `SELECT status, error FROM thena._thena_loads WHERE load_id = '${result.loadId}'`,
        )
        expect(load!.status).toBe('failed')
        expect(String(load!.error)).not.toContain('tok-secret-midrun-991')
        // Whatever was committed is whole: every request row has its child rows.
        const [orphans] = await rowsOf(
          pipeline,
          `SELECT count(*) AS n FROM thena.requests__custom_fields c
         WHERE NOT EXISTS (SELECT 1 FROM thena.requests r WHERE r.id = c._thena_root_id)`,
        )
        expect(orphans!.n).toBe('0')
        const dump = dumpWarehouse(pipeline)
        expect(dump).toContain(String(result.loadId))
        expect(dump).not.toContain('tok-secret-midrun-991')
      })
    })

    describe('run: the schema changes while a commit is in flight', () => {
      it('a field that appears mid-run lands, with no column used before it exists', async () => {
        const s = await startSimulator({ rateLimit: false, records: 1200 })
        sim = s
        s.mutate({ op: 'addField', path: 'late.field', type: 'string', fromIndex: 600 })
        s.mutate({ op: 'addField', path: 'later_field', type: 'integer', fromIndex: 900 })
        const pipeline = await pipelineOn(s, {
          batchPages: 1,
          resources: { requests_v3: { enabled: false } },
        })
        const result = await runPipeline(pipeline)
        expect(result.error?.message).toBeUndefined()
        const rows = await rowsOf(
          pipeline,
          'SELECT id, late__field AS f, later_field AS g FROM thena.requests ORDER BY id',
        )
        const truth = [...s.truth.requests()]
        expect(rows.map((r) => r.f ?? undefined)).toEqual(
          truth.map((r) => (r.late as { field?: string } | undefined)?.field),
        )
        expect(rows.filter((r) => r.g !== null)).toHaveLength(300)
        const history = await rowsOf(
          pipeline,
          `SELECT table_name, column_name, count(*) AS n FROM thena._thena_schema_history GROUP BY 1, 2 HAVING count(*) > 1`,
        )
        expect(history).toEqual([])
      })
    })
  })
}
