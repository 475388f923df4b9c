import { TerminalError } from '../errors.js'
import type { HttpClient, JsonResponse } from '../http/http-client.js'
import { nextPosition, pageQuery, positionKey, valueAt } from '../http/paginator.js'
import type { PagePosition, ResolvedPaginator } from '../http/paginator.js'

/** One page of a resource, with where it was fetched from and where the next one is. */
export interface FetchedPage {
  readonly records: readonly unknown[]
  /** The position this page was fetched at (undefined = the first page). */
  readonly position: PagePosition | undefined
  /** The position of the next page, or undefined when this was the last. */
  readonly next: PagePosition | undefined
  /** The response body as received. */
  readonly text: string
}

/** What `walkResource` needs to know about the endpoint. */
export interface WalkTarget {
  readonly path: string
  readonly recordsPath: readonly string[]
  readonly paginator: ResolvedPaginator
  /** Extra query parameters sent with every page (e.g. date filters). */
  readonly query?: Readonly<Record<string, string>>
}

/** The records of a response, or undefined when they are not where the target says. */
export const recordsOf = (target: WalkTarget, body: unknown): unknown =>
  target.recordsPath.length === 0 ? body : valueAt(body, target.recordsPath)

/** One page of `target` at `position`, as the API answers it. */
export const fetchPageAt = (
  client: HttpClient,
  target: WalkTarget,
  position: PagePosition | undefined,
  signal?: AbortSignal,
): Promise<JsonResponse> =>
  client.get(target.path, { ...target.query, ...pageQuery(target.paginator, position) }, signal)

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
    const { body, text } = known ?? (await fetchPageAt(client, target, position, signal))
    const records = recordsOf(target, body)
    if (!Array.isArray(records)) {
      const where =
        target.recordsPath.length === 0 ? 'the top level' : `\`${target.recordsPath.join('.')}\``
      throw new TerminalError(
        'unexpected_response',
        `GET ${target.path}: expected an array of records at ${where}`,
      )
    }
    return {
      records,
      position,
      next: nextPosition(target.paginator, position, body, records.length),
      text,
    }
  }
  let pending = fetchPage(start)
  let previous: string | undefined
  try {
    for (;;) {
      const page = await pending
      // An API that ignores the page parameter serves the same page forever.
      if (page.records.length > 0 && page.text === previous)
        throw new TerminalError(
          'pagination_loop',
          `GET ${target.path}: the API served the same page twice in a row: stopping instead of looping (check the paginator settings)`,
        )
      previous = page.text
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
