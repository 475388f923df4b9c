import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { get, getJson } from '../helpers/http.js'

let sims: Simulator[] = []
afterEach(async () => {
  await Promise.all(sims.map((s) => s.stop()))
  sims = []
})
async function start(options: SimulatorOptions): Promise<Simulator> {
  const sim = await startSimulator({ rateLimit: false, records: 300, ...options })
  sims.push(sim)
  return sim
}

type Page = { data: { results: { id: string }[]; next_cursor: string | null } }

async function statuses(s: Simulator, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++)
    out.push((await get(s.url, '/rest/v2/requests?limit=5', s.token)).status)
  return out
}

async function walk(s: Simulator, limit = 50): Promise<Page[]> {
  const pages: Page[] = []
  let cursor: string | null = null
  do {
    const page: Page = await getJson<Page>(
      s.url,
      `/rest/v2/requests?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      s.token,
    )
    pages.push(page)
    cursor = page.data.next_cursor
  } while (cursor)
  return pages
}

describe('simulator fault switches', () => {
  it('5xx with an HTML body: fires at the given share, counted, the same for the same seed', async () => {
    const a = await start({ seed: 3, faults: { serverError: 0.3 } })
    const b = await start({ seed: 3, faults: { serverError: 0.3 } })
    const seqA = await statuses(a, 60)
    expect(await statuses(b, 60)).toEqual(seqA)
    const failed = seqA.filter((s) => s >= 500)
    expect(failed.length).toBeGreaterThan(5)
    expect(failed.length).toBeLessThan(35)
    expect(a.counters.faults.serverError).toBe(failed.length)
    let html
    for (let i = 0; i < 20 && !html; i++) {
      const res = await get(a.url, '/rest/v2/requests/sub-status', a.token)
      if (res.status >= 500) html = res
    }
    expect(html!.headers['content-type']).toBe('text/html')
    expect(html!.text).toContain('<html>')
  })

  it('latency delays responses', async () => {
    const s = await start({ faults: { latency: { rate: 1, ms: 150 } } })
    const started = performance.now()
    await get(s.url, '/rest/v2/requests/sub-status', s.token)
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    expect(s.counters.faults.latency).toBe(1)
  })

  it('truncated JSON bodies arrive with status 200 and do not parse', async () => {
    const s = await start({ faults: { truncate: 1 } })
    const res = await get(s.url, '/rest/v2/requests', s.token)
    expect(res.status).toBe(200)
    expect(() => JSON.parse(res.text)).toThrow()
    expect(s.counters.faults.truncate).toBe(1)
  })

  it('dropped connections fail the request, before or part way through the body', async () => {
    const s = await start({ faults: { drop: 1 } })
    const errors: string[] = []
    for (let i = 0; i < 6; i++) {
      await get(s.url, `/rest/v2/requests?limit=${i + 1}`, s.token).then(
        () => errors.push('none'),
        (error: Error) => errors.push(error.name),
      )
    }
    expect(errors).not.toContain('none')
    expect(s.counters.faults.drop).toBe(6)
  })

  it('a record repeated across a page boundary', async () => {
    const s = await start({ faults: { duplicate: 1 } })
    const pages = await walk(s)
    for (let i = 1; i < pages.length; i++) {
      expect(pages[i]!.data.results[0]!.id).toBe(pages[i - 1]!.data.results.at(-1)!.id)
    }
    const ids = pages.flatMap((p) => p.data.results.map((r) => r.id))
    expect(ids.length).toBeGreaterThan(300)
    expect([...new Set(ids)]).toEqual([...s.truth.requests()].map((r) => r.id))
    expect(s.counters.faults.duplicate).toBe(pages.length - 1)
  })

  it('records inserted while a client is paging appear at the end of the walk', async () => {
    const s = await start({ faults: { insertWhilePaging: { rate: 1, count: 2 } } })
    const pages = await walk(s, 100)
    const ids = pages.flatMap((p) => p.data.results.map((r) => r.id))
    expect(s.counters.faults.insertWhilePaging).toBe(pages.length - 1)
    expect(s.truth.requestCount).toBe(300 + 2 * (pages.length - 1))
    expect(ids).toEqual([...s.truth.requests()].map((r) => r.id))
  })

  it('faults off: no fault is counted', async () => {
    const s = await start({})
    await walk(s)
    expect(Object.values(s.counters.faults).every((n) => n === 0)).toBe(true)
  })
})
