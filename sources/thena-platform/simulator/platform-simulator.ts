/**
 * A local stand-in for Thena's Platform API (`https://platform.thena.ai`, paths `/v1/...`,
 * header `x-api-key`), as shared/reference/thena-api.md §5 and §7 describe it: the
 * `{status, message, timestamp, data}` envelope, NestJS-style errors, 0-based `page` + `limit`
 * paging with no total, the documented rate-limit headers. What the reference leaves unknown
 * (page sizes, orders, deleted records, bare lists, tiers) is an option. Deterministic per seed.
 * Test infrastructure: thena-sync itself never imports it.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { FixedWindowLimiter } from '../../../src/stand-in/fixed-window-limiter.js'
import { closeServer } from '../../../src/stand-in/stand-in-options.js'
import type { JsonObject } from '../../../src/stand-in/json-path.js'
import { decide } from '../../../src/stand-in/prng.js'
import { PlatformDataset } from './platform-dataset.js'
import type { PlatformTruth } from './platform-dataset.js'
import { applyPlatformMutation } from './platform-mutation.js'
import type { PlatformMutation, PlatformMutationResult } from './platform-mutation.js'
import { ATTRIBUTE_KINDS, DAY_MS, iso } from './platform-pools.js'
import type { AttributeKind } from './platform-pools.js'
import { resolvePlatformSimulatorOptions } from './platform-simulator-options.js'
import type {
  PlatformRoute,
  PlatformSimulatorOptions,
  ResolvedPlatformSimulatorOptions,
} from './platform-simulator-options.js'

/** Kinds of injected fault, as counted in `stats.faults`. */
export const PLATFORM_FAULT_KINDS = ['serverError', 'htmlOk', 'truncated', 'drop'] as const
export type PlatformFaultKind = (typeof PLATFORM_FAULT_KINDS)[number]

/** The `dateRange` values of `GET /v1/tickets`. */
export const DATE_RANGES = ['1d', '2d', '1w', '2w', '3w', '4w', '1m', '3m'] as const
export type DateRange = (typeof DATE_RANGES)[number]

/** What the simulator saw since start or the last `resetStats()` (admin routes excluded). */
export interface PlatformSimulatorStats {
  requests: number
  /** Requests per route name (`unknown` for paths no route serves). */
  byRoute: Record<string, number>
  /** Responses per HTTP status. */
  byStatus: Record<string, number>
  /** Requests refused with 429. */
  rateLimited: number
  /** Faults fired, per kind. */
  faults: Record<PlatformFaultKind, number>
  /** Requests refused with 401. */
  unauthorized: number
  /** Every request's path and query as received, to check no secret travels in a URL. */
  urls: string[]
}

/** Options with every default filled in, the clock's start and the admin token included. */
export type PlatformSimulatorEffectiveOptions = ResolvedPlatformSimulatorOptions & {
  readonly endAt: string
  readonly adminToken: string
}

/** A running Platform simulator. */
export interface PlatformSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (paths `/v1/...` go after it). */
  readonly url: string
  /** The key `x-api-key` must carry. */
  readonly apiKey: string
  /** Bearer token of the `/__admin` routes. */
  readonly adminToken: string
  readonly options: PlatformSimulatorEffectiveOptions
  /** Live counters. */
  readonly stats: PlatformSimulatorStats
  /** The simulator's clock (epoch ms): `endAt` at start, then running with real time. */
  now(): number
  /** Every record the API would serve right now. */
  truth(): PlatformTruth
  /** Changes the data at once; throws on an invalid mutation. */
  mutate(mutation: PlatformMutation): PlatformMutationResult
  resetStats(): void
  close(): Promise<void>
}

const ERROR_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

const TIER_MESSAGE =
  'This endpoint is only available for standard and enterprise tier organizations.'
const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>We will be back soon</h1></body></html>\n'
const ENTITY_TYPES = ['ticket', 'account_activity', 'account_note', 'account_task'] as const

const STATIC_ROUTES: Record<string, PlatformRoute> = {
  '/v1/tickets': 'tickets',
  '/v1/tickets/status': 'ticket-statuses',
  '/v1/accounts': 'accounts',
  '/v1/accounts/contacts': 'contacts',
  '/v1/accounts/attributes': 'account-attributes',
  '/v1/teams': 'teams',
  '/v1/users/list': 'users',
  '/v1/tags': 'tags',
  '/v1/custom-field': 'custom-fields',
  '/v1/comments': 'comments',
}

interface Route {
  readonly name: PlatformRoute
  readonly teamId?: string
}

function matchRoute(pathname: string): Route | undefined {
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname
  const name = STATIC_ROUTES[path]
  if (name) return { name }
  const m = /^\/v1\/teams\/([^/]+)\/members$/.exec(path)
  if (!m) return undefined
  try {
    return { name: 'team-members', teamId: decodeURIComponent(m[1]!) }
  } catch {
    // A malformed escape names no team: the route answers 404 like any unknown team.
    return { name: 'team-members', teamId: m[1]! }
  }
}

const newStats = (): PlatformSimulatorStats => ({
  requests: 0,
  byRoute: {},
  byStatus: {},
  rateLimited: 0,
  faults: { serverError: 0, htmlOk: 0, truncated: 0, drop: 0 },
  unauthorized: 0,
  urls: [],
})

/** 00:00 UTC of the day `range` before `nowMs` (a month back is a calendar month, clamped). */
export function dateRangeStart(range: DateRange, nowMs: number): number {
  const now = new Date(nowMs)
  const amount = Number(range.slice(0, -1))
  const unit = range.at(-1)
  if (unit === 'm') {
    const y = now.getUTCFullYear()
    const m = now.getUTCMonth() - amount
    const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate()
    return Date.UTC(y, m, Math.min(now.getUTCDate(), lastDay))
  }
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  return day - amount * (unit === 'w' ? 7 : 1) * DAY_MS
}

type Reply = { readonly status: number; readonly body: string }

/**
 * Starts the Platform simulator on 127.0.0.1.
 *
 * @example
 * const sim = await startPlatformSimulator({ tickets: 500, rateLimit: false })
 * await fetch(`${sim.url}/v1/tickets?page=0&limit=100`, { headers: { 'x-api-key': sim.apiKey } })
 * sim.mutate({ op: 'updateTickets', count: 5 })
 * await sim.close()
 */
export async function startPlatformSimulator(
  input: PlatformSimulatorOptions = {},
): Promise<PlatformSimulator> {
  const resolved = resolvePlatformSimulatorOptions(input)
  const today = new Date()
  const endMs = resolved.endAt
    ? Date.parse(resolved.endAt)
    : Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())
  const options: PlatformSimulatorEffectiveOptions = {
    ...resolved,
    endAt: iso(endMs),
    adminToken: resolved.adminToken ?? `${resolved.apiKey}-admin`,
  }
  const handler = new PlatformHandler(options, endMs)
  const server = createServer({ keepAlive: true }, (req, res) => {
    handler.handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy()
      const message = `simulator failure: ${error instanceof Error ? error.message : String(error)}`
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ statusCode: 500, message, error: 'Internal Server Error' }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: options.apiKey,
    adminToken: options.adminToken,
    options,
    stats: handler.stats,
    now: () => handler.now(),
    truth: () => handler.dataset.truth(),
    mutate: (mutation) => applyPlatformMutation(handler.dataset, mutation),
    resetStats: () => handler.resetStats(),
    close: () => closeServer(server),
  }
}

class PlatformHandler {
  readonly dataset: PlatformDataset
  readonly stats = newStats()
  readonly #o: PlatformSimulatorEffectiveOptions
  readonly #limiter: FixedWindowLimiter | undefined
  readonly #endMs: number
  readonly #startedAt = Date.now()
  #lastStamp = 0
  /** Request number for fault decisions; unlike the stats, never reset. */
  #requestNo = 0

  constructor(options: PlatformSimulatorEffectiveOptions, endMs: number) {
    this.#o = options
    this.#endMs = endMs
    this.#limiter = options.rateLimit
      ? new FixedWindowLimiter(options.rateLimit.limit, options.rateLimit.windowMs)
      : undefined
    this.dataset = new PlatformDataset(options, endMs, () => this.#stamp())
  }

  now(): number {
    return this.#endMs + (Date.now() - this.#startedAt)
  }

  /** The clock for a change: strictly increasing, so every change has its own `updatedAt`. */
  #stamp(): number {
    this.#lastStamp = Math.max(this.now(), this.#lastStamp + 1)
    return this.#lastStamp
  }

  resetStats(): void {
    Object.assign(this.stats, newStats())
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/'
    const url = new URL(raw, 'http://platform-simulator')
    if (url.pathname.startsWith('/__admin/')) return this.#admin(req, res, url)
    const s = this.stats
    const o = this.#o
    s.urls.push(raw)
    s.requests++
    const n = this.#requestNo++
    const route = req.method === 'GET' ? matchRoute(url.pathname) : undefined
    s.byRoute[route?.name ?? 'unknown'] = (s.byRoute[route?.name ?? 'unknown'] ?? 0) + 1
    const fires = (kind: PlatformFaultKind, rate: number) => {
      const fired = decide(rate, o.seed, kind, n)
      if (fired) s.faults[kind]++
      return fired
    }
    if (fires('drop', o.faults.drop)) return void req.socket.destroy()
    if (o.faults.latencyMs > 0) await sleep(o.faults.latencyMs)
    const headers: Record<string, string> = { 'content-type': 'application/json' }

    if (req.headers['x-api-key'] !== o.apiKey) {
      s.unauthorized++
      return this.#send(res, headers, this.#error(401, 'Invalid or missing API key'))
    }
    if (this.#limiter && o.rateLimit) {
      const d = this.#limiter.take(o.apiKey)
      if (o.rateLimit.headers) {
        headers['x-ratelimit-limit'] = String(d.limit)
        headers['x-ratelimit-remaining'] = String(d.remaining)
        headers['x-ratelimit-reset'] = String(d.resetSeconds)
      }
      if (!d.allowed) {
        s.rateLimited++
        if (o.rateLimit.retryAfter)
          headers['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)))
        return this.#send(res, headers, this.#error(429, 'ThrottlerException: Too Many Requests'))
      }
    }
    if (fires('serverError', o.faults.serverError)) {
      const status = n % 2 === 0 ? 500 : 503
      const message = status === 500 ? 'Internal server error' : 'Service Unavailable'
      return this.#send(res, headers, this.#error(status, message))
    }
    if (fires('htmlOk', o.faults.htmlOk))
      return this.#send(res, headers, { status: 200, body: HTML_PAGE })
    if (!route)
      return this.#send(res, headers, this.#error(404, `Cannot ${req.method} ${url.pathname}`))
    if (o.forbidden.includes(route.name))
      return this.#send(res, headers, this.#error(403, TIER_MESSAGE))
    const reply = this.#answer(route, url)
    if (reply.status === 200 && fires('truncated', o.faults.truncated)) {
      const half = reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2)))
      return this.#send(res, headers, { status: 200, body: half })
    }
    return this.#send(res, headers, reply)
  }

  #answer(route: Route, url: URL): Reply {
    const q = url.searchParams
    const d = this.dataset
    switch (route.name) {
      case 'tickets': {
        const range = q.get('dateRange')
        if (range !== null && !(DATE_RANGES as readonly string[]).includes(range))
          return this.#error(
            400,
            `dateRange must be one of the following values: ${DATE_RANGES.join(', ')}`,
          )
        const sinceMs = range === null ? undefined : dateRangeStart(range as DateRange, this.now())
        const teamId = q.get('teamId') || undefined
        return this.#paged(route.name, url, d.tickets({ teamId, sinceMs }))
      }
      case 'ticket-statuses':
        return this.#ok(route.name, d.statuses())
      case 'accounts':
        return this.#paged(route.name, url, d.accounts())
      case 'contacts': {
        const accountId = q.get('accountId') || undefined
        if (accountId === undefined && this.#o.contactsRequireAccountId)
          return this.#error(400, 'accountId is required')
        return this.#paged(route.name, url, d.contacts(accountId))
      }
      case 'account-attributes': {
        const kind = q.get('attribute')
        if (kind === null || !(ATTRIBUTE_KINDS as readonly string[]).includes(kind))
          return this.#error(
            400,
            `attribute must be one of the following values: ${ATTRIBUTE_KINDS.join(', ')}`,
          )
        return this.#ok(route.name, d.attributes(kind as AttributeKind))
      }
      case 'teams':
        return this.#ok(route.name, d.teams())
      case 'team-members': {
        const members = d.members(route.teamId!)
        return members ? this.#ok(route.name, members) : this.#error(404, 'Team not found!')
      }
      case 'users':
        return this.#paged(route.name, url, d.users())
      case 'tags':
        return this.#paged(route.name, url, d.tags())
      case 'custom-fields':
        return this.#paged(route.name, url, d.customFields())
      case 'comments': {
        const entityType = q.get('entityType')
        const entityId = q.get('entityId')
        if (entityType === null || !(ENTITY_TYPES as readonly string[]).includes(entityType))
          return this.#error(
            400,
            `entityType must be one of the following values: ${ENTITY_TYPES.join(', ')}`,
          )
        if (!entityId) return this.#error(400, 'entityId should not be empty')
        const list = entityType === 'ticket' ? d.commentsOf(entityId) : []
        return this.#paged(route.name, url, list)
      }
    }
  }

  /** One page of `list`: `[page * limit, (page + 1) * limit)`, limit clamped to `maxLimit`. */
  #paged(route: PlatformRoute, url: URL, list: readonly JsonObject[]): Reply {
    const o = this.#o
    if (o.paging === 'ignored') return this.#ok(route, list)
    const page = intParam(url, 'page', 0, 0)
    if (typeof page === 'string') return this.#error(400, page)
    const limit = intParam(url, 'limit', o.defaultLimit, 1)
    if (typeof limit === 'string') return this.#error(400, limit)
    const size = Math.min(limit, o.maxLimit)
    return this.#ok(route, list.slice(page * size, page * size + size))
  }

  #ok(route: PlatformRoute, data: readonly JsonObject[]): Reply {
    const json = JSON.stringify(data)
    if (this.#o.bareLists.includes(route)) return { status: 200, body: json }
    const timestamp = iso(this.now())
    return {
      status: 200,
      body: `{"status":true,"message":"Success","timestamp":"${timestamp}","data":${json}}`,
    }
  }

  #error(status: number, message: string): Reply {
    const body = { statusCode: status, message, error: ERROR_NAMES[status] ?? 'Error' }
    return { status, body: JSON.stringify(body) }
  }

  #send(res: ServerResponse, headers: Record<string, string>, reply: Reply): void {
    const bytes = Buffer.from(reply.body)
    this.stats.byStatus[reply.status] = (this.stats.byStatus[reply.status] ?? 0) + 1
    res.writeHead(reply.status, { ...headers, 'content-length': String(bytes.length) })
    res.end(bytes)
  }

  async #admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
      })
      res.end(text)
    }
    const fail = (status: number, message: string) =>
      send(status, { statusCode: status, message, error: ERROR_NAMES[status] })
    if (req.headers.authorization !== `Bearer ${this.#o.adminToken}`)
      return fail(401, 'Invalid or missing admin token')
    const route = `${req.method} ${url.pathname}`
    if (route === 'GET /__admin/stats') return send(200, this.stats)
    if (route === 'POST /__admin/reset-stats') {
      this.resetStats()
      return send(200, this.stats)
    }
    if (route === 'POST /__admin/mutations') {
      let text = ''
      for await (const chunk of req) text += String(chunk)
      let result: PlatformMutationResult
      try {
        result = applyPlatformMutation(this.dataset, JSON.parse(text) as unknown)
      } catch (error) {
        return fail(400, error instanceof Error ? error.message : String(error))
      }
      return send(200, result)
    }
    if (route === 'GET /__admin/truth') {
      const asked = url.searchParams.get('resource')?.split(',') ?? TRUTH_KEYS
      const unknown = asked.find((k) => !(TRUTH_KEYS as readonly string[]).includes(k))
      if (unknown !== undefined)
        return fail(400, `Unknown resource ${unknown}; one of ${TRUTH_KEYS.join(', ')}`)
      return streamTruth(res, this.dataset.truth(), asked as TruthKey[])
    }
    return fail(404, `Cannot ${req.method} ${url.pathname}`)
  }
}

/** `name` as a whole number ≥ `min`, its default when absent, or the 400 message. */
function intParam(url: URL, name: string, fallback: number, min: number): number | string {
  const raw = url.searchParams.get(name)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value))
    return `${name} must be an integer number`
  if (value < min) return `${name} must not be less than ${min}`
  return value
}

const TRUTH_KEYS = [
  'tickets',
  'ticketStatuses',
  'accounts',
  'contacts',
  'accountAttributes',
  'teams',
  'teamMembers',
  'users',
  'tags',
  'customFields',
  'comments',
  'hiddenDeleted',
] as const
type TruthKey = (typeof TRUTH_KEYS)[number]

/**
 * Writes the truth as one JSON object, maps as arrays of their records, in chunks: 100,000
 * comments as a single string would be most of the memory the simulator is allowed.
 */
async function streamTruth(
  res: ServerResponse,
  truth: PlatformTruth,
  keys: readonly TruthKey[],
): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' })
  let buffer = '{'
  const flush = async () => {
    const ok = res.write(buffer)
    buffer = ''
    if (!ok)
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.on('drain', done)
        res.on('close', done)
      })
  }
  for (const [i, key] of keys.entries()) {
    buffer += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`
    const value = truth[key]
    if (key === 'hiddenDeleted') {
      buffer += JSON.stringify(value)
      continue
    }
    const items = value instanceof Map ? value.values() : (value as readonly unknown[])
    buffer += '['
    let first = true
    for (const item of items) {
      buffer += `${first ? '' : ','}${JSON.stringify(item)}`
      first = false
      if (buffer.length > 65_536) {
        await flush()
        if (res.destroyed) return
      }
    }
    buffer += ']'
  }
  res.end(`${buffer}}`)
}
