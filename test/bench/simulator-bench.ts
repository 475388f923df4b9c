/**
 * How fast the simulator serves pages, and whether its memory stays flat as the record count
 * grows. The simulator runs in its own process (as `thena-sync simulate`), the client here.
 */
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import { spawnSimulator } from '../helpers/spawn-simulator.js'

interface WalkResult {
  readonly pages: number
  readonly records: number
  readonly seconds: number
}

async function cursorWalk(
  pool: Pool,
  token: string,
  parse: boolean,
  path = '/rest/v2/requests',
): Promise<WalkResult> {
  const started = performance.now()
  let cursor: string | null = null
  let pages = 0
  let records = 0
  do {
    const url: string = `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res: Dispatcher.ResponseData = await pool.request({
      path: url,
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    })
    if (parse) {
      const text = await res.body.text()
      const body = JSON.parse(text) as { data: { results: unknown[]; next_cursor: string | null } }
      records += body.data.results.length
      cursor = body.data.next_cursor
    } else {
      // Only the cursor is read, from the raw bytes: this measures the server, not the
      // client's UTF-8 decoding and JSON.parse.
      const bytes: Buffer = Buffer.from(await res.body.arrayBuffer())
      const at = bytes.lastIndexOf('"next_cursor":')
      const tail: string = bytes.subarray(at + 14).toString('latin1')
      cursor = tail.startsWith('"') ? tail.slice(1, tail.indexOf('"', 1)) : null
      records += 100
    }
    pages++
    if (pages > 1_000_000) throw new Error('cursor chain did not end')
  } while (cursor)
  return { pages, records, seconds: (performance.now() - started) / 1000 }
}

async function pageWalk(
  pool: Pool,
  token: string,
  total: number,
  concurrency: number,
): Promise<WalkResult> {
  const started = performance.now()
  const pageCount = Math.ceil(total / 100)
  let next = 1
  let records = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next <= pageCount) {
        const page = next++
        const res = await pool.request({
          path: `/rest/v2/requests?limit=100&page=${page}`,
          method: 'GET',
          headers: { authorization: `Bearer ${token}` },
        })
        const body = JSON.parse(await res.body.text()) as { data: { results: unknown[] } }
        records += body.data.results.length
      }
    }),
  )
  return { pages: pageCount, records, seconds: (performance.now() - started) / 1000 }
}

const fmt = (r: WalkResult) =>
  `${r.pages} pages, ${r.records} records in ${r.seconds.toFixed(2)} s = ${(r.pages / r.seconds).toFixed(0)} pages/s (${(r.records / r.seconds).toFixed(0)} records/s)`

const sum = (results: readonly WalkResult[]): WalkResult => ({
  pages: results.reduce((n, r) => n + r.pages, 0),
  records: results.reduce((n, r) => n + r.records, 0),
  seconds: Math.max(...results.map((r) => r.seconds)),
})

export async function simulatorBench(): Promise<void> {
  console.log('## simulator: pages of 100 served on loopback (simulator in its own process)')
  for (const records of [10_000, 100_000]) {
    const sim = await spawnSimulator(['--records', String(records), '--no-rate-limit'])
    const pool = new Pool(sim.url, { connections: 4 })
    try {
      await cursorWalk(pool, sim.token, false) // warm-up (JIT); nothing is cached between walks
      const raw = await cursorWalk(pool, sim.token, false)
      const parsed = await cursorWalk(pool, sim.token, true)
      // Two walks at once, as a run does for requests and requests/v3.
      const both = sum(
        await Promise.all([
          cursorWalk(pool, sim.token, true, '/rest/v2/requests'),
          cursorWalk(pool, sim.token, true, '/rest/v2/requests/v3'),
        ]),
      )
      const rawBoth = sum(
        await Promise.all([
          cursorWalk(pool, sim.token, false, '/rest/v2/requests'),
          cursorWalk(pool, sim.token, false, '/rest/v2/requests/v3'),
        ]),
      )
      console.log(`${records} requests, 1 cursor walk, cursor read only:  ${fmt(raw)}`)
      console.log(`${records} requests, 2 cursor walks, cursor read only: ${fmt(rawBoth)}`)
      console.log(`${records} requests, 1 cursor walk, JSON parsed:       ${fmt(parsed)}`)
      console.log(`${records} requests, 2 cursor walks, JSON parsed:      ${fmt(both)}`)
      console.log(`${records} requests, simulator peak RSS: ${sim.peakRssMb().toFixed(0)} MB`)
    } finally {
      await pool.close()
      await sim.stop()
    }
  }
  const sim = await spawnSimulator(['--records', '100000', '--no-rate-limit', '--paging', 'page'])
  const pool = new Pool(sim.url, { connections: 4 })
  try {
    await pageWalk(pool, sim.token, 100_000, 4)
    console.log(
      `100000 requests, page mode, 4 concurrent, JSON parsed: ${fmt(await pageWalk(pool, sim.token, 100_000, 4))}`,
    )
  } finally {
    await pool.close()
    await sim.stop()
  }
  const big = await spawnSimulator(['--records', '1000000', '--no-rate-limit'])
  const bigPool = new Pool(big.url, { connections: 1 })
  try {
    const r = await cursorWalk(bigPool, big.token, false)
    console.log(`1000000 requests, 1 cursor walk, cursor read only: ${fmt(r)}`)
    console.log(`1000000 requests, simulator peak RSS: ${big.peakRssMb().toFixed(0)} MB`)
  } finally {
    await bigPool.close()
    await big.stop()
  }
}
