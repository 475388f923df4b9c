/**
 * The `show` server answering plain HTTP requests (no browser): what a page of another site can
 * make a browser send it.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectsPage } from '../../src/show/show-pages.js'
import type { ShowContext } from '../../src/show/show-pages.js'
import { startShowServer } from '../../src/show/show-server.js'
import type { ShowServer } from '../../src/show/show-server.js'
import { loadRow } from '../helpers/destinations.js'
import { simulatorPipeline } from '../helpers/pipeline.js'

interface Answer {
  readonly status: number
  readonly text: string
}

/** One request to `url` with `headers`, and a form `body` when given (POST). */
function send(
  url: string,
  headers: Readonly<Record<string, string>>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          ...headers,
          ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

// Its result, `ran-42`, is not in the statement's text: seeing it means the statement ran.
const SQL = "SELECT 'ran-' || 42 AS x"

describe('show: the SQL box and requests from another site', () => {
  let server: ShowServer
  beforeAll(async () => {
    const pipeline = simulatorPipeline({ url: 'http://127.0.0.1:9', token: 'unused-token' })
    // An empty warehouse: the file exists, so the Data page reads it.
    await (await pipeline.destination.connect()).close()
    server = await startShowServer({ pipelines: [pipeline] })
  })
  afterAll(() => server.close())

  const data = () => `${server.url}data?${new URLSearchParams({ sql: SQL }).toString()}`

  it('runs the statement sent from its own page, or from an address typed or bookmarked', async () => {
    for (const site of ['same-origin', 'none']) {
      const answer = await send(data(), { 'sec-fetch-site': site })
      expect(answer.status, site).toBe(200)
      expect(answer.text, site).toContain('ran-42')
    }
    // No Sec-Fetch-Site (curl, an older browser) and no Origin: as before.
    expect((await send(data(), {})).text).toContain('ran-42')
  })

  it('does not run SQL a page of another site makes the browser send (GET or POST)', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const answer = await send(data(), { 'sec-fetch-site': site })
      expect(answer.status, site).toBe(403)
      expect(answer.text, site).not.toContain('ran-42')
      expect(answer.text, site).toContain('was not run')
    }
    const form = new URLSearchParams({ pipeline: 'thena', sql: SQL }).toString()
    const posted = await send(`${server.url}data`, { 'sec-fetch-site': 'cross-site' }, form)
    expect(posted.status).toBe(403)
    expect(posted.text).not.toContain('ran-42')
    // An older browser names at least the origin of a form it POSTs.
    const old = await send(`${server.url}data`, { origin: 'https://evil.example' }, form)
    expect(old.status).toBe(403)
    expect(old.text).not.toContain('ran-42')
    const own = await send(`${server.url}data`, { origin: server.url.replace(/\/$/, '') }, form)
    expect(own.text).toContain('ran-42')
  })

  it('stops a statement of the SQL box at its time limit, so that it never holds the file long', async () => {
    // Ten billion pairs, each hashed: minutes of work, unless stopped.
    const sql =
      'SELECT count(*) AS n FROM range(100000) a, range(100000) b WHERE hash(a.range + b.range * 100000) % 1000003 = 7'
    const started = Date.now()
    const answer = await send(`${server.url}data?${new URLSearchParams({ sql }).toString()}`, {})
    expect(answer.status).toBe(400)
    expect(answer.text).toContain('the statement was stopped after 2 s')
    expect(Date.now() - started).toBeLessThan(15_000)
    // The next statement runs as usual.
    expect((await send(data(), {})).text).toContain('ran-42')
  })

  it('a form too long for the SQL box is 413, and nothing is run', async () => {
    const sql = `${SQL} -- ${'x'.repeat(300 * 1024)}`
    const form = new URLSearchParams({ pipeline: 'thena', sql }).toString()
    const answer = await send(`${server.url}data`, { 'sec-fetch-site': 'same-origin' }, form)
    expect(answer.status).toBe(413)
    expect(answer.text).not.toContain('ran-42')
  })

  it('still serves every page without SQL to any request', async () => {
    const answer = await send(`${server.url}data`, { 'sec-fetch-site': 'cross-site' })
    expect(answer.status).toBe(200)
    expect(answer.text).toContain('<h1>Data of thena</h1>')
  })
})

describe('show: the Rejects page and huge records', () => {
  it('reads of each reject only what it can show, however large the raw record', async () => {
    const pipeline = simulatorPipeline({ url: 'http://127.0.0.1:9', token: 'unused-token' })
    const writer = await pipeline.destination.connect()
    await writer.prepare()
    const raw = JSON.stringify({ id: 'r1', body: 'y'.repeat(5_000_000) })
    await writer.transaction(async (tx) => {
      await tx.writeLoad(loadRow('l1', 'failed', { pipeline: 'thena' }))
      await tx.writeRejects('thena', 'l1', [
        { resource: 'requests', recordId: 'r1', reason: 'z'.repeat(3_000_000), raw },
      ])
    })
    await writer.close()
    // The longest text any query of the page returned.
    let longest = 0
    const ctx: ShowContext = {
      pipelines: [pipeline],
      now: new Date(),
      read: async (p, fn) => {
        const session = await p.destination.connect({ readOnly: true })
        const query = session.query.bind(session)
        session.query = async (sql, options) => {
          const result = await query(sql, options)
          for (const row of result.rows)
            for (const value of Object.values(row))
              if (typeof value === 'string') longest = Math.max(longest, value.length)
          return result
        }
        try {
          return await fn(session)
        } finally {
          await session.close()
        }
      },
    }
    const page = await rejectsPage(ctx, pipeline)
    expect(page.body.html).toContain('record r1')
    expect(page.body.html).toContain('yyyy')
    expect(longest).toBeLessThanOrEqual(100_000)
  })
})
