/**
 * A stand-in for Thena's Workflows API (`https://workflow-app.thena.ai/api/v1`,
 * shared/reference/thena-api.md §10): workflows, their executions and tasks, and the activity
 * and event registries, behind the Platform's `x-api-key`, NestJS errors and rate-limit headers.
 * What the reference leaves unknown (paths' paging, envelope, limits, tier gating) is an option,
 * and faults are switches. Deterministic per seed. Test infrastructure: thena-sync never imports it.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FixedWindowLimiter } from '../../../src/stand-in/fixed-window-limiter.js'
import { closeServer } from '../../../src/stand-in/stand-in-options.js'
import { decide } from '../../../src/stand-in/prng.js'
import { WorkflowsDataset } from './workflows-dataset.js'
import type {
  WorkflowsMutation,
  WorkflowsMutationResult,
  WorkflowsTruth,
} from './workflows-dataset.js'
import { resolveWorkflowsSimulatorOptions } from './workflows-simulator-options.js'
import type {
  ResolvedWorkflowsSimulatorOptions,
  WorkflowsRoute,
  WorkflowsSimulatorOptions,
} from './workflows-simulator-options.js'

/** Kinds of injected fault, as counted in `stats.faultsByKind` (latency is not a fault). */
export const WORKFLOWS_FAULT_KINDS = ['serverError', 'htmlOk', 'truncated', 'drop'] as const
export type WorkflowsFaultKind = (typeof WORKFLOWS_FAULT_KINDS)[number]

/** What the simulator saw since start (or the last `resetStats()`); admin routes excluded. */
export interface WorkflowsSimulatorStats {
  /** API requests received, refused ones included. */
  requests: number
  /** Requests per route name (`workflows`, `executions`, `tasks`, `activities`, `events`, `unknown`). */
  byRoute: Record<string, number>
  /** Answers per HTTP status (a dropped connection has none). */
  byStatus: Record<string, number>
  /** Requests refused with 429. */
  rateLimited: number
  /** Faults fired, all kinds together. */
  faults: number
  /** Faults fired, per kind. */
  faultsByKind: Record<WorkflowsFaultKind, number>
  /** Requests refused with 401 (missing or wrong `x-api-key`). */
  unauthorized: number
  /** Every request's path and query as received, to check that no secret travels in a URL. */
  urls: string[]
}

/** A running simulator. */
export interface WorkflowsSimulator {
  /** Origin + base path, e.g. `http://127.0.0.1:41234/api/v1`: the workflows base URL to configure. */
  readonly url: string
  /** `http://127.0.0.1:<port>`: where the `/__admin` routes are. */
  readonly origin: string
  /** The `x-api-key` the API accepts. */
  readonly apiKey: string
  /** Bearer token of the `/__admin` routes. */
  readonly adminToken: string
  /** The options with every default filled in (`endAt` included). */
  readonly options: ResolvedWorkflowsSimulatorOptions
  /** Live counters; `resetStats()` clears this same object. */
  readonly stats: WorkflowsSimulatorStats
  /** Every record as the API serves it now (copies). */
  truth(): WorkflowsTruth
  /** Changes the served data at once; throws on an invalid mutation. */
  mutate(mutation: WorkflowsMutation): WorkflowsMutationResult
  resetStats(): void
  close(): Promise<void>
}

type Obj = Record<string, unknown>
type Answer = { status: number; body: unknown }
interface Route {
  readonly name: WorkflowsRoute
  readonly workflowUid?: string
  readonly executionId?: string
}

const JSON_TYPE = 'application/json; charset=utf-8'
const MAINTENANCE_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>We will be back soon</h1></body></html>\n'

const nest = (statusCode: number, message: string, error: string) => ({
  statusCode,
  message,
  error,
})

const newStats = (): WorkflowsSimulatorStats => ({
  requests: 0,
  byRoute: {},
  byStatus: {},
  rateLimited: 0,
  faults: 0,
  faultsByKind: { serverError: 0, htmlOk: 0, truncated: 0, drop: 0 },
  unauthorized: 0,
  urls: [],
})

const startOfUtcDay = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000

function matchRoute(pathname: string, basePath: string): Route | undefined {
  if (!pathname.startsWith(`${basePath}/`)) return undefined
  let rest = pathname.slice(basePath.length + 1)
  if (rest.endsWith('/')) rest = rest.slice(0, -1)
  let parts: string[]
  try {
    parts = rest.split('/').map(decodeURIComponent)
  } catch {
    return undefined
  }
  const [first, uid, second, executionId, third] = parts
  if (parts.length === 1 && (first === 'workflows' || first === 'activities' || first === 'events'))
    return { name: first }
  if (first !== 'workflows' || !uid || second !== 'executions') return undefined
  if (parts.length === 3) return { name: 'executions', workflowUid: uid }
  if (parts.length === 5 && executionId && third === 'tasks')
    return { name: 'tasks', workflowUid: uid, executionId }
  return undefined
}

/**
 * Starts the Workflows API simulator on 127.0.0.1.
 *
 * @example
 * const sim = await startWorkflowsSimulator({ workflows: 20, seed: 7 })
 * // workflows base URL: sim.url, x-api-key: sim.apiKey
 * sim.mutate({ op: 'newExecutions', count: 5 })
 * await sim.close()
 */
export async function startWorkflowsSimulator(
  input: WorkflowsSimulatorOptions = {},
): Promise<WorkflowsSimulator> {
  const parsed = resolveWorkflowsSimulatorOptions(input)
  const endAt = parsed.endAt ? Date.parse(parsed.endAt) : startOfUtcDay(Date.now())
  const options: ResolvedWorkflowsSimulatorOptions = {
    ...parsed,
    endAt: new Date(endAt).toISOString(),
  }
  const dataset = new WorkflowsDataset({ ...options, endAt })
  const handler = new WorkflowsHandler(options, dataset)
  const server = createServer({ keepAlive: true }, (req, res) => {
    handler.handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy()
      res.writeHead(500, { 'content-type': JSON_TYPE })
      res.end(
        JSON.stringify(nest(500, `simulator failure: ${String(error)}`, 'Internal Server Error')),
      )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}${options.basePath}`,
    origin,
    apiKey: options.apiKey,
    adminToken: handler.adminToken,
    options,
    stats: handler.stats,
    truth: () => dataset.truth(),
    mutate: (mutation) => dataset.apply(mutation),
    resetStats: () => handler.resetStats(),
    close: () => closeServer(server),
  }
}

class WorkflowsHandler {
  readonly stats = newStats()
  readonly adminToken: string
  readonly #o: ResolvedWorkflowsSimulatorOptions
  readonly #data: WorkflowsDataset
  readonly #limiter: FixedWindowLimiter | undefined

  constructor(options: ResolvedWorkflowsSimulatorOptions, dataset: WorkflowsDataset) {
    this.#o = options
    this.#data = dataset
    this.adminToken = options.adminToken ?? `${options.apiKey}-admin`
    this.#limiter = options.rateLimit
      ? new FixedWindowLimiter(options.rateLimit.limit, options.rateLimit.windowMs)
      : undefined
  }

  resetStats(): void {
    Object.assign(this.stats, newStats())
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator')
    if (url.pathname === '/__admin' || url.pathname.startsWith('/__admin/'))
      return this.#admin(req, res, url)
    const s = this.stats
    const n = s.requests++
    s.urls.push(`${url.pathname}${url.search}`)
    const route = req.method === 'GET' ? matchRoute(url.pathname, this.#o.basePath) : undefined
    const routeName = route?.name ?? 'unknown'
    s.byRoute[routeName] = (s.byRoute[routeName] ?? 0) + 1
    const headers: Record<string, string> = { 'content-type': JSON_TYPE }
    const f = this.#o.faults

    if (this.#fires('drop', f.drop, n)) return void req.socket.destroy()
    if (req.headers['x-api-key'] !== this.#o.apiKey) {
      s.unauthorized++
      return this.#send(res, 401, headers, nest(401, 'Invalid or missing API key', 'Unauthorized'))
    }
    const rateLimit = this.#o.rateLimit
    if (this.#limiter && rateLimit) {
      const decision = this.#limiter.take(this.#o.apiKey)
      if (rateLimit.headers) {
        headers['x-ratelimit-limit'] = String(decision.limit)
        headers['x-ratelimit-remaining'] = String(decision.remaining)
        headers['x-ratelimit-reset'] = String(decision.resetSeconds)
      }
      if (!decision.allowed) {
        s.rateLimited++
        if (rateLimit.retryAfter)
          headers['retry-after'] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)))
        return this.#send(
          res,
          429,
          headers,
          nest(429, 'ThrottlerException: Too Many Requests', 'Too Many Requests'),
        )
      }
    }
    if (this.#fires('serverError', f.serverError, n)) {
      const body =
        n % 2 === 0
          ? { statusCode: 500, message: 'Internal server error' }
          : nest(503, 'Service Unavailable', 'Service Unavailable')
      return this.#send(res, body.statusCode, headers, body)
    }
    if (this.#fires('htmlOk', f.htmlOk, n))
      return this.#send(res, 200, { ...headers, 'content-type': 'text/html' }, MAINTENANCE_PAGE)
    if (!route)
      return this.#send(
        res,
        404,
        headers,
        nest(404, `Cannot ${req.method ?? 'GET'} ${this.#redact(url.pathname)}`, 'Not Found'),
      )
    if (this.#o.forbidden.includes(route.name))
      return this.#send(
        res,
        403,
        headers,
        nest(
          403,
          'This endpoint is only available for standard and enterprise tier organizations.',
          'Forbidden',
        ),
      )
    const answer = this.#answer(route, url)
    const text = JSON.stringify(answer.body)
    if (answer.status === 200 && this.#fires('truncated', f.truncated, n))
      return this.#send(res, 200, headers, text.slice(0, Math.max(1, Math.floor(text.length / 2))))
    return this.#send(res, answer.status, headers, text)
  }

  /** Fault decisions are a function of (seed, kind, request number), as in the Thalian stand-in. */
  #fires(kind: WorkflowsFaultKind, rate: number, n: number): boolean {
    if (!decide(rate, this.#o.seed, kind, n)) return false
    this.stats.faults++
    this.stats.faultsByKind[kind]++
    return true
  }

  /** A path echoed in a 404 never carries a secret, even one a client put there. */
  #redact(path: string): string {
    let out = path
    for (const secret of [this.#o.apiKey, this.adminToken])
      for (const form of [secret, encodeURIComponent(secret)]) out = out.split(form).join('***')
    return out
  }

  #answer(route: Route, url: URL): Answer {
    let records: Obj[] | undefined
    switch (route.name) {
      case 'workflows':
        records = this.#data.workflows()
        break
      case 'activities':
        records = this.#data.activities()
        break
      case 'events':
        records = this.#data.events()
        break
      case 'executions':
        records = this.#data.executions(route.workflowUid!)
        if (!records) return { status: 404, body: nest(404, 'Workflow not found', 'Not Found') }
        break
      case 'tasks':
        if (!this.#data.hasWorkflow(route.workflowUid!))
          return { status: 404, body: nest(404, 'Workflow not found', 'Not Found') }
        records = this.#data.tasks(route.workflowUid!, route.executionId!)
        if (!records) return { status: 404, body: nest(404, 'Execution not found', 'Not Found') }
        break
    }
    const page = this.#page(url, records)
    if (typeof page === 'string') return { status: 400, body: nest(400, page, 'Bad Request') }
    switch (this.#o.envelope) {
      case 'platform':
        return {
          status: 200,
          body: {
            status: true,
            message: 'Success',
            timestamp: new Date().toISOString(),
            data: page,
          },
        }
      case 'bare':
        return { status: 200, body: page }
      case 'results':
        return { status: 200, body: { data: { results: page, total: records.length } } }
    }
  }

  /** The requested page of `records`, or what is wrong with the request. */
  #page(url: URL, records: Obj[]): Obj[] | string {
    if (this.#o.paging === 'none') return records
    const number = (name: string, fallback: number, min: number): number | undefined => {
      const raw = url.searchParams.get(name)
      if (raw === null) return fallback
      return /^\d+$/.test(raw) && Number(raw) >= min ? Number(raw) : undefined
    }
    const page = number('page', 0, 0)
    if (page === undefined) return 'page must be an integer not less than 0'
    const limit = number('limit', this.#o.defaultLimit, 1)
    if (limit === undefined) return 'limit must be an integer not less than 1'
    const size = Math.min(limit, this.#o.maxLimit)
    return records.slice(page * size, (page + 1) * size)
  }

  #send(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown) {
    const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1
    const finish = () => {
      res.writeHead(status, { ...headers, 'content-length': String(bytes.length) })
      res.end(bytes)
    }
    if (this.#o.faults.latencyMs > 0) setTimeout(finish, this.#o.faults.latencyMs)
    else finish()
  }

  async #admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': JSON_TYPE,
        'content-length': String(Buffer.byteLength(text)),
      })
      res.end(text)
    }
    if (req.headers.authorization !== `Bearer ${this.adminToken}`)
      return send(401, nest(401, 'Invalid or missing admin token', 'Unauthorized'))
    const route = `${req.method} ${url.pathname.replace(/\/$/, '')}`
    if (route === 'GET /__admin/stats') return send(200, this.stats)
    if (route === 'GET /__admin/truth') {
      const t = this.#data.truth()
      return send(200, {
        workflows: [...t.workflows.values()],
        executions: t.executions,
        tasks: t.tasks,
        activities: [...t.activities.values()],
        events: [...t.events.values()],
      })
    }
    if (route === 'POST /__admin/mutations') {
      let text = ''
      for await (const chunk of req) text += String(chunk)
      try {
        return send(200, this.#data.apply(JSON.parse(text) as WorkflowsMutation))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        return send(400, nest(400, message, 'Bad Request'))
      }
    }
    return send(
      404,
      nest(404, `Cannot ${req.method ?? 'GET'} ${this.#redact(url.pathname)}`, 'Not Found'),
    )
  }
}
