import PQueue from 'p-queue'
import { Pool, errors as undiciErrors } from 'undici'
import type { Dispatcher } from 'undici'
import type { Context } from '@opentelemetry/api'
import { TerminalError, TransientError } from '../errors.js'
import { endRequestSpan, startRequestSpan } from '../observe/run-trace.js'
import type { RequestOutcome } from '../observe/run-trace.js'
import { redactor } from '../redactor.js'
import type { ResolvedAuth } from '../source/auth.js'
import { RateGate } from './rate-gate.js'
import { WaitPolicy } from './wait-policy.js'
import type { WaitEvent } from './wait-policy.js'

/** Settings of the HTTP engine; every field has a default. */
export interface HttpClientOptions {
  /** API base URL, e.g. `https://bolt.thena.ai`; its path (if any) prefixes every request path. */
  readonly baseUrl: string
  /** Credentials added to every request (headers and query parameters), never logged. */
  readonly auth: ResolvedAuth
  /** Headers sent with every request; the auth headers win on a clash. Default none. */
  readonly headers?: Readonly<Record<string, string>>
  /** Requests in flight at once. Default 4. */
  readonly concurrency?: number
  /** Spacing budget when the API sends no rate-limit headers; 0 = none. Default 0. */
  readonly requestsPerMinute?: number
  /** At most this many requests in any hour (a sliding window); 0 = none. Default 0. */
  readonly requestsPerHour?: number
  /** Retries of one request after a 5xx, timeout, bad body or dropped connection. Default 8. */
  readonly maxRetries?: number
  /** Waits after 429 for one request before giving up. Default 50. */
  readonly maxRateLimitWaits?: number
  /** Time allowed for headers and between body chunks, in ms. Default 30000. */
  readonly timeoutMs?: number
  /** First backoff delay in ms, doubled per retry (with jitter), capped at 30 s. Default 250. */
  readonly backoffMs?: number
  /**
   * Longest single wait in seconds (a 429's reset, a retry backoff, the rate gate); a longer
   * one ends the run with `wait_too_long` instead of sleeping. 0 = no limit. Default 300.
   */
  readonly maxWaitSeconds?: number
}

/** What the client tells its user while it works. */
export interface HttpClientEvents {
  /** A wait of `LOGGED_WAIT_MS` or more is about to start (for the log). */
  readonly onWait?: (event: WaitEvent) => void
}

/** What the client did, for the run summary and the load record. */
export interface HttpStats {
  requests: number
  retries: number
  rateLimited: number
  rateLimitWaitMs: number
}

/** Per-call options of `HttpClient.get` and `HttpClient.request`. */
export interface GetOptions {
  /** Resolve a 404 as `{ status: 404, body: null }` instead of failing. Default false. */
  readonly allowNotFound?: boolean
  /** The parent of the request's span (a resource's, a run's). Default the active context. */
  readonly trace?: Context
  /**
   * The path as declared, placeholders unfilled, for the request's span: relative to the base
   * URL's path. Default the request's path (a next link's), without its query string.
   */
  readonly route?: string
}

/** One request: a path under the base URL, or an absolute URL on its origin (a next link). */
export interface HttpRequest {
  /** HTTP method; a POST sends `body` as JSON. */
  readonly method: 'GET' | 'POST'
  /** Path relative to the base URL's path; ignored when `url` is given. */
  readonly path: string
  /** Query parameters, added to the path's or the URL's own. Default none. */
  readonly query?: Readonly<Record<string, string>>
  /** Body of a POST, sent as JSON. Default none. */
  readonly body?: unknown
  /** An absolute URL (e.g. a next link), allowed only on the base URL's origin. */
  readonly url?: string
  /** Credentials of this request instead of the client's (a resource with its own). Default the client's. */
  readonly auth?: ResolvedAuth
}

/** A JSON response. */
export interface JsonResponse {
  /** HTTP status. */
  readonly status: number
  /** The parsed body (null for an allowed 404). */
  readonly body: unknown
  /** The body as received ('' for a 404 allowed by `allowNotFound`). */
  readonly text: string
  /** Response headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

const RETRYABLE_STATUS = new Set([408, 425, 500, 502, 503, 504])

/**
 * GET or POST JSON over a keep-alive undici Pool, with the source's auth and headers, a
 * header-aware rate gate and request budget, and retries with exponential backoff and jitter.
 * 401/403 stop at once.
 */
export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0, rateLimited: 0, rateLimitWaitMs: 0 }
  readonly #pool: Pool
  readonly #queue: PQueue
  readonly #gate: RateGate
  readonly #options: Required<Omit<HttpClientOptions, 'headers'>>
  /** Default headers, then the auth headers, then `accept`, lower-case names. */
  readonly #headers: Record<string, string>
  /** The same without the auth headers (a request with its own credentials adds its own). */
  readonly #plainHeaders: Record<string, string>
  readonly #origin: string
  /** The API's host name, for traces. */
  readonly #host: string
  /** The base URL's path (`/some/prefix`), which every request path goes under. */
  readonly #prefix: string
  /** How this client's waits are bounded and reported; the run's lock waits use it too. */
  readonly waits: WaitPolicy
  /** Fired by `close()`: whatever still waits or is in flight ends, so the process can exit. */
  readonly #closing = new AbortController()
  readonly #signals = new WeakMap<AbortSignal, AbortSignal>()

  constructor(options: HttpClientOptions, events: HttpClientEvents = {}) {
    this.#options = {
      concurrency: 4,
      requestsPerMinute: 0,
      requestsPerHour: 0,
      maxRetries: 8,
      maxRateLimitWaits: 50,
      timeoutMs: 30_000,
      backoffMs: 250,
      maxWaitSeconds: 300,
      ...options,
    }
    this.#plainHeaders = {}
    for (const [name, value] of Object.entries(options.headers ?? {}))
      this.#plainHeaders[name.toLowerCase()] = value
    this.#plainHeaders.accept = 'application/json'
    this.#headers = withAuth(this.#plainHeaders, options.auth)
    this.waits = new WaitPolicy(this.#options.maxWaitSeconds * 1000, events.onWait)
    const url = new URL(options.baseUrl)
    this.#origin = url.origin
    this.#host = url.hostname
    this.#prefix = url.pathname.replace(/\/+$/, '')
    this.#pool = new Pool(url.origin, {
      connections: this.#options.concurrency,
      keepAliveTimeout: 30_000,
      headersTimeout: this.#options.timeoutMs,
      bodyTimeout: this.#options.timeoutMs,
    })
    this.#queue = new PQueue({ concurrency: this.#options.concurrency })
    const rpm = this.#options.requestsPerMinute
    this.#gate = new RateGate(
      50,
      rpm > 0 ? 60_000 / rpm : 0,
      this.waits,
      rpm,
      this.#options.requestsPerHour,
    )
  }

  /** GET `path` (relative to the base URL's path) with `query`; resolves to the parsed JSON. */
  get(
    path: string,
    query: Record<string, string> = {},
    signal?: AbortSignal,
    options: GetOptions = {},
  ): Promise<JsonResponse> {
    return this.request({ method: 'GET', path, query }, signal, options)
  }

  /**
   * Sends `req` (a POST with its body as JSON) with the auth and default headers; resolves to
   * the parsed JSON. An absolute `url` off the base URL's origin is refused: the credentials
   * go nowhere else.
   */
  request(req: HttpRequest, signal?: AbortSignal, options: GetOptions = {}): Promise<JsonResponse> {
    let target: { path: string; label: string; route: string }
    try {
      target = this.#target(req)
    } catch (error) {
      return Promise.reject(error as Error)
    }
    const stop = this.#stopSignal(signal)
    // Started now, not when the queue lets it go: its time includes the waits for a slot.
    const route = options.route === undefined ? target.route : `${this.#prefix}${options.route}`
    const span = startRequestSpan(req.method, route, this.#host, options.trace)
    const outcome: RequestOutcome = { attempts: 0, retries: 0, rateLimited: 0 }
    return endRequestSpan(
      span,
      outcome,
      this.#queue.add(() =>
        this.#requestWithRetries(req, target, stop, options, outcome),
      ) as Promise<JsonResponse>,
    )
  }

  /**
   * The request's path with every query parameter, its label for messages (without auth), and
   * its route for traces (the path alone).
   */
  #target(req: HttpRequest): { path: string; label: string; route: string } {
    let pathname: string
    const search = new URLSearchParams()
    if (req.url !== undefined) {
      let url: URL | undefined
      try {
        // Absolute, or relative to the API's origin (`/items?page=2`); anything else is refused.
        url = /^[a-z][a-z0-9+.-]*:/i.test(req.url)
          ? new URL(req.url)
          : req.url.startsWith('/') && !req.url.startsWith('//')
            ? new URL(req.url, this.#origin)
            : undefined
      } catch {
        url = undefined
      }
      if (url?.origin !== this.#origin)
        throw new TerminalError(
          'pagination_foreign_url',
          `${req.method} ${url ? url.origin : 'a next link that is not a URL'}: refused, as it is not on the API's origin ${this.#origin} (the credentials are never sent elsewhere)`,
        )
      pathname = url.pathname
      for (const [name, value] of url.searchParams) search.append(name, value)
    } else pathname = `${this.#prefix}${req.path}`
    for (const [name, value] of Object.entries(req.query ?? {})) search.set(name, value)
    const shown = search.toString()
    for (const [name, value] of Object.entries((req.auth ?? this.#options.auth).query))
      search.set(name, value)
    const sent = search.toString()
    return {
      path: `${pathname}${sent ? `?${sent}` : ''}`,
      label: `${req.method} ${this.#origin}${pathname}${shown ? `?${shown}` : ''}`,
      route: pathname,
    }
  }

  /** Ends every wait and request still going (their callers get an AbortError), then the pool. */
  async close(): Promise<void> {
    this.#closing.abort()
    await this.#pool.close()
  }

  /** `signal`, or the client closing, whichever comes first (one combined signal per signal). */
  #stopSignal(signal: AbortSignal | undefined): AbortSignal {
    if (!signal) return this.#closing.signal
    let stop = this.#signals.get(signal)
    if (!stop) this.#signals.set(signal, (stop = AbortSignal.any([signal, this.#closing.signal])))
    return stop
  }

  async #requestWithRetries(
    req: HttpRequest,
    { path: target, label }: { path: string; label: string },
    signal: AbortSignal,
    options: GetOptions,
    outcome: RequestOutcome,
  ): Promise<JsonResponse> {
    const post = req.method === 'POST'
    const body = post && req.body !== undefined ? JSON.stringify(req.body) : undefined
    const own = req.auth ? withAuth(this.#plainHeaders, req.auth) : this.#headers
    const headers = body === undefined ? own : { ...own, 'content-type': 'application/json' }
    let failures = 0
    let rateLimitWaits = 0
    for (;;) {
      outcome.retries = failures
      signal.throwIfAborted()
      await this.#gate.acquire(signal)
      this.stats.requests++
      outcome.attempts++
      let res: Dispatcher.ResponseData
      let text: string
      try {
        res = await this.#pool.request({
          path: target,
          method: req.method,
          headers,
          ...(body !== undefined && { body }),
          signal,
        })
      } catch (error) {
        this.#gate.release()
        if (signal.aborted) throw error
        // Not the network: a request undici will never send (a header or path it refuses).
        // Retried, each attempt leaks one of the pool's slots until a request never settles.
        if (error instanceof undiciErrors.InvalidArgumentError)
          throw new TerminalError(
            'http_request_invalid',
            `${label} cannot be sent: ${error.message}`,
          )
        failures = await this.#backoffOrThrow(failures, label, describeNetworkError(error), signal)
        continue
      }
      this.#gate.release(res.headers)
      try {
        text = await res.body.text()
      } catch (error) {
        if (signal.aborted) throw error
        failures = await this.#backoffOrThrow(
          failures,
          label,
          `connection lost while reading the body (${describeNetworkError(error)})`,
          signal,
        )
        continue
      }
      const status = res.statusCode
      outcome.status = status
      if (status >= 200 && status < 300) {
        try {
          return { status, body: JSON.parse(text) as unknown, text, headers: res.headers }
        } catch (error) {
          const reason = `the body is not valid JSON (${text.length} bytes: ${(error as Error).message})`
          if (failures >= this.#options.maxRetries)
            throw new InvalidBodyError(
              `${label} failed after ${failures + 1} attempts: ${reason}`,
              text,
            )
          failures = await this.#backoffOrThrow(failures, label, reason, signal)
          continue
        }
      }
      if (status === 404 && options.allowNotFound)
        return { status, body: null, text: '', headers: res.headers }
      if (status === 401 || status === 403) {
        throw new HttpRefusedError(
          status,
          excerpt(text),
          `the API refused the token (HTTP ${status}) for ${label}: check ${(req.auth ?? this.#options.auth).describe}`,
        )
      }
      if (status === 429) {
        this.stats.rateLimited++
        outcome.rateLimited++
        if (++rateLimitWaits > this.#options.maxRateLimitWaits) {
          throw new TransientError(
            'http_rate_limited',
            `${label}: still rate limited after ${rateLimitWaits - 1} waits`,
          )
        }
        const { resetAt, why } = this.#resetTime(res.headers, rateLimitWaits)
        const wait = Math.max(0, resetAt - Date.now())
        const reason = `${label}: rate limited by the API (429, ${why})`
        // Checked before the gate learns of the reset: a wait the run will not make must not
        // hold back the requests that end the run.
        this.waits.check(wait, reason)
        this.#gate.exhausted(resetAt, reason)
        this.stats.rateLimitWaitMs += wait
        await this.waits.wait(wait, reason, signal)
        continue
      }
      if (RETRYABLE_STATUS.has(status) || status > 500) {
        failures = await this.#backoffOrThrow(
          failures,
          label,
          `HTTP ${status}: ${excerpt(text)}`,
          signal,
        )
        continue
      }
      throw new TerminalError('http_client_error', `${label} -> HTTP ${status}: ${excerpt(text)}`)
    }
  }

  /**
   * When the window resets (X-RateLimit-Reset, else Retry-After, else exponential backoff), and
   * which header said so.
   */
  #resetTime(
    headers: Dispatcher.ResponseData['headers'],
    attempt: number,
  ): { resetAt: number; why: string } {
    const now = Date.now()
    // A reset already past (or a zero or negative delay) would ask again at once: after a 429,
    // up to 50 times in a burst. Such a header is ignored, and the client backs off.
    const reset = Number(headers['x-ratelimit-reset'])
    const resetAt = (reset > 1e9 ? reset * 1000 : now + reset * 1000) + 50
    if (Number.isFinite(reset) && reset > 0 && resetAt > now + 50)
      return { resetAt, why: `X-RateLimit-Reset ${reset}` }
    const retryAfter = headers['retry-after']
    if (typeof retryAfter === 'string') {
      const seconds = Number(retryAfter)
      if (Number.isFinite(seconds) && seconds > 0)
        return { resetAt: now + seconds * 1000, why: `Retry-After ${seconds} s` }
      const date = Date.parse(retryAfter)
      if (Number.isFinite(date) && date > now)
        return { resetAt: date, why: `Retry-After ${retryAfter}` }
    }
    return {
      resetAt: now + this.#backoffDelay(attempt - 1),
      why: `no reset header ahead, backing off (wait ${attempt})`,
    }
  }

  #backoffDelay(attempt: number): number {
    const ceiling = Math.min(30_000, this.#options.backoffMs * 2 ** attempt)
    return ceiling / 2 + Math.random() * (ceiling / 2)
  }

  async #backoffOrThrow(
    failures: number,
    label: string,
    reason: string,
    signal: AbortSignal,
  ): Promise<number> {
    if (failures >= this.#options.maxRetries) {
      throw new TransientError(
        'http_failed',
        `${label} failed after ${failures + 1} attempts: ${reason}`,
      )
    }
    this.stats.retries++
    await this.waits.wait(
      this.#backoffDelay(failures),
      `${label}: retry ${failures + 1} of ${this.#options.maxRetries} after ${reason}`,
      signal,
    )
    return failures + 1
  }
}

/** `headers` with the auth headers added, names in lower case. */
function withAuth(
  headers: Readonly<Record<string, string>>,
  auth: ResolvedAuth,
): Record<string, string> {
  const all = { ...headers }
  for (const [name, value] of Object.entries(auth.headers)) all[name.toLowerCase()] = value
  return all
}

function describeNetworkError(error: unknown): string {
  if (error instanceof undiciErrors.UndiciError) return `${error.code}: ${error.message}`
  if (error instanceof Error) {
    const code = (error as { code?: string }).code
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    return [code, error.message, cause?.code].filter(Boolean).join(': ')
  }
  return String(error)
}

// Redacted before it is cut: a secret cut in half no longer matches.
const excerpt = (text: string) => redactor.redact(text).replace(/\s+/g, ' ').slice(0, 200)

/**
 * The API refused the request (401, 403): the credentials, or the account's access to this
 * endpoint (a plan's tier). Code `http_unauthorized`.
 */
export class HttpRefusedError extends TerminalError {
  constructor(
    /** 401 or 403. */
    readonly status: number,
    /** The start of the body, secrets redacted, whitespace folded. */
    readonly body: string,
    message: string,
  ) {
    super('http_unauthorized', message)
  }
}

/** A page whose body stayed invalid JSON through every retry; it carries the last body. */
export class InvalidBodyError extends TransientError {
  constructor(
    message: string,
    /** The body as received, for the rejects table. */
    readonly body: string,
  ) {
    super('http_invalid_json', message)
  }
}
