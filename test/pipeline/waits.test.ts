import { join } from 'node:path'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import type { WaitEvent } from '../../src/http/wait-policy.js'
import { runPipeline } from '../../src/pipeline/run-pipeline.js'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator } from '../../sources/thena/simulator/index.js'
import { DESTINATION_KINDS, destinationKind } from '../helpers/destinations.js'
import { simulatorPipeline, tempDir } from '../helpers/pipeline.js'
import { startScriptedApi } from '../helpers/scripted-api.js'
import type { ScriptedApi, ScriptedResponse } from '../helpers/scripted-api.js'
import { expectWarehouseEqualsTruth, rowsOf } from '../helpers/truth.js'

let sim: Simulator | undefined
let api: ScriptedApi | undefined
afterEach(async () => {
  await api?.close()
  await sim?.stop()
  api = sim = undefined
})

const REQUESTS = '/rest/v2/requests'
const inAnHour = () => String(Math.floor(Date.now() / 1000) + 3600)

/** The API turns hostile from the third page of requests on (two are committed by then). */
const hostile: [string, (forward: () => Promise<ScriptedResponse>) => Promise<ScriptedResponse>][] =
  [
    [
      '429 with Retry-After: 3600',
      async () => ({ status: 429, headers: { 'retry-after': '3600' }, body: '{}' }),
    ],
    [
      '429 with an X-RateLimit-Reset an hour away',
      async () => ({
        status: 429,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': inAnHour() },
        body: '{}',
      }),
    ],
    [
      'a page that says the window is used up until an hour from now',
      async (forward) => {
        const page = await forward()
        return {
          ...page,
          headers: {
            ...page.headers,
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': inAnHour(),
          },
        }
      },
    ],
  ]

for (const kind of DESTINATION_KINDS) {
  describe(`waits, into ${kind.name}`, () => {
    for (const [name, answer] of hostile) {
      it(`${name}: the run ends at once with wait_too_long, keeps its batches, and the next run resumes`, async () => {
        const s = (sim = await startSimulator({ rateLimit: false, records: 450 }))
        let healthy = false
        const a = (api = await startScriptedApi(s, ({ url, nth }, forward) =>
          !healthy && url.pathname === REQUESTS && nth >= 3 ? answer(forward) : undefined,
        ))
        const pipeline = simulatorPipeline(a, { batchPages: 1 }, await kind.freshUrl())
        const started = Date.now()
        const failed = await runPipeline(pipeline)
        expect(Date.now() - started).toBeLessThan(5000)
        expect(failed.status).toBe('failed')
        expect(failed.error?.code).toBe('wait_too_long')
        expect(failed.error?.message).toContain('http.maxWaitSeconds (300 s)')
        expect(failed.error?.message).toContain('the next run resumes')
        expect(failed.error?.message).toMatch(/a wait of 3[56]\d\d s/)
        const [load] = await rowsOf(
          pipeline,
          `SELECT status, records, error FROM thena._thena_loads WHERE load_id = '${failed.loadId}'`,
        )
        expect(load!.status).toBe('failed')
        expect(String(load!.error)).toContain('http.maxWaitSeconds')
        const [kept] = await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')
        expect(Number(kept!.n)).toBeGreaterThanOrEqual(200)
        expect(Number(load!.records)).toBe(failed.records)
        healthy = true
        const resumed = await runPipeline(pipeline)
        expect(resumed.error?.message).toBeUndefined()
        expect(resumed.status).toBe('success')
        // It went on from the committed cursor instead of loading every request again.
        expect(resumed.resources.find((r) => r.resource === 'requests')!.records).toBeLessThan(450)
        await expectWarehouseEqualsTruth(pipeline, s)
      })
    }
  })
}

describe('waits', () => {
  it('a 6 s Retry-After under the limit is waited out, and reported with its reason and end time', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
    const a = (api = await startScriptedApi(s, ({ url, nth }) =>
      url.pathname === REQUESTS && nth === 2
        ? { status: 429, headers: { 'retry-after': '6' }, body: '{}' }
        : undefined,
    ))
    const pipeline = simulatorPipeline(a)
    const waits: (WaitEvent & { at: number })[] = []
    const result = await runPipeline(pipeline, {
      onWait: (e) => waits.push({ ...e, at: Date.now() }),
    })
    expect(result.status).toBe('success')
    expect(waits).toHaveLength(1)
    const [wait] = waits
    expect(wait!.reason).toContain('rate limited by the API (429, Retry-After 6 s)')
    expect(wait!.reason).toContain(`GET ${a.url}${REQUESTS}`)
    expect(wait!.seconds).toBe(6)
    const ahead = wait!.until!.getTime() - wait!.at
    expect(ahead).toBeGreaterThan(5000)
    expect(ahead).toBeLessThanOrEqual(6100)
    await expectWarehouseEqualsTruth(pipeline, s)
  })

  const stops: [string, ScriptedResponse, object][] = [
    ['a rate-limit wait', { status: 429, headers: { 'retry-after': '120' }, body: '{}' }, {}],
    ['a retry backoff', { status: 503, body: 'unavailable' }, { backoffMs: 20_000 }],
  ]
  for (const [name, response, http] of stops) {
    it(`SIGTERM during ${name} ends the run at once as interrupted, with its batches kept`, async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 450 }))
      const a = (api = await startScriptedApi(s, ({ url, nth }) =>
        url.pathname === REQUESTS && nth >= 3 ? response : undefined,
      ))
      const pipeline = simulatorPipeline(a, { batchPages: 1, http })
      const stop = new AbortController()
      let stoppedAt = 0
      const waits: WaitEvent[] = []
      const result = await runPipeline(pipeline, {
        signal: stop.signal,
        onWait: (e) => {
          waits.push(e)
          stoppedAt = Date.now()
          stop.abort()
        },
      })
      expect(waits[0]?.reason).toContain(
        response.status === 429 ? 'Retry-After 120 s' : 'retry 1 of 8 after HTTP 503',
      )
      expect(Date.now() - stoppedAt).toBeLessThan(2000)
      expect(result.status).toBe('interrupted')
      expect(result.error).toBeUndefined()
      // The first page is committed; the second was still fetching its users when stopped.
      const [kept] = await rowsOf(pipeline, 'SELECT count(*) AS n FROM thena.requests')
      expect(Number(kept!.n)).toBeGreaterThanOrEqual(100)
      const [load] = await rowsOf(
        pipeline,
        `SELECT status FROM thena._thena_loads WHERE load_id = '${result.loadId}'`,
      )
      expect(load!.status).toBe('interrupted')
    })
  }

  it('the turn on a DuckDB file another run of this process holds: reported, ended by a stop, bounded by http.maxWaitSeconds', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 100 }))
    const file = `duckdb:${join(tempDir(), 'thena.duckdb')}`
    expect((await runPipeline(simulatorPipeline(s, {}, file))).status).toBe('success')
    const holder = await simulatorPipeline(s, {}, file).destination.connect()
    try {
      const stop = new AbortController()
      const waits: WaitEvent[] = []
      let reportedAt = 0
      const started = Date.now()
      const stopped = await runPipeline(
        simulatorPipeline(s, { http: { maxWaitSeconds: 0 } }, file),
        {
          signal: stop.signal,
          onWait: (e) => {
            waits.push(e)
            reportedAt = Date.now()
            stop.abort()
          },
        },
      )
      expect(reportedAt - started).toBeGreaterThanOrEqual(4900)
      expect(Date.now() - reportedAt).toBeLessThan(2000)
      expect(stopped.status).toBe('interrupted')
      expect(waits).toEqual([
        { reason: expect.stringContaining(`waiting for the turn on ${file}`) as string },
      ])
      const bounded = Date.now()
      const failed = await runPipeline(simulatorPipeline(s, { http: { maxWaitSeconds: 1 } }, file))
      expect(Date.now() - bounded).toBeLessThan(3000)
      expect(failed.status).toBe('failed')
      expect(failed.error?.code).toBe('destination_busy')
      expect(failed.error?.message).toContain('still waiting after http.maxWaitSeconds (1 s)')
    } finally {
      await holder.close()
    }
  })
})

describe('waits the API asks for beyond any clock', () => {
  const beyond: [string, Record<string, string>][] = [
    ['Retry-After: 1e20', { 'retry-after': '1e20' }],
    ['X-RateLimit-Reset: 1e20', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1e20' }],
  ]
  for (const [name, headers] of beyond) {
    it(`a 429 with ${name} ends the run with wait_too_long, not a crash`, async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 100 }))
      const a = (api = await startScriptedApi(s, ({ url }) =>
        url.pathname === REQUESTS ? { status: 429, headers, body: '{}' } : undefined,
      ))
      const failed = await runPipeline(simulatorPipeline(a))
      expect(failed.error?.message).toContain('http.maxWaitSeconds (300 s)')
      expect(failed.error?.code).toBe('wait_too_long')
    })
  }

  it('with no limit (maxWaitSeconds 0), a Retry-After past the 24.8-day timer range still waits, reported, until stopped', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 100 }))
    let limited = 0
    const a = (api = await startScriptedApi(s, ({ url }) => {
      if (url.pathname !== REQUESTS) return undefined
      limited++
      return { status: 429, headers: { 'retry-after': String(30 * 86_400) }, body: '{}' }
    }))
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on('warning', onWarning)
    const stop = new AbortController()
    const waits: WaitEvent[] = []
    const running = runPipeline(simulatorPipeline(a, { http: { maxWaitSeconds: 0 } }), {
      signal: stop.signal,
      onWait: (e) => waits.push(e),
    })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    stop.abort()
    const result = await running.finally(() => process.off('warning', onWarning))
    expect(result.status).toBe('interrupted')
    // Node runs a longer timer after 1 ms: the run would spin, or hammer the API, instead.
    expect(warnings).not.toContain('TimeoutOverflowWarning')
    expect(limited).toBe(1)
    expect(waits).toHaveLength(1)
    expect(waits[0]!.seconds).toBe(30 * 86_400)
    expect(waits[0]!.until!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000)
  })
})

describe('a Postgres lock another session holds', () => {
  it('SIGTERM while a run waits for it ends the run at once as interrupted; the next run loads all', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
    const url = await destinationKind('postgres').freshUrl()
    const pipeline = simulatorPipeline(s, {}, url)
    expect((await runPipeline(pipeline)).status).toBe('success')
    s.mutate({ op: 'insertRequests', count: 50 })
    // A client (a BI tool, a migration) that holds the state table in a long transaction.
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    await holder.query('BEGIN')
    await holder.query('LOCK TABLE thena._thena_state IN ACCESS EXCLUSIVE MODE')
    try {
      const stop = new AbortController()
      const running = runPipeline(simulatorPipeline(s, {}, url), { signal: stop.signal })
      // Long enough for the run to reach the lock and wait on it.
      await new Promise((resolve) => setTimeout(resolve, 2500))
      const stoppedAt = Date.now()
      stop.abort()
      const stopped = await running
      expect(Date.now() - stoppedAt).toBeLessThan(2000)
      expect(stopped.status).toBe('interrupted')
    } finally {
      await holder.query('ROLLBACK')
      await holder.end()
    }
    expect((await runPipeline(pipeline)).status).toBe('success')
    await expectWarehouseEqualsTruth(pipeline, s)
  })

  it('a lock wait longer than http.maxWaitSeconds ends the run with wait_too_long; the next run loads all', async () => {
    const s = (sim = await startSimulator({ rateLimit: false, records: 300 }))
    const url = await destinationKind('postgres').freshUrl()
    const pipeline = simulatorPipeline(s, { http: { maxWaitSeconds: 1 } }, url)
    expect((await runPipeline(pipeline)).status).toBe('success')
    s.mutate({ op: 'insertRequests', count: 50 })
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    await holder.query('BEGIN')
    await holder.query('LOCK TABLE thena._thena_state IN ACCESS EXCLUSIVE MODE')
    try {
      const started = Date.now()
      const failed = await runPipeline(pipeline)
      expect(Date.now() - started).toBeLessThan(5000)
      expect(failed.status).toBe('failed')
      expect(failed.error?.code).toBe('wait_too_long')
      expect(failed.error?.message).toContain('waiting for a lock another session holds')
      expect(failed.error?.message).toContain('http.maxWaitSeconds')
    } finally {
      await holder.query('ROLLBACK')
      await holder.end()
    }
    const [load] = await rowsOf(
      pipeline,
      `SELECT status, error FROM thena._thena_loads ORDER BY started_at DESC LIMIT 1`,
    )
    expect(load!.status).toBe('failed')
    expect(String(load!.error)).toContain('http.maxWaitSeconds')
    expect((await runPipeline(pipeline)).status).toBe('success')
    await expectWarehouseEqualsTruth(pipeline, s)
  })
})

describe('a 429 whose reset is already past', () => {
  const past: [string, Record<string, string>][] = [
    ['Retry-After: -5', { 'retry-after': '-5' }],
    ['Retry-After: 0', { 'retry-after': '0' }],
    [
      'a Retry-After date an hour ago',
      { 'retry-after': new Date(Date.now() - 3600_000).toUTCString() },
    ],
    [
      'an X-RateLimit-Reset an hour ago',
      {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) - 3600),
      },
    ],
  ]
  for (const [name, headers] of past) {
    it(`${name}: backs off instead of asking again at once`, async () => {
      const s = (sim = await startSimulator({ rateLimit: false, records: 100 }))
      const at: number[] = []
      const a = (api = await startScriptedApi(s, ({ url }) => {
        if (url.pathname !== REQUESTS || at.length >= 5) return undefined
        at.push(Date.now())
        return { status: 429, headers, body: '{}' }
      }))
      const result = await runPipeline(simulatorPipeline(a, { http: { backoffMs: 100 } }))
      expect(result.status).toBe('success')
      // Four backoffs of at least 50, 100, 200 and 400 ms: not five requests in a burst.
      expect(at[4]! - at[0]!).toBeGreaterThanOrEqual(750)
    })
  }
})
