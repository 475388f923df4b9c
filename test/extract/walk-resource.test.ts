/**
 * A walk never goes round: the same records served again under a fresh request id, or a
 * cursor sent back to one already followed (A, B, A), stop it with `pagination_loop`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { walkResource } from '../../src/extract/walk-resource.js'
import { HttpClient } from '../../src/http/http-client.js'
import { bearerAuth } from '../../src/source/auth.js'
import { createPaginator } from '../../src/source/paginators/index.js'

let close: (() => void) | undefined
afterEach(() => close?.())

/** Serves `answer(query)` as JSON. */
async function serve(answer: (query: URLSearchParams, n: number) => unknown) {
  let n = 0
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x')
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(answer(url.searchParams, n++)))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  close = () => server.close()
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function walk(url: string, paginator: unknown): Promise<string> {
  const http = new HttpClient({ baseUrl: url, auth: bearerAuth('t0ken-for-walks'), backoffMs: 1 })
  let pages = 0
  try {
    const target = {
      path: '/items',
      recordsPath: ['data'],
      paginator: createPaginator(paginator, 'paginator'),
      primaryKey: 'id',
    }
    for await (const _ of walkResource(http, target, undefined)) if (++pages > 50) return 'endless'
    return `ended after ${pages}`
  } catch (error) {
    return (error as Error).message
  } finally {
    await http.close()
  }
}

describe('walkResource', () => {
  it('stops when the same records come back with a fresh request id (offset ignored)', async () => {
    const url = await serve((_q, n) => ({ data: [{ id: 'a' }, { id: 'b' }], request_id: n }))
    expect(await walk(url, { type: 'offset', limit: 2 })).toMatch(
      /same page twice in a row: stopping instead of looping/,
    )
  })

  it('stops when a cursor sends the walk back to a page it read (A, B, A)', async () => {
    const url = await serve((q) => {
      const at = q.get('cursor') ?? 'A'
      return { data: [{ id: at }], next_cursor: at === 'A' ? 'B' : 'A' }
    })
    expect(await walk(url, { type: 'cursor' })).toMatch(/back to a page it already read/)
  })

  it('a walk that moves on ends normally', async () => {
    const url = await serve((q) => {
      const at = Number(q.get('offset') ?? 0)
      return { data: at < 4 ? [{ id: `r${at}` }, { id: `r${at + 1}` }] : [] }
    })
    expect(await walk(url, { type: 'offset', limit: 2 })).toBe('ended after 3')
  })
})
