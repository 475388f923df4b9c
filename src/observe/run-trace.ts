import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Attributes, Context, Span } from '@opentelemetry/api'
import { ThenaSyncError } from '../errors.js'
import type { Reject } from '../normalize/normalizer.js'
import type { RunResult } from '../pipeline/run-stats.js'
import { redactor } from '../redactor.js'

/**
 * Spans of a run, through `@opentelemetry/api` only: without a registered tracer provider
 * (no `OTEL_EXPORTER_OTLP_ENDPOINT`, see `start-tracing.ts`) every span is the API's no-op one
 * and no attribute is computed. Attributes carry names and counts, never a secret, a query
 * string or a record's content (docs/decisions.md #75).
 *
 * Parents are passed explicitly (a `Context` holding the parent span), not taken from the
 * active context: no async-hooks context manager is installed, and passed parents make the
 * prefetch of a page (requested while the batch before commits) the resource's child whatever
 * async context resumes the page generator.
 */

/** The name the engine's tracer is registered under. */
export const TRACER_NAME = 'thena-sync'

/** Span names; a request span is named `METHOD route` (`GET /rest/v2/requests`). */
export const SPAN_NAMES = { run: 'run', resource: 'resource', commit: 'commit' } as const

const tracer = () => trace.getTracer(TRACER_NAME)

/** What a commit wrote, for its span and its resource's. */
export interface CommitSpanCounts {
  /** Records committed, of the resource and of the records its lookups filled. */
  readonly records: number
  /** Records rejected (invalid, or refused by the destination and quarantined). */
  readonly rejects: number
  /** Records on re-read pages skipped as unchanged. */
  readonly unchanged: number
}

/**
 * The one-line, redacted message of an error, without any URL's query string and without the
 * response body the HTTP client's messages quote (`HTTP 400: {...}`, a JSON parser's excerpt):
 * the logs and the load row keep those, a span does not.
 */
export function spanMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return (
    redactor
      .redact(text)
      .replace(/\s+/g, ' ')
      // A URL in a message (`GET https://host/path?cursor=...`) loses its query: a cursor or a
      // filter value may carry data.
      .replace(/(\bhttps?:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1')
      // What an API answered may echo a record; it always ends the message.
      .replace(/(\bHTTP \d{3}): .*$/, '$1')
      .replace(/(not valid JSON \(\d+ bytes): .*$/, '$1)')
      .trim()
      .slice(0, 500)
  )
}

/** Ends `span` as failed with `error`'s redacted one-line message and its code. */
export function failSpan(span: Span, error: unknown): void {
  if (span.isRecording()) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: spanMessage(error) })
    span.setAttribute(
      'error.type',
      error instanceof ThenaSyncError ? error.code : error instanceof Error ? error.name : 'error',
    )
  }
  span.end()
}

/** A run's span: the parent of its resources' spans and of the preflight request's. */
export class RunTrace {
  readonly #span: Span
  /** The context holding the run's span: the parent of its children. */
  readonly context: Context

  /** Starts the span of a run of `pipeline`, under `parent` (default the active context). */
  constructor(pipeline: string, mode: string, parent: Context = context.active()) {
    this.#span = tracer().startSpan(
      SPAN_NAMES.run,
      { attributes: { 'thena.pipeline': pipeline, 'thena.mode': mode } },
      parent,
    )
    this.context = trace.setSpan(parent, this.#span)
  }

  /** A resource's span under the run's. */
  resource(pipeline: string, name: string): ResourceTrace {
    return new ResourceTrace(this.context, pipeline, name)
  }

  /** Ends the span with the run's outcome and counters; returns `result`. */
  end(result: RunResult): RunResult {
    const span = this.#span
    if (span.isRecording()) {
      span.setAttributes({
        ...(result.loadId && { 'thena.load_id': result.loadId }),
        'thena.status': result.status,
        'thena.records': result.records,
        'thena.rejects': result.rejects,
        'thena.unchanged': result.unchanged,
        'thena.requests': result.requests,
        'thena.retries': result.retries,
        'thena.rate_limited_responses': result.rateLimited,
        ...(result.deleted ? { 'thena.deleted': result.deleted } : {}),
      })
    }
    if (result.error !== undefined && result.status === 'failed') failSpan(span, result.error)
    else span.end()
    return result
  }

  /** Ends the span of a run that threw (a configuration error). */
  fail(error: unknown): void {
    failSpan(this.#span, error)
  }
}

/** A resource's span: the parent of its pages' requests, its lookups' and its commits' spans. */
export class ResourceTrace {
  readonly #span: Span
  /** The context holding the resource's span: the parent of its children. */
  readonly context: Context
  #records = 0
  #rejects = 0
  #unchanged = 0
  #commits = 0

  constructor(parent: Context, pipeline: string, name: string) {
    this.#span = tracer().startSpan(
      SPAN_NAMES.resource,
      { attributes: { 'thena.pipeline': pipeline, 'thena.resource': name } },
      parent,
    )
    this.context = trace.setSpan(parent, this.#span)
  }

  /** The span of a commit of this resource's batch, not started yet (see `CommitTrace`). */
  commit(name: string, counts: CommitSpanCounts): CommitTrace {
    return new CommitTrace(this, name, counts)
  }

  /** Adds a committed batch to the resource's counts. */
  committed(counts: CommitSpanCounts): void {
    this.#records += counts.records
    this.#rejects += counts.rejects
    this.#unchanged += counts.unchanged
    this.#commits++
  }

  /** Ends the span: `pages` read; `outcome` a failure, or a skip (`skipped: …`). */
  end(pages: number, outcome?: { readonly error: unknown } | { readonly skipped: true }): void {
    const span = this.#span
    if (span.isRecording())
      span.setAttributes({
        'thena.records': this.#records,
        'thena.rejects': this.#rejects,
        'thena.unchanged': this.#unchanged,
        'thena.pages': pages,
        'thena.commits': this.#commits,
        ...(outcome && 'skipped' in outcome && { 'thena.skipped': true }),
      })
    if (outcome && 'error' in outcome) failSpan(span, outcome.error)
    else span.end()
  }
}

/**
 * The span of one batch's commit, under its resource's: started by the committer when the
 * transaction begins (after the commit before it), ended when it settles.
 */
export class CommitTrace {
  #span: Span | undefined

  constructor(
    readonly resource: ResourceTrace,
    readonly name: string,
    readonly counts: CommitSpanCounts,
  ) {}

  /** The transaction begins. */
  start(): void {
    this.#span = tracer().startSpan(
      SPAN_NAMES.commit,
      { attributes: { 'thena.resource': this.name } },
      this.resource.context,
    )
  }

  /** The transaction committed; `quarantined` are the records the destination refused. */
  committed(quarantined: readonly Reject[]): void {
    const q = quarantined.length
    const counts = {
      records: this.counts.records - q,
      rejects: this.counts.rejects + q,
      unchanged: this.counts.unchanged,
    }
    this.resource.committed(counts)
    const span = this.#span
    if (span?.isRecording())
      span.setAttributes({
        'thena.records': counts.records,
        'thena.rejects': counts.rejects,
        'thena.unchanged': counts.unchanged,
        'thena.quarantined': q,
      })
    span?.end()
  }

  /** The transaction failed. */
  failed(error: unknown): void {
    if (this.#span) failSpan(this.#span, error)
  }
}

/** What happened to one HTTP request through its retries, for its span. */
export interface RequestOutcome {
  /** The last response's status. */
  status?: number
  /** Times it was sent. */
  attempts: number
  /** Retries after a 5xx, a timeout, a bad body, a dropped connection. */
  retries: number
  /** Answers 429 (rate limited). */
  rateLimited: number
}

/**
 * Starts the span of an HTTP request (a CLIENT span named `METHOD route`), under `parent`
 * (default the active context). `route` is the path as declared, without query string,
 * placeholders unfilled.
 */
export function startRequestSpan(
  method: string,
  route: string,
  host: string,
  parent: Context = context.active(),
): Span {
  const span = tracer().startSpan(method, { kind: SpanKind.CLIENT }, parent)
  if (!span.isRecording()) return span
  // A base URL's path may hold a key: what the configuration declared secret never gets out.
  const path = redactor.redact(route)
  span.updateName(`${method} ${path}`)
  const attributes: Attributes = {
    'http.request.method': method,
    'url.template': path,
    'server.address': host,
  }
  span.setAttributes(attributes)
  return span
}

/** Ends a request's span when `done` settles; returns `done`. */
export function endRequestSpan<T>(
  span: Span,
  outcome: Readonly<RequestOutcome>,
  done: Promise<T>,
): Promise<T> {
  if (!span.isRecording()) return done
  const attributes = () => ({
    ...(outcome.status !== undefined && { 'http.response.status_code': outcome.status }),
    'http.request.resend_count': Math.max(0, outcome.attempts - 1),
    'thena.retries': outcome.retries,
    'thena.rate_limited': outcome.rateLimited > 0,
    'thena.rate_limited_responses': outcome.rateLimited,
  })
  done.then(
    () => {
      span.setAttributes(attributes())
      span.end()
    },
    (error: unknown) => {
      span.setAttributes(attributes())
      failSpan(span, error)
    },
  )
  return done
}
