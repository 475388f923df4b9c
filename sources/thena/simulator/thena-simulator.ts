import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { ByteWriter } from '../../../src/stand-in/byte-writer.js'
import { closeServer } from '../../../src/stand-in/stand-in-options.js'
import { FixedWindowLimiter } from '../../../src/stand-in/fixed-window-limiter.js'
import type { JsonObject } from '../../../src/stand-in/json-path.js'
import { applyMutation } from './mutation.js'
import type { Mutation, MutationResult } from './mutation.js'
import { decide, hash32 } from '../../../src/stand-in/prng.js'
import { SimulatedDataset } from './simulated-dataset.js'
import { resolveSimulatorOptions } from './simulator-options.js'
import type { ResolvedSimulatorOptions, SimulatorOptions } from './simulator-options.js'

/** Kinds of injected fault, as counted in `SimulatorCounters.faults`. */
export const FAULT_KINDS = [
  'serverError',
  'latency',
  'truncate',
  'drop',
  'duplicate',
  'insertWhilePaging',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** What the simulator has served since start (or the last `resetCounters()`). */
export interface SimulatorCounters {
  /** API requests received (admin routes excluded). */
  requests: number
  /** Requests per route name (`requests`, `users`, `user`, `custom-fields`, `sub-status`, …). */
  byRoute: Record<string, number>
  /** Responses per HTTP status. */
  byStatus: Record<string, number>
  /** Requests refused with 401 (missing or wrong bearer token). */
  unauthorized: number
  /** Requests refused with 429. */
  rateLimited: number
  /** List pages served with status 200. */
  pages: number
  /** Records served in those pages (repeats included). */
  records: number
  /** Faults fired, per kind. */
  faults: Record<FaultKind, number>
  /** Requests accepted by the rate limit per window, keyed by the window's reset (UNIX s). */
  acceptedPerWindow: Record<string, number>
  /** Arrival time (epoch ms) of the first and the last API request; null before the first. */
  firstRequestAt: number | null
  lastRequestAt: number | null
}

/** A running simulator. */
export interface Simulator {
  /** Base URL to use as `THENA_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  /** Bearer token the API accepts. */
  readonly token: string
  /** Bearer token for the `/__admin` routes. */
  readonly adminToken: string
  readonly options: ResolvedSimulatorOptions
  /** The current truth: every record the API would serve right now. */
  readonly truth: SimulatedDataset
  /** Live counters (read them after the client is done). */
  readonly counters: SimulatorCounters
  /** Changes the source between (or during) runs. */
  mutate(mutation: Mutation): MutationResult
  resetCounters(): void
  stop(): Promise<void>
}

type Reply = { status: number; body: unknown; release?: () => void }
interface Route {
  readonly name: string
  readonly id?: string
}

const newCounters = (): SimulatorCounters => ({
  requests: 0,
  byRoute: {},
  byStatus: {},
  unauthorized: 0,
  rateLimited: 0,
  pages: 0,
  records: 0,
  faults: { serverError: 0, latency: 0, truncate: 0, drop: 0, duplicate: 0, insertWhilePaging: 0 },
  acceptedPerWindow: {},
  firstRequestAt: null,
  lastRequestAt: null,
})

const REQUEST_LISTS = new Set(['/rest/v2/requests', '/rest/v2/requests/v3', '/v3/requests'])

function matchRoute(pathname: string): Route | undefined {
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname
  if (REQUEST_LISTS.has(path)) return { name: 'requests' }
  if (path === '/rest/v2/requests/custom-fields') return { name: 'custom-fields' }
  if (path === '/rest/v2/requests/sub-status') return { name: 'sub-status' }
  if (path === '/rest/v2/users') return { name: 'users' }
  if (path === '/v3/users') return { name: 'users-v3' }
  let m = /^\/(?:rest\/v2|v3)\/users\/([^/]+)$/.exec(path)
  if (m) return { name: 'user', id: decodeURIComponent(m[1]!) }
  m = /^\/v3\/requests\/([^/]+)$/.exec(path)
  if (m) return { name: 'request', id: decodeURIComponent(m[1]!) }
  return undefined
}

const encodeCursor = (id: string) => Buffer.from(`id:${id}`).toString('base64')

function decodeCursor(cursor: string): string | undefined {
  const m = /^id:([0-9a-f]{24})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'))
  return m?.[1]
}

const HTML_ERROR = (status: number) =>
  `<!DOCTYPE html>\n<html><head><title>${status} Bad Gateway</title></head><body><center><h1>${status}</h1></center><hr><center>nginx</center></body></html>\n`

/**
 * Starts a local, Thena-compatible bolt API. Everything it serves follows
 * `shared/reference/thena-api.md`; everything that reference leaves unknown is an option.
 *
 * @example
 * const sim = await startSimulator({ records: 500, seed: 7 })
 * // THENA_BASE_URL=sim.url THENA_API_TOKEN=sim.token
 * await sim.stop()
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const resolved = resolveSimulatorOptions(options)
  const handler = new SimulatorHandler(resolved)
  const server = createServer({ keepAlive: true }, (req, res) => {
    handler.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ message: `simulator error: ${String(error)}` }))
    })
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(resolved.port, resolved.host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host
  return {
    url: `http://${host}:${port}`,
    port,
    token: resolved.token,
    adminToken: handler.adminToken,
    options: resolved,
    truth: handler.dataset,
    get counters() {
      return handler.counters
    },
    mutate: (mutation) => applyMutation(handler.dataset, mutation),
    resetCounters: () => handler.resetCounters(),
    stop: () => closeServer(server),
  }
}

class SimulatorHandler {
  readonly dataset: SimulatedDataset
  readonly adminToken: string
  counters = newCounters()
  readonly #options: ResolvedSimulatorOptions
  readonly #limiter: FixedWindowLimiter | undefined
  readonly #occurrences = new Map<string, number>()
  readonly #faultsOn: boolean
  readonly #writers: ByteWriter[] = []

  constructor(options: ResolvedSimulatorOptions) {
    this.#options = options
    this.dataset = new SimulatedDataset(options)
    this.adminToken = options.adminToken ?? `${options.token}-admin`
    this.#limiter = options.rateLimit
      ? new FixedWindowLimiter(options.rateLimit.limit, options.rateLimit.windowMs)
      : undefined
    const f = options.faults
    this.#faultsOn =
      f.serverError > 0 ||
      f.truncate > 0 ||
      f.drop > 0 ||
      f.duplicate > 0 ||
      !!f.latency ||
      !!f.insertWhilePaging
  }

  resetCounters(): void {
    this.counters = newCounters()
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator')
    if (url.pathname.startsWith('/__admin/')) return this.#admin(req, res, url)
    const c = this.counters
    c.requests++
    c.lastRequestAt = Date.now()
    c.firstRequestAt ??= c.lastRequestAt
    const route = matchRoute(url.pathname)
    const routeName = route?.name ?? 'unknown'
    c.byRoute[routeName] = (c.byRoute[routeName] ?? 0) + 1
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }

    const auth = req.headers.authorization
    if (auth !== `Bearer ${this.#options.token}`) {
      c.unauthorized++
      return this.#send(res, 401, headers, { message: 'Unauthorized' })
    }
    const rateLimit = this.#options.rateLimit
    if (this.#limiter && rateLimit) {
      const decision = this.#limiter.take(this.#options.token)
      if (rateLimit.headers) {
        headers['x-ratelimit-limit'] = String(decision.limit)
        headers['x-ratelimit-remaining'] = String(decision.remaining)
        headers['x-ratelimit-reset'] = String(decision.resetSeconds)
      }
      if (decision.allowed) {
        const key = String(decision.resetSeconds)
        c.acceptedPerWindow[key] = (c.acceptedPerWindow[key] ?? 0) + 1
      } else {
        c.rateLimited++
        if (rateLimit.retryAfter)
          headers['retry-after'] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)))
        return this.#send(res, 429, headers, { statusCode: 429, message: 'Too Many Requests' })
      }
    }

    const key = `${req.method} ${url.pathname}${url.search}`
    const occurrence = this.#faultsOn ? this.#nextOccurrence(key) : 0
    const fires = (kind: FaultKind, rate: number) => {
      const fired = decide(rate, this.#options.seed, kind, key, occurrence)
      if (fired) c.faults[kind]++
      return fired
    }
    const f = this.#options.faults
    if (f.latency && fires('latency', f.latency.rate)) await sleep(f.latency.ms)
    if (f.drop > 0 && fires('drop', f.drop)) return this.#drop(res, hash32(key, occurrence))
    if (f.serverError > 0 && fires('serverError', f.serverError)) {
      const status = [500, 502, 503, 504][hash32(key, occurrence, 'status') % 4]!
      headers['content-type'] = 'text/html'
      return this.#send(res, status, headers, HTML_ERROR(status))
    }
    if (req.method !== 'GET')
      return this.#send(res, 405, headers, { message: 'Method Not Allowed' })
    if (!route) return this.#send(res, 404, headers, { message: 'Not Found' })

    const reply = this.#route(route, url, fires)
    const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body))
    if (reply.status === 200 && f.truncate > 0 && fires('truncate', f.truncate)) {
      return this.#send(
        res,
        200,
        headers,
        body.subarray(0, Math.max(1, Math.floor(body.length * 0.6))),
        reply.release,
      )
    }
    return this.#send(res, reply.status, headers, body, reply.release)
  }

  #nextOccurrence(key: string): number {
    const n = (this.#occurrences.get(key) ?? 0) + 1
    this.#occurrences.set(key, n)
    return n
  }

  #acquireWriter(): ByteWriter {
    const writer = this.#writers.pop() ?? new ByteWriter()
    writer.clear()
    return writer
  }

  #send(
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: unknown,
    release?: () => void,
  ): void {
    const bytes = Buffer.isBuffer(body)
      ? body
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    this.counters.byStatus[status] = (this.counters.byStatus[status] ?? 0) + 1
    headers['content-length'] = String(bytes.length)
    res.writeHead(status, headers)
    // Page buffers are reused once the socket has taken the bytes: no 200 KB garbage per page.
    if (release) res.end(bytes, release)
    else res.end(bytes)
  }

  #drop(res: ServerResponse, h: number): void {
    // Half the drops happen before any byte is sent, half part way through the body.
    if (h % 2 === 0) {
      res.socket?.destroy()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' })
    res.write('{"data":{"results":[{"id":"')
    setImmediate(() => res.socket?.destroy())
  }

  #route(route: Route, url: URL, fires: (kind: FaultKind, rate: number) => boolean): Reply {
    switch (route.name) {
      case 'requests':
        return this.#requests(url, fires)
      case 'request': {
        const index = this.dataset.requestIndexOf(route.id!)
        const record = index === undefined ? undefined : this.dataset.requestAt(index)
        return record
          ? { status: 200, body: { data: record, message: null } }
          : this.#notFound('Request not found')
      }
      case 'users':
        return this.#users(url, false)
      case 'users-v3':
        return this.#users(url, true)
      case 'user': {
        const index = this.dataset.userIndexOf(route.id!)
        return index === undefined
          ? this.#notFound('User not found')
          : { status: 200, body: { data: this.dataset.userAt(index), message: null } }
      }
      case 'custom-fields':
        return { status: 200, body: { data: this.dataset.customFields(), message: null } }
      case 'sub-status':
        return { status: 200, body: this.dataset.subStatuses() }
      default:
        return { status: 404, body: { message: 'Not Found' } }
    }
  }

  #notFound(message: string): Reply {
    return this.#options.notFound === '404'
      ? { status: 404, body: { message } }
      : { status: 200, body: { data: null, message } }
  }

  #limit(url: URL): number | undefined {
    const p = this.#options.paging
    const raw = url.searchParams.get(p.limitParam)
    if (raw === null || raw === '') return p.defaultLimit
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1) return undefined
    return Math.min(n, p.maxLimit)
  }

  #requests(url: URL, fires: (kind: FaultKind, rate: number) => boolean): Reply {
    const p = this.#options.paging
    const f = this.#options.faults
    const limit = this.#limit(url)
    if (limit === undefined) return { status: 400, body: { message: `Invalid ${p.limitParam}` } }
    const data = this.dataset
    let start: number | undefined
    let nextPage = false
    if (p.mode === 'cursor') {
      const cursor = url.searchParams.get(p.cursorParam)
      start = 0
      if (cursor) {
        const id = decodeCursor(cursor)
        const after = id === undefined ? undefined : data.requestIndexOf(id)
        if (after === undefined) return { status: 400, body: { message: 'Invalid cursor' } }
        start = after + 1
        nextPage = true
      }
    } else {
      const raw = url.searchParams.get(p.pageParam)
      const page = raw === null || raw === '' ? p.firstPage : Number(raw)
      if (!Number.isInteger(page) || page < p.firstPage)
        return { status: 400, body: { message: `Invalid ${p.pageParam}` } }
      nextPage = page > p.firstPage
      start = (page - p.firstPage) * limit
    }
    if (nextPage && f.insertWhilePaging && fires('insertWhilePaging', f.insertWhilePaging.rate)) {
      data.insertRequests(f.insertWhilePaging.count)
    }
    const repeat = nextPage && f.duplicate > 0 && fires('duplicate', f.duplicate)
    let position =
      p.mode === 'cursor'
        ? data.nextLivePosition(repeat ? start - 1 : start)
        : data.positionAtRank(repeat ? start - 1 : start)
    const out = this.#acquireWriter()
    const release = () => this.#writers.push(out)
    out.ascii('{"data":{"results":[')
    let count = 0
    let last = -1
    while (position !== undefined && count < limit) {
      if (count > 0) out.ascii(',')
      if (data.writeRequest(out, position)) count++
      last = position
      position = data.nextLivePosition(position + 1)
    }
    this.counters.pages++
    this.counters.records += count
    if (p.mode === 'page') {
      out.ascii(']},"message":null}')
      return { status: 200, body: out.view(), release }
    }
    const more = position !== undefined || (p.lazyEnd && count === limit)
    const cursor = more && last >= 0 ? `"${encodeCursor(data.requestIdAt(last))}"` : 'null'
    out.ascii(
      p.cursorLocation === 'data'
        ? `],"next_cursor":${cursor}},"message":null}`
        : `]},"next_cursor":${cursor},"message":null}`,
    )
    return { status: 200, body: out.view(), release }
  }

  #users(url: URL, v3: boolean): Reply {
    const p = this.#options.paging
    let users = [...this.dataset.listedUsers()]
    let next_cursor: string | null = null
    if (p.paginateUsers) {
      const limit = this.#limit(url)
      if (limit === undefined) return { status: 400, body: { message: `Invalid ${p.limitParam}` } }
      const cursor = url.searchParams.get(p.cursorParam)
      let from = 0
      if (cursor) {
        const id = decodeCursor(cursor)
        from = id === undefined ? -1 : users.findIndex((u) => u.id === id) + 1
        if (from <= 0) return { status: 400, body: { message: 'Invalid cursor' } }
      }
      const page = users.slice(from, from + limit)
      if (from + limit < users.length)
        next_cursor = encodeCursor(page[page.length - 1]!.id as string)
      users = page
    }
    this.counters.pages++
    this.counters.records += users.length
    if (v3) return { status: 200, body: { data: { results: users }, next_cursor, message: null } }
    return {
      status: 200,
      body: p.paginateUsers
        ? { data: users, next_cursor, message: null }
        : { data: users, message: null },
    }
  }

  async #admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }
    if (req.headers.authorization !== `Bearer ${this.adminToken}`) {
      return this.#sendAdmin(res, 401, {
        message: 'Unauthorized: the admin routes need the admin token',
      })
    }
    const route = url.pathname.slice('/__admin/'.length)
    if (req.method === 'GET' && route === 'counters')
      return this.#sendAdmin(res, 200, this.counters)
    if (req.method === 'POST' && route === 'reset-counters') {
      this.resetCounters()
      return this.#sendAdmin(res, 200, { ok: true })
    }
    if (req.method === 'POST' && route === 'mutations') {
      let body = ''
      for await (const chunk of req) body += String(chunk)
      try {
        return this.#sendAdmin(res, 200, applyMutation(this.dataset, JSON.parse(body) as Mutation))
      } catch (error) {
        return this.#sendAdmin(res, 400, {
          message: error instanceof Error ? error.message : String(error),
        })
      }
    }
    if (req.method === 'GET' && route === 'truth') {
      const resource = url.searchParams.get('resource') ?? 'requests'
      const source = this.#truthOf(resource)
      if (!source) return this.#sendAdmin(res, 400, { message: `Unknown resource ${resource}` })
      res.writeHead(200, { ...headers, 'content-type': 'application/x-ndjson' })
      for (const record of source) {
        if (!res.write(JSON.stringify(record) + '\n'))
          await new Promise((r) => res.once('drain', r))
      }
      res.end()
      return
    }
    return this.#sendAdmin(res, 404, { message: 'Not Found' })
  }

  #truthOf(resource: string): Iterable<JsonObject> | undefined {
    const d = this.dataset
    const map: Record<string, () => Iterable<JsonObject>> = {
      requests: () => d.requests(),
      users: () => d.users(),
      'listed-users': () => d.listedUsers(),
      'custom-fields': () => d.customFields(),
      'sub-statuses': () => d.subStatuses(),
    }
    return map[resource]?.()
  }

  #sendAdmin(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    })
    res.end(text)
  }
}
