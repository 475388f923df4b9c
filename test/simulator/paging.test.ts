import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator } from '../../sources/thena/simulator/index.js'
import type { Simulator, SimulatorOptions } from '../../sources/thena/simulator/index.js'
import { objectIdTime } from '../../sources/thena/simulator/object-id.js'
import { get, getJson } from '../helpers/http.js'

type Page = {
  data: { results: { id: string; created_at: string }[]; next_cursor?: string | null }
  next_cursor?: string | null
  message: null
}

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

async function start(options: SimulatorOptions): Promise<Simulator> {
  sim = await startSimulator({ rateLimit: false, ...options })
  return sim
}

/** Walks the cursor chain the way a client must: follow next_cursor until it is null. */
async function walkCursor(s: Simulator, path: string, limit: number): Promise<string[]> {
  const p = s.options.paging
  const ids: string[] = []
  let cursor: string | null | undefined
  for (let guard = 0; guard < 10_000; guard++) {
    const query = `${p.limitParam}=${limit}${cursor ? `&${p.cursorParam}=${encodeURIComponent(cursor)}` : ''}`
    const page = await getJson<Page>(s.url, `${path}?${query}`, s.token)
    expect(page.message).toBeNull()
    ids.push(...page.data.results.map((r) => r.id))
    cursor = p.cursorLocation === 'data' ? page.data.next_cursor : page.next_cursor
    if (p.cursorLocation === 'data') expect(page).not.toHaveProperty('next_cursor')
    else expect(page.data).not.toHaveProperty('next_cursor')
    if (!cursor) return ids
  }
  throw new Error('cursor chain did not end')
}

async function walkPages(s: Simulator, limit: number): Promise<string[]> {
  const ids: string[] = []
  for (let page = s.options.paging.firstPage; ; page++) {
    const body = await getJson<Page>(
      s.url,
      `/rest/v2/requests?limit=${limit}&page=${page}`,
      s.token,
    )
    ids.push(...body.data.results.map((r) => r.id))
    if (body.data.results.length < limit) return ids
  }
}

const truthIds = (s: Simulator) => [...s.truth.requests()].map((r) => r.id as string)

describe('simulator paging', () => {
  const modes: [string, SimulatorOptions['paging']][] = [
    ['cursor at data.next_cursor', { cursorLocation: 'data' }],
    ['cursor at top-level next_cursor', { cursorLocation: 'top' }],
    ['cursor sent back as next_cursor', { cursorParam: 'next_cursor' }],
    ['lazy end (full last page keeps a cursor)', { lazyEnd: true }],
  ]
  for (const [name, paging] of modes) {
    it(`${name}: a walk returns every request exactly once, oldest first`, async () => {
      const s = await start({ records: 250, paging })
      for (const path of ['/rest/v2/requests', '/rest/v2/requests/v3', '/v3/requests']) {
        const ids = await walkCursor(s, path, 50)
        expect(ids).toEqual(truthIds(s))
        expect(new Set(ids).size).toBe(250)
      }
    })
  }

  it('page mode: pages of `limit` until a short page return the truth once', async () => {
    const s = await start({ records: 230, paging: { mode: 'page' } })
    expect(await walkPages(s, 50)).toEqual(truthIds(s))
    const s0 = s
    await s0.stop()
    const zero = await start({
      records: 100,
      paging: { mode: 'page', firstPage: 0, pageParam: 'p' },
    })
    const first = await getJson<Page>(zero.url, '/rest/v2/requests?limit=60&p=0', zero.token)
    const second = await getJson<Page>(zero.url, '/rest/v2/requests?limit=60&p=1', zero.token)
    expect([...first.data.results, ...second.data.results].map((r) => r.id)).toEqual(truthIds(zero))
  })

  it('sorts by creation time, and every id embeds its created_at', async () => {
    const s = await start({ records: 300 })
    const records = [...s.truth.requests()]
    const created = records.map((r) => Date.parse(r.created_at as string))
    expect([...created].sort((a, b) => a - b)).toEqual(created)
    for (const r of records) {
      expect(r.id).toMatch(/^[0-9a-f]{24}$/)
      expect(objectIdTime(r.id as string)?.getTime()).toBe(Date.parse(r.created_at as string))
    }
  })

  it('cursors are base64 of id:<last ObjectId>; the last page has a null cursor', async () => {
    const s = await start({ records: 120 })
    const page = await getJson<Page>(s.url, '/rest/v2/requests?limit=100', s.token)
    const last = page.data.results.at(-1)!.id
    expect(Buffer.from(page.data.next_cursor!, 'base64').toString()).toBe(`id:${last}`)
    const next = await getJson<Page>(
      s.url,
      `/rest/v2/requests?cursor=${page.data.next_cursor}`,
      s.token,
    )
    expect(next.data.results).toHaveLength(20)
    expect(next.data.next_cursor).toBeNull()
  })

  it('limit defaults to 100, is clamped to 1000, and a bad limit or cursor is a 400', async () => {
    const s = await start({ records: 1500 })
    const count = async (q: string) =>
      (await getJson<Page>(s.url, `/rest/v2/requests${q}`, s.token)).data.results.length
    expect(await count('')).toBe(100)
    expect(await count('?limit=5000')).toBe(1000)
    expect((await get(s.url, '/rest/v2/requests?limit=0', s.token)).status).toBe(400)
    expect((await get(s.url, '/rest/v2/requests?cursor=bm9wZQ', s.token)).status).toBe(400)
  })

  it('an empty source serves one empty page with no cursor', async () => {
    const s = await start({ records: 0 })
    const page = await getJson<Page>(s.url, '/rest/v2/requests', s.token)
    expect(page).toEqual({ data: { results: [], next_cursor: null }, message: null })
  })

  it('lazy end: an exact multiple ends with an empty page', async () => {
    const s = await start({ records: 100, paging: { lazyEnd: true } })
    const first = await getJson<Page>(s.url, '/rest/v2/requests?limit=50', s.token)
    const second = await getJson<Page>(
      s.url,
      `/rest/v2/requests?limit=50&cursor=${first.data.next_cursor}`,
      s.token,
    )
    expect(second.data.next_cursor).toBeTruthy()
    const third = await getJson<Page>(
      s.url,
      `/rest/v2/requests?limit=50&cursor=${second.data.next_cursor}`,
      s.token,
    )
    expect(third.data).toEqual({ results: [], next_cursor: null })
  })

  it('the same seed serves the same data; another seed does not', async () => {
    const a = await startSimulator({ records: 50, seed: 7, endAt: '2025-06-01T00:00:00Z' })
    const b = await startSimulator({ records: 50, seed: 7, endAt: '2025-06-01T00:00:00Z' })
    const c = await startSimulator({ records: 50, seed: 8, endAt: '2025-06-01T00:00:00Z' })
    try {
      const page = async (s: Simulator) => (await get(s.url, '/rest/v2/requests', s.token)).text
      expect(await page(a)).toBe(await page(b))
      expect(await page(a)).not.toBe(await page(c))
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()])
    }
  })
})
