import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { env } from '../../src/config/env.js'
import { HttpClient } from '../../src/http/http-client.js'
import type { HttpClientOptions } from '../../src/http/http-client.js'
import { bearerAuth, resolveAuth } from '../../src/source/auth.js'

/** What the stand-in server saw of one request. */
interface Seen {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A tiny stand-in API that records every request and answers `status` with `{ ok: true }`. */
async function recordingApi(status = 200) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      res.statusCode = status
      res.setHeader('content-type', 'application/json')
      res.setHeader('X-Custom-Reply', 'yes')
      res.end(JSON.stringify({ ok: true }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen, close: () => server.close() }
}

let closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers) await close()
  closers = []
})

async function setup(options: Partial<HttpClientOptions>, status = 200) {
  const api = await recordingApi(status)
  const client = new HttpClient({ baseUrl: api.url, auth: bearerAuth('tok-http-1'), ...options })
  closers.push(api.close, () => client.close())
  return { api, client }
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  )

describe('HttpClient.request', () => {
  it('a POST sends its body as JSON, with the default and auth headers', async () => {
    const { api, client } = await setup({ headers: { 'X-Tenant': 'acme' } })
    const res = await client.request({
      method: 'POST',
      path: '/search',
      query: { page: '2' },
      body: { q: 'ü', n: 1 },
    })
    expect(res.body).toEqual({ ok: true })
    expect(res.headers['x-custom-reply']).toBe('yes')
    expect(api.seen).toHaveLength(1)
    const [seen] = api.seen
    expect(seen!.method).toBe('POST')
    expect(seen!.url).toBe('/search?page=2')
    expect(JSON.parse(seen!.body)).toEqual({ q: 'ü', n: 1 })
    expect(seen!.headers['content-type']).toBe('application/json')
    expect(seen!.headers['x-tenant']).toBe('acme')
    expect(seen!.headers.authorization).toBe('Bearer tok-http-1')
  })

  it('get() still sends a GET without a body', async () => {
    const { api, client } = await setup({})
    await client.get('/things', { limit: '5' })
    expect(api.seen.map((s) => [s.method, s.url, s.body])).toEqual([['GET', '/things?limit=5', '']])
    expect(api.seen[0]!.headers['content-type']).toBeUndefined()
  })

  it('an api key in a header goes in that header, not in the Authorization header', async () => {
    const auth = resolveAuth(
      { type: 'api_key', key: 'key-in-header-1', header: 'x-api-key' },
      {},
      { field: 'f' },
    )
    const { api, client } = await setup({ auth })
    await client.get('/x')
    expect(api.seen[0]!.headers['x-api-key']).toBe('key-in-header-1')
    expect(api.seen[0]!.headers.authorization).toBeUndefined()
  })

  it('an api key in the query is sent on every request but named in no error', async () => {
    const auth = resolveAuth(
      { type: 'api_key', key: env('K'), query: 'api_key' },
      { K: 'key-in-query-1' },
      { field: 'f' },
    )
    const { api, client } = await setup({ auth }, 401)
    const error = await failure(client.get('/x', { limit: '5' }))
    expect(api.seen[0]!.url).toBe('/x?limit=5&api_key=key-in-query-1')
    expect(error?.code).toBe('http_unauthorized')
    expect(error?.message).toMatch(
      /^the API refused the token \(HTTP 401\) for GET http:\/\/127\.0\.0\.1:\d+\/x\?limit=5: check K$/,
    )
  })

  it("a bolt bearer token's 401 reads exactly as before", async () => {
    const auth = resolveAuth(
      { type: 'bearer', token: env('THENA_API_TOKEN') },
      { THENA_API_TOKEN: 'tok-bolt-1' },
      { field: 'f' },
    )
    const { api, client } = await setup({ auth }, 401)
    const error = await failure(client.get('/rest/v2/users'))
    expect(error?.message).toBe(
      `the API refused the token (HTTP 401) for GET ${api.url}/rest/v2/users: check THENA_API_TOKEN`,
    )
  })
})

describe('a next link (absolute url)', () => {
  it('same origin, under or outside the prefix: sent with the credentials', async () => {
    const api = await recordingApi()
    const client = new HttpClient({ baseUrl: `${api.url}/api`, auth: bearerAuth('tok-next-1') })
    closers.push(api.close, () => client.close())
    await client.request({ method: 'GET', path: '', url: `${api.url}/api/items?cursor=abc` })
    expect(api.seen[0]!.url).toBe('/api/items?cursor=abc')
    expect(api.seen[0]!.headers.authorization).toBe('Bearer tok-next-1')
  })

  for (const [what, url] of [
    ['another host', 'http://evil.example/api/items'],
    ['another port', 'http://127.0.0.1:1/api/items'],
    ['another scheme', 'https://127.0.0.1/api/items'],
    ['not a URL', 'not a url'],
  ] as const) {
    it(`${what}: refused before any request (the credentials go nowhere else)`, async () => {
      const { api, client } = await setup({})
      const error = await failure(client.request({ method: 'GET', path: '', url }))
      expect(error?.code).toBe('pagination_foreign_url')
      expect(error?.message).not.toContain('tok-http-1')
      expect(api.seen).toHaveLength(0)
    })
  }

  it('a link relative to the origin is requested there, with the credentials', async () => {
    const { api, client } = await setup({})
    await client
      .request({ method: 'GET', path: '', url: '/api/items?page=2' })
      .catch(() => undefined)
    expect(api.seen).toHaveLength(1)
  })
})

describe('the request budget of an API without rate-limit headers', () => {
  it('requestsPerHour: beyond N in the hour, the wait is refused as wait_too_long', async () => {
    const { api, client } = await setup({ requestsPerHour: 3, maxWaitSeconds: 5 })
    for (let i = 0; i < 3; i++) await client.get(`/p${i}`)
    const started = Date.now()
    const error = await failure(client.get('/p3'))
    expect(error?.code).toBe('wait_too_long')
    expect(error?.message).toContain('3 requests per hour')
    expect(Date.now() - started).toBeLessThan(2000)
    expect(api.seen).toHaveLength(3)
  })

  it('requestsPerMinute still spaces requests (60_000 / N ms apart)', async () => {
    const { api, client } = await setup({ requestsPerMinute: 600 })
    const started = Date.now()
    for (let i = 0; i < 4; i++) await client.get(`/m${i}`)
    // 3 gaps of 100 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(api.seen).toHaveLength(4)
  })
})
