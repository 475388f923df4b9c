import type { Context } from '@opentelemetry/api'
import type { ResolvedResource } from '../config/resolve-pipeline.js'
import { TerminalError } from '../errors.js'
import type { ResolvedAuth } from '../source/auth.js'
import type { HttpClient, JsonResponse } from '../http/http-client.js'
import { valueAt } from '../core/json-path.js'
import type { FetchedPage } from '../source/incremental/strategy.js'
import { positionKey } from '../source/incremental/strategy.js'
import type { PagePosition, Paginator } from '../source/paginators/paginator.js'

export type { FetchedPage }

/** What `walkResource` needs to know about the endpoint. */
export interface WalkTarget {
  readonly path: string
  readonly recordsPath: readonly string[]
  readonly paginator: Paginator
  /** Extra query parameters sent with every page (e.g. date filters). */
  readonly query?: Readonly<Record<string, string>>
  /** The records path holds one object (a snapshot), not an array. Default false. */
  readonly single?: boolean
  /** Default `GET`; a `POST` sends `body`, with the paginator's fields, as JSON. */
  readonly method?: 'GET' | 'POST'
  readonly body?: Readonly<Record<string, unknown>>
  /** Credentials of this endpoint instead of the client's. */
  readonly auth?: ResolvedAuth
  /** The records' key, for telling a page served twice. Default none. */
  readonly primaryKey?: string
  /** A 404 is a list with no records (a child's parent deleted since it was read). Default false. */
  readonly notFoundIsEmpty?: boolean
  /** The parent of the pages' request spans (the resource's). Default the active context. */
  readonly trace?: Context
  /** The path as declared (placeholders unfilled), for the request spans. Default `path`. */
  readonly route?: string
}

/** The endpoint of a resource, with a plan's extra parameters. */
export const walkTargetOf = (
  resource: Pick<
    ResolvedResource,
    | 'path'
    | 'recordsPath'
    | 'resolvedPaginator'
    | 'single'
    | 'params'
    | 'method'
    | 'body'
    | 'resolvedAuth'
    | 'primaryKey'
    | 'single'
  >,
  query: Readonly<Record<string, string>> = {},
): WalkTarget => ({
  path: resource.path,
  recordsPath: resource.recordsPath,
  paginator: resource.resolvedPaginator,
  query: { ...resource.params, ...query },
  single: resource.single,
  ...(!resource.single && { primaryKey: resource.primaryKey }),
  method: resource.method ?? 'GET',
  body: resource.body,
  ...(resource.resolvedAuth && { auth: resource.resolvedAuth }),
})

/** The keys of a page's records, as one string (a page of records without keys: undefined). */
function keysOf(records: readonly unknown[], key: string): string | undefined {
  const keys: string[] = []
  for (const record of records) {
    const value = valueAt(record, [key])
    if (value === undefined || value === null) return undefined
    keys.push(String(value))
  }
  return keys.join('\u0001')
}

/** The records of a response, or undefined when they are not where the target says. */
export const recordsOf = (target: Pick<WalkTarget, 'recordsPath'>, body: unknown): unknown =>
  target.recordsPath.length === 0 ? body : valueAt(body, target.recordsPath)

/** One page of `target` at `position`, as the API answers it. */
export function fetchPageAt(
  client: HttpClient,
  target: WalkTarget,
  position: PagePosition | undefined,
  signal?: AbortSignal,
): Promise<JsonResponse> {
  const page = target.paginator.request(position)
  const post = target.method === 'POST'
  return client.request(
    {
      method: target.method ?? 'GET',
      path: target.path,
      query: { ...target.query, ...page.query },
      ...(post && { body: { ...target.body, ...page.body } }),
      ...(page.url !== undefined && { url: page.url }),
      ...(target.auth && { auth: target.auth }),
    },
    signal,
    {
      ...(target.notFoundIsEmpty && { allowNotFound: true }),
      route: target.route ?? target.path,
      ...(target.trace && { trace: target.trace }),
    },
  )
}

/**
 * Pages through an endpoint from `start` to the end, oldest first. The next page is requested
 * while the caller works on the current one; memory holds at most two pages, plus the
 * responses the caller already has (`prefetched`, by `positionKey`), used once each.
 */
export async function* walkResource(
  client: HttpClient,
  target: WalkTarget,
  start: PagePosition | undefined,
  signal?: AbortSignal,
  prefetched?: Map<string, JsonResponse>,
): AsyncGenerator<FetchedPage> {
  const fetchPage = async (position: PagePosition | undefined): Promise<FetchedPage> => {
    const key = positionKey(position)
    const known = prefetched?.get(key)
    prefetched?.delete(key)
    const { body, text, headers, status } =
      known ?? (await fetchPageAt(client, target, position, signal))
    if (status === 404 && target.notFoundIsEmpty)
      return { records: [], position, next: undefined, text, notFound: true }
    const found = recordsOf(target, body)
    const single = target.single && typeof found === 'object' && !Array.isArray(found)
    const records = single ? (found === null ? [] : [found]) : found
    if (!Array.isArray(records)) {
      const where =
        target.recordsPath.length === 0 ? 'the top level' : `\`${target.recordsPath.join('.')}\``
      throw new TerminalError(
        'unexpected_response',
        `${target.method ?? 'GET'} ${target.path}: expected ${target.single ? 'an object' : 'an array of records'} at ${where}`,
      )
    }
    return {
      records,
      position,
      next: target.paginator.next(position, { body, headers, records: records.length }),
      text,
    }
  }
  let pending = fetchPage(start)
  let previous: string | undefined
  let previousKeys: string | undefined
  const visited = new Set([positionKey(start)])
  const loop = (what: string) =>
    new TerminalError(
      'pagination_loop',
      `${target.method ?? 'GET'} ${target.path}: ${what}: stopping instead of looping (check the paginator settings)`,
    )
  try {
    for (;;) {
      const page = await pending
      // An API that ignores the page parameter serves the same page forever, perhaps with a
      // request id or a timestamp that differs: the records' keys tell.
      const keys = target.primaryKey ? keysOf(page.records, target.primaryKey) : undefined
      if (page.records.length > 0 && (page.text === previous || (keys && keys === previousKeys)))
        throw loop('the API served the same page twice in a row')
      previous = page.text
      previousKeys = keys
      // A cursor going round (A, B, A) never repeats the one just sent.
      if (page.next && visited.has(positionKey(page.next)))
        throw loop('the API sent the walk back to a page it already read')
      if (page.next) visited.add(positionKey(page.next))
      if (page.next) {
        pending = fetchPage(page.next)
        // It may fail while the caller still works on this page (a wait the run will not
        // make fails at once): awaited below, it must not count as unhandled meanwhile.
        pending.catch(() => undefined)
      }
      yield page
      if (!page.next) return
    }
  } finally {
    // The caller may stop early: a prefetch still in flight must not become an unhandled rejection.
    pending.catch(() => undefined)
  }
}

/**
 * Where a walk that resumes at `start` must begin so that it skips nothing, for positions
 * that shift when the source deletes records: the page at `start` is read, and while it does
 * not `cover` what the last run committed (an empty page, or one that starts after it), the
 * walk steps back a page. At most `keep` pages read on the way are kept in `pages` for the walk.
 */
export async function locateStart(
  client: HttpClient,
  target: WalkTarget,
  start: PagePosition | undefined,
  covers: ((records: readonly unknown[]) => boolean) | undefined,
  pages: Map<string, JsonResponse>,
  keep: number,
  signal?: AbortSignal,
): Promise<PagePosition | undefined> {
  if (!target.paginator.positionsShift || !covers || start === undefined) return start
  let position = start
  for (;;) {
    const key = positionKey(position)
    const response = pages.get(key) ?? (await fetchPageAt(client, target, position, signal))
    if (pages.size < keep) pages.set(key, response)
    const records = recordsOf(target, response.body)
    // A page that does not parse is the walk's to report.
    if (!Array.isArray(records) || (records.length > 0 && covers(records))) return position
    const previous = target.paginator.previous(position)
    if (!previous) return position
    if (previous.position === undefined) return undefined
    position = previous.position
  }
}
