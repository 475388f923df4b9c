import { TerminalError } from '../errors.js'
import type { HttpClient, JsonResponse } from '../http/http-client.js'
import { nextPosition, pageQuery, valueAt } from '../http/paginator.js'
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

/**
 * Pages through an endpoint from `start` to the end, oldest first. The next page is requested
 * while the caller works on the current one; memory holds at most two pages.
 */
export async function* walkResource(
  client: HttpClient,
  target: WalkTarget,
  start: PagePosition | undefined,
  signal?: AbortSignal,
  /** The response for `start`, when the caller already has it. */
  startResponse?: JsonResponse,
): AsyncGenerator<FetchedPage> {
  const fetchPage = async (position: PagePosition | undefined): Promise<FetchedPage> => {
    const query = { ...target.query, ...pageQuery(target.paginator, position) }
    const { body, text } =
      position === start && startResponse !== undefined
        ? startResponse
        : await client.get(target.path, query, signal)
    const records = target.recordsPath.length === 0 ? body : valueAt(body, target.recordsPath)
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
  try {
    for (;;) {
      const page = await pending
      if (page.next) pending = fetchPage(page.next)
      yield page
      if (!page.next) return
    }
  } finally {
    // The caller may stop early: a prefetch still in flight must not become an unhandled rejection.
    pending.catch(() => undefined)
  }
}
